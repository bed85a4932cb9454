//! Vagas.pt: the XML feed Vagas.pt syncs once a night (BOARDS.md §2 row 24,
//! §3.18).
//!
//! Documented [V VAGAS]: Vagas.pt fetches the file over HTTP/HTTPS/FTP once
//! a day, at night (generate it around midnight); each job is inserted,
//! updated, or removed when it is no longer in the file. Mandatory `id`
//! (unique), `title`, `city` (optional for a job abroad), `description`
//! (HTML and images allowed), `email` (where applications go); optional
//! `country`, `address`, `salary_rate` (free text). Its example: root
//! `<jobs>`, one `<job>` per offer, text in CDATA, `country` as a code
//! ("PT"), `city` by its Portuguese name ("Lisboa"). Vagas.pt is a
//! Portuguese board: Portuguese ads only. Vagas.pt's spec has no URL
//! element: the job's page cannot be given, so the apply link goes in the
//! description.
//!
//! Portuguese place names [inferred from the spec's "Lisboa"]: a city of
//! Portugal written by its English name ("Lisbon", "Oporto") is sent by
//! its Portuguese one, as Vagas.pt's own city list writes it.
//!
//! Decided [I]: the apply e-mail is the job's `apply.email`; for a job with
//! only an apply URL, option `contact_email` (the account's address for
//! applications) when set, and otherwise the posting is refused naming the
//! rule: Vagas.pt has no URL field, so such a job has no way to apply. When
//! the job has an apply URL, the description ends with it as a link
//! ("Candidaturas: …"). The location is the job's first one in Portugal, or
//! its first one when none is (a job abroad); `address` is the postal code
//! and city ("4000-322 Porto") when the postal code is known; `salary_rate`
//! reads "48000 - 72000 EUR por ano". One item per posting, id = our board
//! reference.

use super::feed::{FeedEntry, FeedFormat, Item, framed};
use super::render::{cdata_element, escape_html, html_description};
use super::{BoardConfig, BoardError, BuildError};
use crate::intake::message::{Location, PayPeriod, Salary, primary_language};
use bytes::Bytes;

pub const ID: &str = "vagas";
pub const MECHANISM: &str = "pull XML feed (<jobs><job>, CDATA, HTML description, apply e-mail), synced nightly from /feeds/vagas.xml";
const NAME: &str = "Vagas.pt";

pub struct Vagas {
    /// Where applications go for jobs with only an apply URL.
    pub contact_email: Option<String>,
}

impl Vagas {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        Ok(Self {
            contact_email: config
                .settings
                .options
                .get("contact_email")
                .filter(|e| !e.trim().is_empty())
                .cloned(),
        })
    }
}

fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn salary_rate(salary: &Salary) -> String {
    let period = match salary.period {
        PayPeriod::Hour => "hora",
        PayPeriod::Day => "dia",
        PayPeriod::Week => "semana",
        PayPeriod::Month => "mês",
        PayPeriod::Year => "ano",
    };
    format!(
        "{} - {} {} por {period}",
        salary.min, salary.max, salary.currency
    )
}

/// English names of Portuguese cities, and the Portuguese name Vagas.pt writes.
const PORTUGUESE_NAMES: [(&str, &str); 2] = [("Lisbon", "Lisboa"), ("Oporto", "Porto")];

/// The city as Vagas.pt writes it: a Portuguese city by its Portuguese name.
pub fn city_name(location: &Location) -> &str {
    let city = location.city.trim();
    if location.country != "PT" {
        return city;
    }
    PORTUGUESE_NAMES
        .iter()
        .find(|(english, _)| city.eq_ignore_ascii_case(english))
        .map_or(city, |(_, portuguese)| portuguese)
}

/// The job's first location in Portugal, or its first one.
fn location(locations: &[Location]) -> Option<&Location> {
    locations
        .iter()
        .find(|l| l.country == "PT")
        .or_else(|| locations.first())
}

impl FeedFormat for Vagas {
    fn id(&self) -> &'static str {
        ID
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn file_name(&self) -> &'static str {
        "vagas.xml"
    }

    fn items(&self, entry: &FeedEntry<'_>) -> Result<String, BoardError> {
        let posting = &entry.posting;
        let job = posting.job;
        let ad = posting.ad;
        let language = primary_language(posting.locale);
        if language != "pt" {
            super::preview::broken(format!(
                "Vagas.pt publishes Portuguese ads only; this ad is in \"{}\"",
                posting.locale
            ))?;
        }
        let Some(email) = job.apply.email.as_ref().or(self.contact_email.as_ref()) else {
            return Err(BoardError::rule(
                "Vagas.pt needs an apply e-mail (<email>); the job has only an apply URL and options.contact_email is not set",
            ));
        };
        if !looks_like_email(email) {
            super::preview::broken(format!(
                "Vagas.pt needs an apply e-mail (<email>); \"{email}\" is not an e-mail address"
            ))?;
        }
        let location = location(&job.locations);
        if location.is_none_or(|l| l.country == "PT" && l.city.trim().is_empty()) {
            super::preview::broken(
                "Vagas.pt needs the <city> of a job in Portugal; the job names none",
            )?;
        }
        let mut description = html_description(ad, posting.locale);
        if let Some(url) = &job.apply.url {
            let url = escape_html(url);
            description.push_str(&format!("<p>Candidaturas: <a href=\"{url}\">{url}</a></p>"));
        }
        let mut xml = String::from("<job>");
        xml.push_str(&cdata_element("id", posting.reference));
        xml.push_str(&cdata_element("title", &ad.title));
        if let Some(location) = location {
            xml.push_str(&cdata_element("country", &location.country));
            let city = city_name(location);
            xml.push_str(&cdata_element("city", city));
            if let Some(postal_code) = &location.postal_code {
                xml.push_str(&cdata_element("address", &format!("{postal_code} {city}")));
            }
        }
        xml.push_str(&cdata_element("description", &description));
        if let Some(salary) = &job.salary {
            xml.push_str(&cdata_element("salary_rate", &salary_rate(salary)));
        }
        xml.push_str(&cdata_element("email", email));
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
