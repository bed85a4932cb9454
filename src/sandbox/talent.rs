//! Talent.com's crawler: reads `<source><job>` documents the way Talent.com
//! documents them (BOARDS.md §3.9, its integration guide) and keeps what it
//! takes.
//!
//! Checks: the root is `<source>`; each `<job>` has `referencenumber`
//! (unique in the document), `title`, `company`, `url` and `description` (at
//! least 50 characters of text, tags not counted), and a posting date,
//! `dateposted` or `date`, in yyyy-MM-ddTHH:mm:ssZ; the title does not name
//! the job's `city` (Talent.com: "don't include any other information such as
//! location or job type").
//!
//! Only the crawler checks: every text field of a job is in CDATA ("all the
//! content of the job listing must be wrapped in CDATA"). `xml_items` reads
//! CDATA and text alike, so the twin walks the raw document for this rule.

use std::collections::BTreeSet;

use axum::Router;
use quick_xml::events::Event;
use time::PrimitiveDateTime;
use time::macros::format_description;

use super::crawler::{self, Checked, CheckedItem, FeedTwin, Fields};
use super::{Sandbox, Twin};

pub const BOARD: &str = "talent";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &[],
    routes,
};

pub const FEED: FeedTwin = FeedTwin {
    board: BOARD,
    file: "talent.xml",
    check,
};

fn routes(sandbox: Sandbox) -> Router {
    crawler::report_route(sandbox, BOARD)
}

const REQUIRED: [&str; 5] = ["referencenumber", "title", "company", "url", "description"];

fn check(document: &[u8]) -> Checked {
    let items = match crawler::xml_items(document, "source", "job") {
        Ok(items) => items,
        Err(error) => {
            return Checked {
                document_error: Some(error),
                items: Vec::new(),
            };
        }
    };
    let bare = bare_text_fields(document);
    let mut seen = BTreeSet::new();
    let items = items
        .into_iter()
        .enumerate()
        .map(|(index, fields)| {
            let reference = fields.get("referencenumber").cloned().unwrap_or_default();
            let problem = judge(&fields)
                .or_else(|| {
                    bare.get(index).cloned().flatten().map(|name| {
                        format!(
                            "<{name}> is not in CDATA; Talent.com takes job content only in CDATA"
                        )
                    })
                })
                .or_else(|| {
                    (!seen.insert(reference.clone()))
                        .then(|| format!("<referencenumber> {reference} appears twice"))
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
    let dates: Vec<(&str, &String)> = ["dateposted", "date"]
        .into_iter()
        .filter_map(|name| fields.get(name).map(|v| (name, v)))
        .collect();
    if dates.is_empty() {
        return Some("<dateposted> (or <date>) is required".to_owned());
    }
    let style = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    if let Some((name, date)) = dates
        .iter()
        .find(|(_, date)| PrimitiveDateTime::parse(date, style).is_err())
    {
        return Some(format!("<{name}> \"{date}\" is not yyyy-MM-ddTHH:mm:ssZ"));
    }
    let length = text_length(&fields["description"]);
    if length < 50 {
        return Some(format!(
            "<description> holds {length} characters of text; at least 50"
        ));
    }
    if let Some(city) = fields.get("city").filter(|c| !c.trim().is_empty()) {
        let title = fields["title"].to_lowercase();
        let city_lower = city.to_lowercase();
        let named = title.match_indices(&city_lower).any(|(at, _)| {
            let before = title[..at].chars().next_back();
            let after = title[at + city_lower.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        });
        if named {
            return Some(format!(
                "<title> names the location ({city}); Talent.com wants it in <city> only"
            ));
        }
    }
    None
}

/// Characters of text in an HTML fragment, tags not counted, an entity
/// counted once.
fn text_length(html: &str) -> usize {
    let mut count = 0;
    let mut in_tag = false;
    let mut in_entity = false;
    for c in html.chars() {
        match (in_tag, in_entity, c) {
            (false, false, '<') => in_tag = true,
            (true, _, '>') => in_tag = false,
            (true, _, _) => {}
            (false, false, '&') => {
                in_entity = true;
                count += 1;
            }
            (false, true, ';') => in_entity = false,
            (false, true, c) if c.is_ascii_alphanumeric() || c == '#' => {}
            (false, true, _) => {
                in_entity = false;
                count += 1;
            }
            _ => count += 1,
        }
    }
    count
}

/// For each `<job>` (in document order), the first element inside it whose
/// text is not in CDATA.
fn bare_text_fields(document: &[u8]) -> Vec<Option<String>> {
    let mut reader = quick_xml::Reader::from_reader(document);
    let mut buf = Vec::new();
    let mut jobs = Vec::new();
    // Element names from the root down.
    let mut path: Vec<String> = Vec::new();
    while let Ok(event) = reader.read_event_into(&mut buf) {
        match event {
            Event::Start(start) => {
                let name = start.name().as_ref().to_owned();
                if path.len() == 1 && name == "job" {
                    jobs.push(None);
                }
                path.push(name);
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(text) if path.len() >= 3 && path[1] == "job" => {
                let bare = !text.xml10_content().trim().is_empty();
                if let Some(first) = jobs.last_mut()
                    && first.is_none()
                    && bare
                {
                    *first = Some(path[2..].join("/"));
                }
            }
            // `&amp;` outside CDATA is text too.
            Event::GeneralRef(_) if path.len() >= 3 && path[1] == "job" => {
                if let Some(first) = jobs.last_mut()
                    && first.is_none()
                {
                    *first = Some(path[2..].join("/"));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    jobs
}
