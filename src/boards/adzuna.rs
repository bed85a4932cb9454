//! Adzuna XML feed: the document Adzuna downloads (BOARDS.md §2 row 10,
//! §3.9).
//!
//! Documented [V ADZ]: root `<jobs>`, one `<job>` per ad; mandatory `title`
//! (an actual job title: no location, salary, ID number or keywords such as
//! "help wanted" or "urgent"), `id` (unique) and `description` (HTML rather
//! than plain text, at least 100 characters; offensive content is removed);
//! CDATA optional; UTF-8 preferred; the file is fetched at least daily.
//!
//! Checked here, each failing the posting by name: a title naming one of the
//! job's cities, holding a salary- or id-looking figure (a run of four or more
//! digits, thousands separators allowed, a number with `k`, or a number next
//! to a currency sign) or the keywords "urgent" / "dringend" / "help wanted" /
//! "hiring now"; a description under 100 characters of text (tags not
//! counted, the stricter reading [I]).
//!
//! Inferred [I] (BOARDS.md names the further fields but not their spelling;
//! we follow the names of Adzuna's own job API and Careerjet's `<jobs><job>`
//! feed): `url` (our job page, `/jobs/<reference>`: where Adzuna sends
//! the candidate, who applies from there), `company`, `location` with `city` / `region` /
//! `country` (ISO 3166-1 alpha-2) of the job's first location (one location
//! per ad), `salary_min` / `salary_max` / `salary_currency` for a yearly
//! salary only (Adzuna shows yearly figures; another period is left out
//! rather than converted), `contract_type` (`contract` for contract and
//! temporary work), `contract_time` (`full_time` / `part_time`), `category`,
//! and `date` (first publication, RFC 3339); all text in CDATA.

use bytes::Bytes;
use time::format_description::well_known::Rfc3339;

use super::feed::{FeedEntry, FeedFormat, Item, framed};
use super::render::{cdata_element, html_description};
use super::{BoardConfig, BoardError, BuildError};
use crate::feeds::job_pages::JobPages;
use crate::intake::message::{EmploymentType, Job, PayPeriod};

pub const ID: &str = "adzuna";
pub const MECHANISM: &str = "pull XML feed (<jobs><job>), downloaded from /feeds/adzuna.xml";
const NAME: &str = "Adzuna";
const MIN_DESCRIPTION: usize = 100;
/// Words Adzuna asks to keep out of titles (its examples, in the languages
/// it serves).
const TITLE_KEYWORDS: [&str; 4] = ["urgent", "dringend", "help wanted", "hiring now"];

#[derive(Debug)]
pub struct AdzunaFeed {
    /// Where the job pages `<url>` points at live.
    pub pages: JobPages,
}

impl AdzunaFeed {
    pub fn new(_config: &BoardConfig<'_>, pages: JobPages) -> Result<Self, BuildError> {
        Ok(Self { pages })
    }
}

/// Why Adzuna would not take `title` as a real job title, if it would not.
pub fn title_problem(title: &str, job: &Job) -> Option<String> {
    let lower = title.to_lowercase();
    if let Some(city) = job
        .locations
        .iter()
        .map(|l| l.city.as_str())
        .find(|city| contains_word(&lower, &city.to_lowercase()))
    {
        return Some(format!(
            "title \"{title}\" names the job's location ({city}); Adzuna wants the job title only"
        ));
    }
    if let Some(figure) = salary_like_figure(title) {
        return Some(format!(
            "title \"{title}\" holds the figure \"{figure}\"; Adzuna wants the job title only, without salary or ID numbers"
        ));
    }
    if let Some(keyword) = TITLE_KEYWORDS.iter().find(|k| {
        lower
            .match_indices(*k)
            .any(|(at, _)| !(**k == "urgent" && lower[at..].starts_with("urgent care")))
    }) {
        return Some(format!(
            "title \"{title}\" holds \"{keyword}\"; Adzuna wants the job title only, without keywords such as urgent or help wanted"
        ));
    }
    None
}

