//! Indeed XML feed: the document Indeed crawls (BOARDS.md §2 row 1, §3.1).
//!
//! Documented: `<source>` with optional `<publisher>`/`<publisherurl>`, one
//! `<job>` per job *instance*, that is per location: `referencenumber` unique
//! per instance and never changed, `requisitionid` shared by every instance of
//! the role; text in CDATA; **no HTML entities anywhere** (literal characters
//! only); the feed holds every open job (a job dropped from it is expired);
//! `date` in ISO 8601; `email` is the client's Indeed account e-mail; `url`
//! is the job's description page, not the application page (ours,
//! `/jobs/<reference>`, see [`crate::feeds::job_pages`]); `sourcename` the
//! employer's name; `jobtype` one of `fulltime`, `parttime`, `contract`,
//! `temporary`, `internship` (docs/boards/indeed-feed.md lists the sources).
//! Inferred [I]: the instance of the n-th location (n ≥ 1) is referenced
//! `<reference>-<n>` (the first keeps our reference), so a location added at
//! the end never renumbers the others, and every instance links to the one
//! job page; a volunteer or "other" job has no `jobtype`; the description
//! keeps its structure tags (`<p>`, `<h3>`, `<ul>`, `<li>`) and writes the
//! ad's text as literal characters, never an entity; the crawl report (what
//! the crawler refused) is modelled on Indeed's feed status page.

use super::feed::{FeedEntry, FeedFormat, Item, exact_bytes, framed, joined};
use super::indeed::MAX_TITLE;
use super::render::{cdata_element, check_max, headings};
use super::{BoardConfig, BoardError, BuildError};
use crate::feeds::job_pages::JobPages;
use crate::intake::message::{EmploymentType, LocalizedAd, Workplace};
use bytes::Bytes;

pub const ID: &str = "indeed-feed";
pub const MECHANISM: &str = "pull XML feed (<source><job>, CDATA), crawled from /feeds/indeed.xml";
const NAME: &str = "Indeed";
/// Indeed's Job Sync limit, the only documented one; the feed shares the index.
const MAX_DESCRIPTION_BYTES: usize = 65_000;

pub struct IndeedFeed {
    /// `<publisher>`: who builds the feed.
    pub publisher: String,
    pub publisher_url: Option<String>,
    /// `<email>`: the client's Indeed account, used to verify the business.
    pub account_email: Option<String>,
    /// Where the job pages `<url>` points at live.
    pub pages: JobPages,
}

impl IndeedFeed {
    pub fn new(config: &BoardConfig<'_>, pages: JobPages) -> Result<Self, BuildError> {
        Ok(Self {
            pages,
            publisher: config
                .settings
                .options
                .get("publisher")
                .cloned()
                .unwrap_or_else(|| "boardcast".to_owned()),
            publisher_url: config.settings.options.get("publisher_url").cloned(),
            account_email: config.settings.options.get("account_email").cloned(),
        })
    }
}

/// Indeed's `jobtype` value, where the feed documents one.
pub fn job_type(kind: EmploymentType) -> Option<&'static str> {
    Some(match kind {
        EmploymentType::FullTime => "fulltime",
        EmploymentType::PartTime => "parttime",
        EmploymentType::Contract => "contract",
        EmploymentType::Temporary => "temporary",
        EmploymentType::Internship => "internship",
        EmploymentType::Volunteer | EmploymentType::Other => return None,
    })
}

/// The ad as the feed's HTML: structure tags around the ad's text written
/// as literal characters, since Indeed reads no HTML entity ("use literal
/// characters instead of HTML entities").
pub fn description(ad: &LocalizedAd, locale: &str) -> String {
    let titles = headings(locale);
    let mut html = format!("<p>{}</p>", ad.summary);
    for (heading, items) in [
        (titles.responsibilities, &ad.responsibilities),
        (titles.requirements, &ad.requirements),
        (titles.benefits, &ad.benefits),
    ] {
        if items.is_empty() {
            continue;
        }
        html.push_str(&format!("<h3>{heading}</h3><ul>"));
        for item in items {
            html.push_str(&format!("<li>{item}</li>"));
        }
        html.push_str("</ul>");
    }
    html
}

