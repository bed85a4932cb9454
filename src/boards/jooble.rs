//! Jooble: the XML feed JoobleBot crawls (BOARDS.md §2 row 11, §3.9).
//!
//! Documented [V2 JOOBLE]: JoobleBot crawls the feed URL at least every
//! 24 hours; the encoding is named in the XML header; all job content in
//! CDATA; one element per job with a single `id` attribute holding the
//! job's unique id; `<link>` is the full URL of the job page Jooble sends
//! users to; `<description>` is the *complete* description (summary,
//! responsibilities, requirements, conditions); `<pubdate>`, `<updated>` and
//! `<expire>` are all **DD.MM.YYYY**; Jooble only indexes jobs published
//! less than 45 days before it first indexed the feed (its crawler's rule:
//! see `sandbox::jooble`).
//!
//! Inferred [I], following the example feed of Jooble's "XML Feed
//! Specifications": the root is `<jobs>` and each job a `<job id="…">`; the
//! title is `<name>` (BOARDS.md lists a "title" field without naming the
//! element; Jooble's example names it `<name>`); `<region>`, `<company>`,
//! `<salary>` (free text) and `<jobtype>` are the optional fields of that
//! example. `<link>` is our job page (`/jobs/<reference>`, see
//! [`crate::feeds::job_pages`]), as the spec asks: the page Jooble sends
//! users to, not the apply form. One item per posting, located at
//! the job's first location (the feed has one `<region>` per job). The id
//! is our board reference; `<pubdate>` is when the posting first went into
//! the feed, `<updated>` when its current revision did, `<expire>` the
//! job's `valid_through` (UTC date).

use bytes::Bytes;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, UtcOffset};

use super::feed::{FeedEntry, FeedFormat, Item, framed};
use super::render::{cdata_element, escape_xml, html_description};
use super::{BoardConfig, BoardError, BuildError};
use crate::feeds::job_pages::JobPages;
use crate::intake::message::{EmploymentType, Location, PayPeriod, Salary};

pub const ID: &str = "jooble";
pub const MECHANISM: &str = "pull XML feed (<jobs><job id>, CDATA, DD.MM.YYYY dates), crawled by JoobleBot from /feeds/jooble.xml";
const NAME: &str = "Jooble";

/// Jooble's date style: DD.MM.YYYY.
pub const DATE_FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[day].[month].[year]");

pub struct Jooble {
    /// Where the job pages `<link>` points at live.
    pub pages: JobPages,
}

impl Jooble {
    pub fn new(_config: &BoardConfig<'_>, pages: JobPages) -> Result<Self, BuildError> {
        Ok(Self { pages })
    }
}

/// A date as Jooble writes it ("23.11.2026").
pub fn jooble_date(date: Date) -> String {
    date.format(DATE_FORMAT).expect("a calendar date formats")
}

fn region(location: &Location) -> String {
    let mut parts = vec![location.city.as_str()];
    if let Some(region) = location.region.as_deref().filter(|r| *r != location.city) {
        parts.push(region);
    }
    parts.push(&location.country);
    parts.join(", ")
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

fn job_type(kind: EmploymentType) -> Option<&'static str> {
    Some(match kind {
        EmploymentType::FullTime => "full-time",
        EmploymentType::PartTime => "part-time",
        EmploymentType::Contract => "contract",
        EmploymentType::Temporary => "temporary",
        EmploymentType::Internship => "internship",
        EmploymentType::Volunteer => "volunteer",
        EmploymentType::Other => return None,
    })
}

impl FeedFormat for Jooble {
    fn id(&self) -> &'static str {
        ID
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn file_name(&self) -> &'static str {
        "jooble.xml"
    }

    fn items(&self, entry: &FeedEntry<'_>) -> Result<String, BoardError> {
        let posting = &entry.posting;
        let job = posting.job;
        let ad = posting.ad;
        let Some(location) = job.locations.first() else {
            return Err(BoardError::rule(
                "Jooble's <region> needs the job's location; the job has none",
            ));
        };
        let mut xml = format!("<job id=\"{}\">", escape_xml(posting.reference));
        xml.push_str(&cdata_element("link", &self.pages.url(posting.reference)));
        xml.push_str(&cdata_element("name", &ad.title));
        xml.push_str(&cdata_element("region", &region(location)));
        if let Some(salary) = &job.salary {
            xml.push_str(&cdata_element("salary", &salary_text(salary)));
        }
        xml.push_str(&cdata_element(
            "description",
            &html_description(ad, posting.locale),
        ));
        xml.push_str(&cdata_element("company", &job.company.name));
        let utc = |t: time::OffsetDateTime| t.to_offset(UtcOffset::UTC).date();
        xml.push_str(&cdata_element(
            "pubdate",
            &jooble_date(utc(entry.first_published)),
        ));
        xml.push_str(&cdata_element("updated", &jooble_date(utc(entry.updated))));
        if let Some(valid_through) = job.valid_through {
            let Some(expire) = valid_through.checked_to_offset(UtcOffset::UTC) else {
                return Err(BoardError::rule(format!(
                    "expire {valid_through} is past the year 9999 in UTC; Jooble's dates are DD.MM.YYYY"
                )));
            };
            xml.push_str(&cdata_element("expire", &jooble_date(expire.date())));
        }
        if let Some(kind) = job_type(job.employment_type) {
            xml.push_str(&cdata_element("jobtype", kind));
        }
        xml.push_str("</job>");
        Ok(xml)
    }

    fn parts(&self, items: &[Item]) -> Vec<Bytes> {
        framed(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<jobs>".to_owned(),
            items,
            "\n",
            "\n</jobs>\n",
        )
    }
}
