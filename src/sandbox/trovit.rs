//! Trovit's crawler: reads `<trovit><ad>` documents the way Trovit documents
//! its jobs feed (BOARDS.md §3.9) and keeps what it takes.
//!
//! Checks, each ad on its own: `id`, `url`, `title` and `content` present;
//! `content` at least 30 characters; `id` unique in the document (Trovit
//! de-duplicates on it); `url` an absolute http(s) URL; no web address in
//! the title; `date` and `expiration_date` in DD/MM/YYYY; `telecommute` a
//! boolean. Only the crawler can check that an ad has not expired: an ad
//! whose `expiration_date` is before the crawl is refused.

use std::collections::BTreeSet;

use axum::Router;
use time::{Date, OffsetDateTime};

use super::crawler::{self, Checked, CheckedItem, FeedTwin};
use super::{Sandbox, Twin};

pub const BOARD: &str = "trovit";
const MIN_CONTENT: usize = 30;

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &[],
    routes,
};

pub const FEED: FeedTwin = FeedTwin {
    board: BOARD,
    file: "trovit.xml",
    check,
};

fn routes(sandbox: Sandbox) -> Router {
    crawler::report_route(sandbox, BOARD)
}

const REQUIRED: [&str; 4] = ["id", "url", "title", "content"];

fn check(document: &[u8]) -> Checked {
    check_at(document, OffsetDateTime::now_utc().date())
}

/// The check as of a crawl on `crawled_on`.
pub fn check_at(document: &[u8], crawled_on: Date) -> Checked {
    let items = match crawler::xml_items(document, "trovit", "ad") {
        Ok(items) => items,
        Err(error) => {
            return Checked {
                document_error: Some(error),
                items: Vec::new(),
            };
        }
    };
    let mut seen = BTreeSet::new();
    let items = items
        .into_iter()
        .map(|fields| {
            let reference = fields.get("id").cloned().unwrap_or_default();
            let problem = judge(&fields, crawled_on).or_else(|| {
                (!seen.insert(reference.clone())).then(|| format!("<id> {reference} appears twice"))
            });
            CheckedItem {
                title: fields.get("title").cloned().unwrap_or_default(),
                language: String::new(),
                reference,
                fields,
                problem,
            }
        })
        .collect();
    Checked {
        document_error: None,
        items,
    }
}

fn judge(fields: &crawler::Fields, crawled_on: Date) -> Option<String> {
    if let Some(name) = REQUIRED
        .iter()
        .find(|name| fields.get(**name).is_none_or(|v| v.trim().is_empty()))
    {
        return Some(format!("<{name}> is required"));
    }
    let length = fields["content"].chars().count();
    if length < MIN_CONTENT {
        return Some(format!(
            "content is {length} characters; Trovit needs at least {MIN_CONTENT}"
        ));
    }
    let url = &fields["url"];
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Some(format!("<url> \"{url}\" is not an absolute http(s) URL"));
    }
    let title = fields["title"].to_lowercase();
    if ["http://", "https://", "www."]
        .iter()
        .any(|mark| title.contains(mark))
    {
        return Some(
            "<title> holds a web address; Trovit wants no site name or URL in the title".to_owned(),
        );
    }
    for name in ["date", "expiration_date"] {
        if let Some(text) = fields.get(name)
            && parse_date(text).is_none()
        {
            return Some(format!("<{name}> \"{text}\" is not DD/MM/YYYY"));
        }
    }
    if let Some(flag) = fields.get("telecommute")
        && !matches!(flag.as_str(), "true" | "false" | "1" | "0")
    {
        return Some(format!("<telecommute> \"{flag}\" is not a boolean"));
    }
    if let Some(text) = fields.get("expiration_date")
        && let Some(expires) = parse_date(text)
        && expires < crawled_on
    {
        return Some(format!(
            "the ad expired on {text}, before this crawl; Trovit does not list expired ads"
        ));
    }
    None
}

/// DD/MM/YYYY, exactly.
fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[2] == b'/'
        && bytes[5] == b'/'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 2 || i == 5 || b.is_ascii_digit());
    if !shaped {
        return None;
    }
    let day: u8 = text[0..2].parse().ok()?;
    let month: u8 = text[3..5].parse().ok()?;
    let year: i32 = text[6..10].parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}
