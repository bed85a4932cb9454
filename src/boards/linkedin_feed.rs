//! LinkedIn Limited Listings (Basic Jobs) XML feed: the document LinkedIn
//! crawls (BOARDS.md §2 row 4, §3.4).
//!
//! Documented [V LI-XML]: every `<job>` carries `partnerJobId` (≤ 40
//! characters), `company`, `title` (**cannot be changed once the job is
//! posted**), `description` (at least 100 characters, a limited set of HTML
//! tags), `location` (US: "City, ST", for example "San Francisco, CA"; elsewhere
//! "City, Country" [V2 QHSE]), `applyUrl` (a URL starting with `https://www`)
//! and `companyId` (the client's LinkedIn company page id, mandatory for ATSs);
//! optional feed-level `lastBuildDate`, `publisherURL`, `publisher` and
//! `expectedJobCount` ("expected job count for the next feed scrape"); the
//! feed holds every open job and a job dropped from it is closed [V2 WAYMARK].
//!
//! `posterEmail` (the job poster's e-mail) is mandatory since June 2025: the
//! message's `job.poster`, else the tenant's default (`[tenants.<id>]
//! poster_email`); a job with neither is refused and left out of the feed.
//! The publisher URL is spelled `publisherURL`, as LinkedIn's field table
//! writes it (docs/boards/linkedin-feed.md).
//!
//! Inferred [I]:
//! - the nesting follows LinkedIn's sample shape `<source><lastBuildDate/>
//!   <publisherURL/><publisher/><expectedJobCount/><job>…</job></source>`,
//!   job fields in that order, text in CDATA as the sample does;
//! - `lastBuildDate` (RFC 2822, as public feeds write it) is the newest
//!   `updated` among the jobs, not the clock, so an unchanged feed keeps its
//!   bytes and its ETag; each item hands it to [`FeedFormat::document`] in a
//!   leading `<!--updated:…-->` marker, which the document removes;
//! - `expectedJobCount` is the number of jobs in the document;
//! - LinkedIn takes one location string per job: we list the job's first
//!   location, as the Job Posting API adapter does; the country is the
//!   English short name of its ISO code;
//! - workplace type as `<workplaceTypes>` `On-site` / `Hybrid` / `Remote`, the
//!   element and values public LinkedIn feeds use;
//! - the 100-character minimum is counted on the description's text, tags
//!   left out (the stricter reading).
//!
//! The title is a fixed field ([`FeedFormat::fixed_fields`]): a new title
//! withdraws the job and adds a new one under the next reference.

use bytes::Bytes;
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

use super::feed::{FeedEntry, FeedFormat, Item, framed, split_marker};
use super::linkedin::{no_poster, poster, tenant_poster};
use super::render::{cdata_element, check_max, escape_xml, html_description};
use super::{BoardConfig, BoardError, BuildError, PostingContext};
use crate::config::TenantProfile;
use crate::intake::message::{Location, Workplace};

pub const ID: &str = "linkedin-feed";
pub const MECHANISM: &str =
    "pull XML feed (Limited Listings <source><job>), crawled from /feeds/linkedin.xml";
const NAME: &str = "LinkedIn";
const MAX_PARTNER_JOB_ID: usize = 40;
const MIN_DESCRIPTION: usize = 100;
const APPLY_URL_PREFIX: &str = "https://www";
/// The marker an item starts with, carrying its `updated` to the document.
const UPDATED_MARKER: &str = "<!--updated:";

pub struct LinkedInFeed {
    /// `<companyId>`: the client's LinkedIn company page id.
    pub company_id: String,
    /// `<publisher>`: who builds the feed.
    pub publisher: String,
    pub publisher_url: Option<String>,
    /// Every tenant's profile: its default job poster (`<posterEmail>`).
    pub tenant_profiles: std::collections::BTreeMap<String, TenantProfile>,
}

impl LinkedInFeed {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let options = &config.settings.options;
        Ok(Self {
            company_id: config.option("company_id")?,
            publisher: options
                .get("publisher")
                .cloned()
                .unwrap_or_else(|| "boardcast".to_owned()),
            publisher_url: options.get("publisher_url").cloned(),
            tenant_profiles: config.settings.tenant_profiles.clone(),
        })
    }
}

/// `location` as LinkedIn documents it: "City, ST" in the US, "City,
/// Country" elsewhere.
pub fn location_string(location: &Location) -> Result<String, BoardError> {
    if location.country == "US" {
        let state = location.region.as_deref().unwrap_or("");
        if state.len() != 2 || !state.chars().all(|c| c.is_ascii_uppercase()) {
            super::preview::broken(format!(
                "LinkedIn wants a US location as \"City, ST\"; the region of {} is \"{state}\", not a two-letter state code",
                location.city
            ))?;
        }
        return Ok(format!("{}, {state}", location.city));
    }
    Ok(format!(
        "{}, {}",
        location.city,
        country_name(&location.country)
    ))
}