/// Whether `word` occurs in `text` between non-alphanumeric characters.
fn contains_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The first figure in `title` that reads like a salary or an ID: four or
/// more digits (`45000`, `45,000`, `AE-2026`), a number with `k` (`50k`),
/// or a number next to a currency sign (`€30`, `30$`).
fn salary_like_figure(title: &str) -> Option<String> {
    let chars: Vec<char> = title.chars().collect();
    let is_currency = |c: Option<&char>| c.is_some_and(|c| matches!(c, '€' | '£' | '$' | '¥'));
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = 0;
        while i < chars.len() {
            if chars[i].is_ascii_digit() {
                digits += 1;
                i += 1;
            } else if matches!(chars[i], ',' | '.')
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            {
                i += 1;
            } else {
                break;
            }
        }
        let figure: String = chars[start..i].iter().collect();
        let thousands = matches!(chars.get(i), Some('k' | 'K'))
            && !chars.get(i + 1).is_some_and(|c| c.is_alphanumeric());
        let before = start.checked_sub(1).and_then(|b| chars.get(b));
        if digits >= 4 || thousands || is_currency(before) || is_currency(chars.get(i)) {
            return Some(if thousands {
                format!("{figure}{}", chars[i])
            } else {
                figure
            });
        }
    }
    None
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

fn contract_type(kind: EmploymentType) -> Option<&'static str> {
    match kind {
        EmploymentType::Contract | EmploymentType::Temporary => Some("contract"),
        _ => None,
    }
}

fn contract_time(kind: EmploymentType) -> Option<&'static str> {
    match kind {
        EmploymentType::FullTime => Some("full_time"),
        EmploymentType::PartTime => Some("part_time"),
        _ => None,
    }
}

impl FeedFormat for AdzunaFeed {
    fn id(&self) -> &'static str {
        ID
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn file_name(&self) -> &'static str {
        "adzuna.xml"
    }

    fn items(&self, entry: &FeedEntry<'_>) -> Result<String, BoardError> {
        let posting = &entry.posting;
        let job = posting.job;
        let ad = posting.ad;
        if let Some(problem) = title_problem(&ad.title, job) {
            super::preview::broken(problem)?;
        }
        let description = html_description(ad, posting.locale);
        let length = visible_text(&description).trim().chars().count();
        if length < MIN_DESCRIPTION {
            super::preview::broken(format!(
                "description is {length} characters of text; Adzuna needs at least {MIN_DESCRIPTION}"
            ))?;
        }
        let mut xml = String::from("<job>");
        xml.push_str(&cdata_element("id", posting.reference));
        xml.push_str(&cdata_element("title", &ad.title));
        xml.push_str(&cdata_element("description", &description));
        xml.push_str(&cdata_element("url", &self.pages.url(posting.reference)));
        xml.push_str(&cdata_element("company", &job.company.name));
        if let Some(location) = job.locations.first() {
            xml.push_str("<location>");
            xml.push_str(&cdata_element("city", &location.city));
            if let Some(region) = &location.region {
                xml.push_str(&cdata_element("region", region));
            }
            xml.push_str(&cdata_element("country", &location.country));
            xml.push_str("</location>");
        }
        if let Some(salary) = job.salary.as_ref().filter(|s| s.period == PayPeriod::Year) {
            xml.push_str(&cdata_element("salary_min", &salary.min.to_string()));
            xml.push_str(&cdata_element("salary_max", &salary.max.to_string()));
            xml.push_str(&cdata_element("salary_currency", &salary.currency));
        }
        if let Some(kind) = contract_type(job.employment_type) {
            xml.push_str(&cdata_element("contract_type", kind));
        }
        if let Some(time) = contract_time(job.employment_type) {
            xml.push_str(&cdata_element("contract_time", time));
        }
        if let Some(category) = &job.category {
            xml.push_str(&cdata_element("category", category));
        }
        let date = entry
            .first_published
            .format(&Rfc3339)
            .expect("a UTC time formats");
        xml.push_str(&cdata_element("date", &date));
        xml.push_str("</job>");
        Ok(xml)
    }

    fn parts(&self, items: &[Item]) -> Vec<Bytes> {
        framed(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<jobs>".to_owned(),
            items,
            "",
            "</jobs>\n",
        )
    }
}
