//! LinkedIn's Limited Listings crawler: reads `<source><job>` documents the
//! way LinkedIn documents them (BOARDS.md §3.4) and keeps what it takes.
//!
//! Checks: the root is `<source>`; each `<job>` has `partnerJobId` (≤ 40
//! characters, unique in the document), `company`, `title`, `description`
//! (at least 100 characters of text, tags not counted), `applyUrl` (starting
//! with `https://www`), `companyId` and `location` ("City, ST" or "City,
//! Country": two non-empty parts); `workplaceTypes`, when present, is
//! `On-site`, `Hybrid` or `Remote`.
//!
//! Only the crawler checks [I]: `expectedJobCount`, when the feed gives it,
//! must be the number of jobs in the document; a feed that holds fewer looks
//! cut short, and LinkedIn does not ingest it (the whole document is refused,
//! so a truncated feed cannot close jobs). It cannot check that a title
//! changed: `check` sees one document, not what earlier crawls held.

use std::collections::BTreeSet;

use axum::Router;
use quick_xml::events::Event;

use super::crawler::{self, Checked, CheckedItem, FeedTwin, Fields};
use super::{Sandbox, Twin};

pub const BOARD: &str = "linkedin-feed";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &[],
    routes,
};

pub const FEED: FeedTwin = FeedTwin {
    board: BOARD,
    file: "linkedin.xml",
    check,
};

fn routes(sandbox: Sandbox) -> Router {
    crawler::report_route(sandbox, BOARD)
}

const REQUIRED: [&str; 7] = [
    "partnerJobId",
    "company",
    "title",
    "description",
    "applyUrl",
    "companyId",
    "location",
];
const WORKPLACE_TYPES: [&str; 3] = ["On-site", "Hybrid", "Remote"];

fn check(document: &[u8]) -> Checked {
    let refuse = |error: String| Checked {
        document_error: Some(error),
        items: Vec::new(),
    };
    let items = match crawler::xml_items(document, "source", "job") {
        Ok(items) => items,
        Err(error) => return refuse(error),
    };
    match root_child_text(document, "expectedJobCount") {
        None => {}
        Some(count) => match count.trim().parse::<usize>() {
            Err(_) => return refuse(format!("<expectedJobCount> \"{count}\" is not a number")),
            Ok(expected) if expected != items.len() => {
                return refuse(format!(
                    "<expectedJobCount> is {expected} but the feed holds {} jobs; LinkedIn does not ingest a feed that looks cut short",
                    items.len()
                ));
            }
            Ok(_) => {}
        },
    }
    let mut seen = BTreeSet::new();
    let items = items
        .into_iter()
        .map(|fields| {
            let reference = fields.get("partnerJobId").cloned().unwrap_or_default();
            let problem = judge(&fields).or_else(|| {
                (!seen.insert(reference.clone()))
                    .then(|| format!("<partnerJobId> {reference} appears twice"))
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

fn judge(fields: &Fields) -> Option<String> {
    if let Some(name) = REQUIRED
        .iter()
        .find(|name| fields.get(**name).is_none_or(|v| v.trim().is_empty()))
    {
        return Some(format!("<{name}> is required"));
    }
    let id = &fields["partnerJobId"];
    let id_length = id.chars().count();
    if id_length > 40 {
        return Some(format!(
            "<partnerJobId> is {id_length} characters; at most 40"
        ));
    }
    let text_length = text_length(&fields["description"]);
    if text_length < 100 {
        return Some(format!(
            "<description> holds {text_length} characters of text; at least 100"
        ));
    }
    let apply_url = &fields["applyUrl"];
    if !apply_url.starts_with("https://www") {
        return Some(format!(
            "<applyUrl> \"{apply_url}\" does not start with https://www"
        ));
    }
    let location = &fields["location"];
    let well_formed = location
        .rsplit_once(',')
        .is_some_and(|(city, rest)| !city.trim().is_empty() && !rest.trim().is_empty());
    if !well_formed {
        return Some(format!(
            "<location> \"{location}\" is not \"City, ST\" or \"City, Country\""
        ));
    }
    if let Some(kind) = fields.get("workplaceTypes")
        && !WORKPLACE_TYPES.contains(&kind.as_str())
    {
        return Some(format!(
            "<workplaceTypes> \"{kind}\" is not one of On-site, Hybrid, Remote"
        ));
    }
    None
}

/// Characters of text in an HTML fragment: tags not counted, an entity
/// (`&amp;`, `&#39;`) counted as the one character it stands for.
fn text_length(html: &str) -> usize {
    let mut count = 0;
    let mut chars = html.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => {
                for t in chars.by_ref() {
                    if t == '>' {
                        break;
                    }
                }
            }
            '&' => {
                let mut entity = String::new();
                while let Some(&t) = chars.peek() {
                    if t.is_ascii_alphanumeric() || t == '#' {
                        entity.push(t);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if !entity.is_empty() && chars.peek() == Some(&';') {
                    chars.next();
                    count += 1;
                } else {
                    count += 1 + entity.chars().count();
                }
            }
            _ => count += 1,
        }
    }
    count
}

/// The text of the root's direct child `<name>`, if the document has one.
fn root_child_text(document: &[u8], name: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(document);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(start) => {
                depth += 1;
                inside = depth == 2 && start.name().as_ref() == name;
            }
            Event::End(_) => {
                if inside {
                    return Some(text);
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) if inside => text.push_str(&t.xml10_content()),
            Event::CData(t) if inside => text.push_str(t.as_ref()),
            Event::Eof => return None,
            _ => {}
        }
        buf.clear();
    }
}