/// The English short name of an ISO 3166-1 alpha-2 code.
fn country_name(code: &str) -> String {
    match code {
        "GB" => "United Kingdom".to_owned(),
        "US" => "United States".to_owned(),
        _ => celes::Country::from_alpha2(code)
            .map(|c| {
                let name = c.long_name;
                name.strip_prefix("The ").unwrap_or(name).to_owned()
            })
            .unwrap_or_else(|_| code.to_owned()),
    }
}

/// The text a reader sees in our description HTML: tags left out, the
/// entities `escape_html` writes turned back into characters.
fn visible_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn workplace_type(workplace: Workplace) -> &'static str {
    match workplace {
        Workplace::OnSite => "On-site",
        Workplace::Hybrid => "Hybrid",
        Workplace::Remote => "Remote",
    }
}

impl FeedFormat for LinkedInFeed {
    fn id(&self) -> &'static str {
        ID
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn file_name(&self) -> &'static str {
        "linkedin.xml"
    }

    fn items(&self, entry: &FeedEntry<'_>) -> Result<String, BoardError> {
        let posting = &entry.posting;
        let job = posting.job;
        let ad = posting.ad;
        check_max(NAME, "partnerJobId", posting.reference, MAX_PARTNER_JOB_ID)?;
        if ad.title.trim().is_empty() {
            super::preview::broken("LinkedIn's feed needs a title")?;
        }
        let description = html_description(ad, posting.locale);
        let text = visible_text(&description);
        let length = text.trim().chars().count();
        if length < MIN_DESCRIPTION {
            super::preview::broken(format!(
                "description is {length} characters of text; LinkedIn needs at least {MIN_DESCRIPTION}"
            ))?;
        }
        let Some(apply_url) = job.apply.url.as_deref() else {
            return Err(BoardError::rule(
                "LinkedIn's feed needs an applyUrl; the job has only an apply email",
            ));
        };
        if !apply_url.starts_with(APPLY_URL_PREFIX) {
            super::preview::broken(format!(
                "applyUrl \"{apply_url}\" does not start with \"{APPLY_URL_PREFIX}\"; LinkedIn's feed takes only apply URLs that do"
            ))?;
        }
        let Some(location) = job.locations.first() else {
            return Err(BoardError::rule(
                "LinkedIn's feed needs a location for each job; the job has none",
            ));
        };
        let location = location_string(location)?;
        let Some(poster) = poster(job, tenant_poster(&self.tenant_profiles, posting.tenant_id))
        else {
            return Err(no_poster(posting.tenant_id));
        };
        let updated = entry.updated.format(&Rfc3339).expect("a UTC time formats");
        let mut xml = format!("{UPDATED_MARKER}{updated}--><job>");
        xml.push_str(&cdata_element("partnerJobId", posting.reference));
        xml.push_str(&cdata_element("company", &job.company.name));
        xml.push_str(&cdata_element("title", &ad.title));
        xml.push_str(&cdata_element("description", &description));
        xml.push_str(&cdata_element("applyUrl", apply_url));
        xml.push_str(&cdata_element("companyId", &self.company_id));
        xml.push_str(&cdata_element("location", &location));
        xml.push_str(&cdata_element(
            "workplaceTypes",
            workplace_type(job.workplace),
        ));
        xml.push_str(&cdata_element("posterEmail", &poster.email));
        xml.push_str("</job>");
        Ok(xml)
    }

    fn parts(&self, items: &[Item]) -> Vec<Bytes> {
        let mut newest: Option<OffsetDateTime> = None;
        let mut jobs = Vec::with_capacity(items.len());
        for item in items {
            let (updated, job) = split_marker(item, UPDATED_MARKER);
            if let Some(updated) =
                updated.and_then(|date| OffsetDateTime::parse(date, &Rfc3339).ok())
            {
                newest = newest.max(Some(updated));
            }
            jobs.push(job);
        }
        let mut head = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<source>");
        if let Some(newest) = newest {
            let date = newest.format(&Rfc2822).expect("a UTC time formats");
            head.push_str(&format!("<lastBuildDate>{date}</lastBuildDate>"));
        }
        if let Some(url) = &self.publisher_url {
            head.push_str(&format!("<publisherURL>{}</publisherURL>", escape_xml(url)));
        }
        head.push_str(&format!(
            "<publisher>{}</publisher>",
            escape_xml(&self.publisher)
        ));
        head.push_str(&format!(
            "<expectedJobCount>{}</expectedJobCount>",
            items.len()
        ));
        framed(head, &jobs, "", "</source>\n")
    }

    /// LinkedIn: the title "cannot be changed once the job is posted".
    fn fixed_fields(&self, posting: &PostingContext<'_>) -> Option<String> {
        Some(format!("title \"{}\"", posting.ad.title))
    }
}
