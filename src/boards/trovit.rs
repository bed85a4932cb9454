//! Trovit: the XML feed of Trovit's jobs vertical (BOARDS.md §2 row 14, §3.9).
//!
//! Documented [V TROVIT]: mandatory `id` (unique: Trovit de-duplicates on
//! it), `url`, `title`, `content` (at least 30 characters); optional
//! `company`, `experience`, `requirements`, `studies`, `category`,
//! `contract`, `working_hours`, `salary` (text), `neighborhood`,
//! `city_area`, `city`, `region`, `postcode`, `date`, `expiration_date`,
//! `telecommute` (boolean). Trovit's jobs feed pages (about.trovit.com,
//! corporate.trovit.com) add: one `<trovit>` root holding one `<ad>` per
//! job, the file in UTF-8, text in CDATA as in their template, `date` as
//! DD/MM/YYYY, and a title that does not contain the site's name or URL.
//!
//! Inferred [I]: `expiration_date` uses `date`'s DD/MM/YYYY; `content` is
//! plain text (Trovit does not say it takes HTML): the summary, then each
//! section under its heading in the ad's language, one "- " line per item;
//! `requirements` repeats the requirement lines; `url` is our job page
//! (`/jobs/<reference>`, [`crate::feeds::job_pages`]), not the apply URL;
//! `telecommute` is `true` for remote jobs, `false` for on-site ones,
//! and left out for hybrid ones; `contract` and `working_hours` only where
//! the employment type says them. One item per posting, at the job's first
//! location (Trovit's ad has one city); Trovit runs a site per country, and
//! this one feed serves them all. `date` is when the posting first went
//! into the feed.

use bytes::Bytes;
use time::UtcOffset;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use super::feed::{FeedEntry, FeedFormat, Item, framed};
use super::render::{cdata_element, check_min, headings};
use super::{BoardConfig, BoardError, BuildError};
use crate::feeds::job_pages::JobPages;
use crate::intake::message::{EmploymentType, LocalizedAd, PayPeriod, Salary, Workplace};

pub const ID: &str = "trovit";
pub const MECHANISM: &str = "pull XML feed (<trovit><ad>, CDATA, content of 30+ characters), crawled from /feeds/trovit.xml";
const NAME: &str = "Trovit";
/// Trovit's minimum length of `content`.
pub const MIN_CONTENT: usize = 30;

/// Trovit's date style: DD/MM/YYYY.
pub const DATE_FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[day]/[month]/[year]");

pub struct Trovit {
    /// Where the job pages `<url>` points at live.
    pub pages: JobPages,
}

impl Trovit {
    pub fn new(_config: &BoardConfig<'_>, pages: JobPages) -> Result<Self, BuildError> {
        Ok(Self { pages })
    }
}

/// The ad as plain text: the summary, then each non-empty section.
pub fn content(ad: &LocalizedAd, locale: &str) -> String {
    let titles = headings(locale);
    let mut text = ad.summary.trim().to_owned();
    for (heading, items) in [
        (titles.responsibilities, &ad.responsibilities),
        (titles.requirements, &ad.requirements),
        (titles.benefits, &ad.benefits),
    ] {
        if items.is_empty() {
            continue;
        }
        text.push_str("\n\n");
        text.push_str(heading);
        text.push(':');
        for item in items {
            text.push_str("\n- ");
            text.push_str(item);
        }
    }
    text
}

/// Whether `text` holds a web address.
pub fn holds_url(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["http://", "https://", "www."]
        .iter()
        .any(|mark| lower.contains(mark))
}

fn salary_text(salary: &Salary) -> String {
    let period = match salary.period {
        PayPeriod::Hour => "hour",
        PayPeriod::Day => "day",
        PayPeriod::Week => "week",
        PayPeriod::Month => "month",
        PayPeriod::Year => "year",
    };
    format!(
        "{} - {} {} per {period}",
        salary.min, salary.max, salary.currency
    )
}

