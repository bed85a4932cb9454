//! JoobleBot: reads `<jobs><job id="…">` documents the way Jooble documents
//! them (BOARDS.md §3.9) and keeps what it takes.
//!
//! Checks, each item on its own: a single, non-empty `id` attribute, unique in
//! the document; `<link>` (an absolute http(s) URL), `<name>` and
//! `<description>` present; job content (`link`, `name`, `description`,
//! `region`, `company`, `salary`) inside CDATA; `<pubdate>` present and
//! `<pubdate>`, `<updated>`, `<expire>` in DD.MM.YYYY. Only the crawler can
//! check Jooble's freshness rule: a job published 45 days or more before
//! the crawl is refused (Jooble indexes only jobs published less than 45
//! days before it first indexed the feed; the twin treats every crawl as a
//! first indexing, the strictest reading).

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use quick_xml::events::Event;
use time::{Date, OffsetDateTime};

use super::crawler::{self, Checked, CheckedItem, FeedTwin};
use super::{Sandbox, Twin};

pub const BOARD: &str = "jooble";
/// Jooble's freshness window, in days.
pub const MAX_AGE_DAYS: i64 = 45;

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &[],
    routes,
};

pub const FEED: FeedTwin = FeedTwin {
    board: BOARD,
    file: "jooble.xml",
    check,
};

fn routes(sandbox: Sandbox) -> Router {
    crawler::report_route(sandbox, BOARD)
}

const REQUIRED: [&str; 4] = ["link", "name", "description", "pubdate"];
/// Elements Jooble wants in CDATA.
const CONTENT: [&str; 6] = ["link", "name", "description", "region", "company", "salary"];

fn check(document: &[u8]) -> Checked {
    check_at(document, OffsetDateTime::now_utc().date())
}

/// The check as of a crawl on `crawled_on`.
pub fn check_at(document: &[u8], crawled_on: Date) -> Checked {
    let items = match crawler::xml_items(document, "jobs", "job") {
        Ok(items) => items,
        Err(error) => return refused(error),
    };
    let bare = match bare_text(document) {
        Ok(bare) => bare,
        Err(error) => return refused(error),
    };
    let mut seen = BTreeSet::new();
    let items = items
        .into_iter()
        .enumerate()
        .map(|(index, fields)| {
            let reference = fields.get("@id").cloned().unwrap_or_default();
            let problem = judge(&fields, bare.get(&index), crawled_on).or_else(|| {
                (!seen.insert(reference.clone()))
                    .then(|| format!("job id {reference} appears twice"))
            });
            CheckedItem {
                title: fields.get("name").cloned().unwrap_or_default(),
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

fn refused(error: String) -> Checked {
    Checked {
        document_error: Some(error),
        items: Vec::new(),
    }
}

fn judge(
    fields: &crawler::Fields,
    bare: Option<&BTreeSet<String>>,
    crawled_on: Date,
) -> Option<String> {
    if fields.get("@id").is_none_or(|id| id.trim().is_empty()) {
        return Some("<job> needs an id attribute".to_owned());
    }
    if let Some(name) = REQUIRED
        .iter()
        .find(|name| fields.get(**name).is_none_or(|v| v.trim().is_empty()))
    {
        return Some(format!("<{name}> is required"));
    }
    if let Some(name) = CONTENT
        .iter()
        .find(|name| bare.is_some_and(|b| b.contains(**name)))
    {
        return Some(format!(
            "<{name}> is not in CDATA; Jooble wants job content in CDATA"
        ));
    }
    let link = &fields["link"];
    if !(link.starts_with("https://") || link.starts_with("http://")) {
        return Some(format!("<link> \"{link}\" is not an absolute http(s) URL"));
    }
    let mut dates = BTreeMap::new();
    for name in ["pubdate", "updated", "expire"] {
        let Some(text) = fields.get(name) else {
            continue;
        };
        match Date::parse(text, crate::boards::jooble::DATE_FORMAT) {
            Ok(date) if is_dd_mm_yyyy(text) => {
                dates.insert(name, date);
            }
            _ => return Some(format!("<{name}> \"{text}\" is not DD.MM.YYYY")),
        }
    }
    let published = dates["pubdate"];
    let age = (crawled_on - published).whole_days();
    if age >= MAX_AGE_DAYS {
        return Some(format!(
            "published {} ({age} days before this crawl); Jooble indexes only jobs published less than {MAX_AGE_DAYS} days before it first indexes the feed",
            fields["pubdate"]
        ));
    }
    None
}

/// Two digits, a dot, two digits, a dot, four digits.
fn is_dd_mm_yyyy(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[2] == b'.'
        && bytes[5] == b'.'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 2 || i == 5 || b.is_ascii_digit())
}

/// For each `<job>` (by position, counted as [`crawler::xml_items`] counts
/// them), the child elements holding text outside CDATA (bare characters or
/// entity references).
fn bare_text(document: &[u8]) -> Result<BTreeMap<usize, BTreeSet<String>>, String> {
    let mut reader = quick_xml::Reader::from_reader(document);
    let mut buf = Vec::new();
    let mut bare: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut depth = 0usize;
    // (the job's position, the depth of its element)
    let mut job: Option<(usize, usize)> = None;
    let mut jobs = 0usize;
    let mut element: Option<String> = None;
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {e}",
                reader.buffer_position()
            )
        })?;
        match event {
            Event::Start(start) => {
                depth += 1;
                let name = start.name().as_ref().to_owned();
                match job {
                    None if depth > 1 && name == "job" => {
                        job = Some((jobs, depth));
                        jobs += 1;
                    }
                    Some((_, at)) if depth == at + 1 => element = Some(name),
                    _ => {}
                }
            }
            Event::Empty(empty) if job.is_none() && depth > 0 && empty.name().as_ref() == "job" => {
                jobs += 1;
            }
            Event::End(_) => {
                match job {
                    Some((_, at)) if depth == at + 1 => element = None,
                    Some((_, at)) if depth == at => job = None,
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(text) => {
                if let (Some((job, _)), Some(element)) = (job, &element)
                    && !text.xml10_content().trim().is_empty()
                {
                    bare.entry(job).or_default().insert(element.clone());
                }
            }
            Event::GeneralRef(_) => {
                if let (Some((job, _)), Some(element)) = (job, &element) {
                    bare.entry(job).or_default().insert(element.clone());
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(bare)
}