/// The `referencenumber` of the n-th location instance of a posting.
pub fn instance_reference(reference: &str, index: usize) -> String {
    if index == 0 {
        reference.to_owned()
    } else {
        format!("{reference}-{index}")
    }
}

impl FeedFormat for IndeedFeed {
    fn id(&self) -> &'static str {
        ID
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn file_name(&self) -> &'static str {
        "indeed.xml"
    }

    fn items(&self, entry: &FeedEntry<'_>) -> Result<String, BoardError> {
        self.item_pieces(entry).map(|pieces| joined(&pieces))
    }

    /// One `<job>` per location. Everything from the description on is the
    /// same in each: that piece is rendered once and shared, so a job in
    /// six cities is cached with one copy of its description, not six.
    fn item_pieces(&self, entry: &FeedEntry<'_>) -> Result<Item, BoardError> {
        let posting = &entry.posting;
        let job = posting.job;
        let ad = posting.ad;
        check_max(NAME, "title", &ad.title, MAX_TITLE)?;
        let description = description(ad, posting.locale);
        if description.len() > MAX_DESCRIPTION_BYTES {
            super::preview::broken(format!(
                "description is {} bytes; {NAME} allows {MAX_DESCRIPTION_BYTES}",
                description.len()
            ))?;
        }
        let url = self.pages.url(posting.reference);
        if job.locations.is_empty() {
            super::preview::broken(
                "Indeed's feed lists a job once per location; the job has none",
            )?;
        }
        let date = entry
            .first_published
            .format(&time::format_description::well_known::Rfc3339)
            .expect("a UTC time formats");
        let mut shared = cdata_element("description", &description);
        if let Some(salary) = &job.salary {
            let period = format!("{:?}", salary.period).to_lowercase();
            shared.push_str(&cdata_element(
                "salary",
                &format!(
                    "{} {}-{} per {period}",
                    salary.currency, salary.min, salary.max
                ),
            ));
        }
        if let Some(kind) = job_type(job.employment_type) {
            shared.push_str(&cdata_element("jobtype", kind));
        }
        if let Some(category) = &job.category {
            shared.push_str(&cdata_element("category", category));
        }
        if let Some(valid_through) = job.valid_through {
            shared.push_str(&cdata_element(
                "expirationdate",
                &valid_through.date().to_string(),
            ));
        }
        match job.workplace {
            Workplace::OnSite => {}
            Workplace::Hybrid => shared.push_str(&cdata_element("remotetype", "Hybrid remote")),
            Workplace::Remote => shared.push_str(&cdata_element("remotetype", "Fully remote")),
        }
        shared.push_str("</job>");
        let shared = exact_bytes(shared);
        let mut pieces = Vec::with_capacity(2 * job.locations.len());
        for (index, location) in job.locations.iter().enumerate() {
            let mut xml = String::from("<job>");
            xml.push_str(&cdata_element("title", &ad.title));
            xml.push_str(&cdata_element("date", &date));
            xml.push_str(&cdata_element(
                "referencenumber",
                &instance_reference(posting.reference, index),
            ));
            xml.push_str(&cdata_element("requisitionid", &job.id));
            xml.push_str(&cdata_element("url", &url));
            xml.push_str(&cdata_element("company", &job.company.name));
            xml.push_str(&cdata_element("sourcename", &job.company.name));
            xml.push_str(&cdata_element("city", &location.city));
            if let Some(region) = &location.region {
                xml.push_str(&cdata_element("state", region));
            }
            xml.push_str(&cdata_element("country", &location.country));
            if let Some(postal_code) = &location.postal_code {
                xml.push_str(&cdata_element("postalcode", postal_code));
            }
            if let Some(email) = &self.account_email {
                xml.push_str(&cdata_element("email", email));
            }
            pieces.push(exact_bytes(xml));
            pieces.push(shared.clone());
        }
        Ok(pieces)
    }

    fn parts(&self, items: &[Item]) -> Vec<Bytes> {
        let mut head = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<source>");
        head.push_str(&cdata_element("publisher", &self.publisher));
        if let Some(url) = &self.publisher_url {
            head.push_str(&cdata_element("publisherurl", url));
        }
        framed(head, items, "", "</source>\n")
    }
}