/// `(contract, working_hours)` as far as the employment type says them.
fn contract(kind: EmploymentType) -> (Option<&'static str>, Option<&'static str>) {
    match kind {
        EmploymentType::FullTime => (None, Some("full-time")),
        EmploymentType::PartTime => (None, Some("part-time")),
        EmploymentType::Contract => (Some("contract"), None),
        EmploymentType::Temporary => (Some("temporary"), None),
        EmploymentType::Internship => (Some("internship"), None),
        EmploymentType::Volunteer => (Some("volunteer"), None),
        EmploymentType::Other => (None, None),
    }
}

/// A time as Trovit's DD/MM/YYYY date in UTC; `None` past 9999-12-31 UTC.
fn trovit_date(time: time::OffsetDateTime) -> Option<String> {
    time.checked_to_offset(UtcOffset::UTC)?
        .date()
        .format(DATE_FORMAT)
        .ok()
}

impl FeedFormat for Trovit {
    fn id(&self) -> &'static str {
        ID
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn file_name(&self) -> &'static str {
        "trovit.xml"
    }

    fn items(&self, entry: &FeedEntry<'_>) -> Result<String, BoardError> {
        let posting = &entry.posting;
        let job = posting.job;
        let ad = posting.ad;
        if holds_url(&ad.title) {
            super::preview::broken(
                "title holds a web address; Trovit wants no site name or URL in the title",
            )?;
        }
        let content = content(ad, posting.locale);
        check_min(NAME, "content", &content, MIN_CONTENT)?;
        let mut xml = String::from("<ad>");
        xml.push_str(&cdata_element("id", posting.reference));
        xml.push_str(&cdata_element("url", &self.pages.url(posting.reference)));
        xml.push_str(&cdata_element("title", &ad.title));
        xml.push_str(&cdata_element("content", &content));
        xml.push_str(&cdata_element("company", &job.company.name));
        if !ad.requirements.is_empty() {
            xml.push_str(&cdata_element("requirements", &ad.requirements.join("\n")));
        }
        if let Some(category) = &job.category {
            xml.push_str(&cdata_element("category", category));
        }
        let (contract, working_hours) = contract(job.employment_type);
        if let Some(contract) = contract {
            xml.push_str(&cdata_element("contract", contract));
        }
        if let Some(working_hours) = working_hours {
            xml.push_str(&cdata_element("working_hours", working_hours));
        }
        if let Some(salary) = &job.salary {
            xml.push_str(&cdata_element("salary", &salary_text(salary)));
        }
        if let Some(location) = job.locations.first() {
            xml.push_str(&cdata_element("city", &location.city));
            if let Some(region) = &location.region {
                xml.push_str(&cdata_element("region", region));
            }
            if let Some(postcode) = &location.postal_code {
                xml.push_str(&cdata_element("postcode", postcode));
            }
        }
        let date = trovit_date(entry.first_published).expect("a publication time is a real date");
        xml.push_str(&cdata_element("date", &date));
        if let Some(valid_through) = job.valid_through {
            let Some(expiration) = trovit_date(valid_through) else {
                return Err(BoardError::rule(format!(
                    "expiration_date {valid_through} is past the year 9999 in UTC; Trovit's dates are DD/MM/YYYY"
                )));
            };
            xml.push_str(&cdata_element("expiration_date", &expiration));
        }
        match job.workplace {
            Workplace::Remote => xml.push_str(&cdata_element("telecommute", "true")),
            Workplace::OnSite => xml.push_str(&cdata_element("telecommute", "false")),
            Workplace::Hybrid => {}
        }
        xml.push_str("</ad>");
        Ok(xml)
    }

    fn parts(&self, items: &[Item]) -> Vec<Bytes> {
        framed(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<trovit>".to_owned(),
            items,
            "\n",
            "\n</trovit>\n",
        )
    }
}
