//! Careerjet: the XML feed Careerjet crawls (BOARDS.md §2 row 12, §3.9).
//!
//! Documented [V CJ]: Careerjet "can support any type of XML or JSON feed";
//! for a new feed it suggests `<jobs><job>` with `id`, `title`, `url`,
//! `location{city, region, country}`, `company`, `company_url`,
//! `description` (HTML), `contract_type` (e.g. "permanent"),
//! `working_hours` (e.g. "full-time"), `salary` (free text, e.g.
//! "£30000 - 33000"), `application_email`, `job_reference`, `apply_url`;
//! text in CDATA as in its example.
//!
//! `url` is the job's page: ours, `/jobs/<reference>` (see
//! [`crate::feeds::job_pages`]); `apply_url` the job's apply URL and
//! `application_email` its apply e-mail, each when the job has one.
//!
//! Inferred [I]: `country` is the ISO 3166-1 alpha-2 code (Careerjet's example
//! writes a name, and takes any format); `job_reference` is the ATS's job
//! id, `id` our board reference; `contract_type` is given only where the
//! employment type says it (contract, temporary, internship, volunteer) and
//! `working_hours` only for full- or part-time: our model does not say
//! whether a job is permanent. One item per posting, located at the job's
//! first location (the suggested format has one `location` per job). No
//! `careerjet-apply-data` or `programmatic` bid (options of a paid account).

use super::feed::{FeedEntry, FeedFormat, Item, framed};
use super::render::{cdata_element, html_description};
use super::{BoardConfig, BoardError, BuildError};
use crate::feeds::job_pages::JobPages;
use crate::intake::message::{EmploymentType, PayPeriod, Salary};
use bytes::Bytes;

pub const ID: &str = "careerjet";
pub const MECHANISM: &str =
    "pull XML feed (<jobs><job>, CDATA, HTML description), crawled from /feeds/careerjet.xml";
const NAME: &str = "Careerjet";

pub struct Careerjet {
    /// Where the job pages `<url>` points at live.
    pub pages: JobPages,
}

impl Careerjet {
    pub fn new(_config: &BoardConfig<'_>, pages: JobPages) -> Result<Self, BuildError> {
        Ok(Self { pages })
    }
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

/// `(contract_type, working_hours)` as far as the employment type says them.
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

impl FeedFormat for Careerjet {
    fn id(&self) -> &'static str {
        ID
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn file_name(&self) -> &'static str {
        "careerjet.xml"
    }

    fn items(&self, entry: &FeedEntry<'_>) -> Result<String, BoardError> {
        let posting = &entry.posting;
        let job = posting.job;
        let ad = posting.ad;
        let Some(location) = job.locations.first() else {
            return Err(BoardError::rule(
                "Careerjet needs a <location> with a country; the job has none",
            ));
        };
        let mut xml = String::from("<job>");
        xml.push_str(&cdata_element("id", posting.reference));
        xml.push_str(&cdata_element("title", &ad.title));
        xml.push_str(&cdata_element("url", &self.pages.url(posting.reference)));
        xml.push_str("<location>");
        xml.push_str(&cdata_element("city", &location.city));
        if let Some(region) = &location.region {
            xml.push_str(&cdata_element("region", region));
        }
        xml.push_str(&cdata_element("country", &location.country));
        xml.push_str("</location>");
        xml.push_str(&cdata_element("company", &job.company.name));
        if let Some(company_url) = &job.company.url {
            xml.push_str(&cdata_element("company_url", company_url));
        }
        xml.push_str(&cdata_element(
            "description",
            &html_description(ad, posting.locale),
        ));
        let (contract_type, working_hours) = contract(job.employment_type);
        if let Some(contract_type) = contract_type {
            xml.push_str(&cdata_element("contract_type", contract_type));
        }
        if let Some(working_hours) = working_hours {
            xml.push_str(&cdata_element("working_hours", working_hours));
        }
        if let Some(salary) = &job.salary {
            xml.push_str(&cdata_element("salary", &salary_text(salary)));
        }
        if let Some(email) = &job.apply.email {
            xml.push_str(&cdata_element("application_email", email));
        }
        xml.push_str(&cdata_element("job_reference", &job.id));
        if let Some(apply_url) = &job.apply.url {
            xml.push_str(&cdata_element("apply_url", apply_url));
        }
        xml.push_str("</job>");
        Ok(xml)
    }

    fn parts(&self, items: &[Item]) -> Vec<Bytes> {
        framed(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<jobs>".to_owned(),
            items,
            "\n",
            "\n</jobs>\n",
        )
    }
}
