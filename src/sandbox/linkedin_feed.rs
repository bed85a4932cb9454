//! LinkedIn's Limited Listings crawler: reads `<source><job>` documents the
//! way LinkedIn documents them (BOARDS.md §3.4) and keeps what it takes.
//!
//! Written from LinkedIn's XML feed development guide (docs/boards/
//! linkedin-feed.md), not from the adapter: the document is parsed by a
//! strict XML 1.0 parser (`roxmltree`: no DTD, no control characters), as a
//! real crawler would.
//!
//! Checks: the root is `<source>`, whose children are the guide's
//! `lastBuildDate`, `publisherURL`, `publisher`, `expectedJobCount` and the
//! jobs (any other name, a misspelt `publisherUrl` say, refuses the document
//! [I: stricter than LinkedIn, so a misread field fails a test]); each `<job>`
//! has `partnerJobId` (≤ 40 characters, unique in the document), `company`,
//! `title`, `description` (at least 100 characters of text, tags not
//! counted), `applyUrl` (starting with `https://www`), `companyId`,
//! `location` ("City, ST" or "City, Country": two non-empty parts) and
//! `posterEmail` (an e-mail address; mandatory since June 2025);
//! `workplaceTypes`, when present, is `On-site`, `Hybrid` or `Remote`.
//!
//! Only the crawler checks [I]: `expectedJobCount`, when the feed gives it,
//! must be the number of jobs in the document; a feed that holds fewer looks
//! cut short, and LinkedIn does not ingest it (the whole document is refused,
//! so a truncated feed cannot close jobs). It cannot check that a title
//! changed: `check` sees one document, not what earlier crawls held.

use std::collections::BTreeSet;

use axum::Router;

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

const REQUIRED: [&str; 8] = [
    "partnerJobId",
    "company",
    "title",
    "description",
    "applyUrl",
    "companyId",
    "location",
    "posterEmail",
];
/// The children of `<source>` the guide's field table names, and the jobs.
const SOURCE_FIELDS: [&str; 5] = [
    "lastBuildDate",
    "publisherURL",
    "publisher",
    "expectedJobCount",
    "job",
];
const WORKPLACE_TYPES: [&str; 3] = ["On-site", "Hybrid", "Remote"];

fn check(document: &[u8]) -> Checked {
    let refuse = |error: String| Checked {
        document_error: Some(error),
        items: Vec::new(),
    };
    let (items, expected_count) = match read_source(document) {
        Ok(read) => read,
        Err(error) => return refuse(error),
    };
    match expected_count {
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
    let email = &fields["posterEmail"];
    if !crate::intake::message::looks_like_email(email) {
        return Some(format!(
            "<posterEmail> \"{email}\" is not an e-mail address"
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

/// The jobs' fields (each child's text, CDATA included) and the root's
/// `expectedJobCount`, from a document a strict XML 1.0 parser accepts.
fn read_source(document: &[u8]) -> Result<(Vec<Fields>, Option<String>), String> {
    let text = std::str::from_utf8(document)
        .map_err(|e| format!("not well-formed XML: the document is not UTF-8 ({e})"))?;
    let tree = roxmltree::Document::parse(text).map_err(|e| format!("not well-formed XML: {e}"))?;
    let root = tree.root_element();
    let name = root.tag_name().name();
    if name != "source" {
        return Err(format!("the root element is <{name}>; expected <source>"));
    }
    let mut jobs = Vec::new();
    let mut expected_count = None;
    for child in root.children().filter(roxmltree::Node::is_element) {
        let name = child.tag_name().name();
        match name {
            "job" => jobs.push(
                child
                    .children()
                    .filter(roxmltree::Node::is_element)
                    .map(|field| (field.tag_name().name().to_owned(), text_of(field)))
                    .collect(),
            ),
            "expectedJobCount" => expected_count = Some(text_of(child)),
            _ if SOURCE_FIELDS.contains(&name) => {}
            _ => {
                return Err(format!(
                    "<{name}> is not a field of LinkedIn's feed; <source> holds {}",
                    SOURCE_FIELDS.join(", ")
                ));
            }
        }
    }
    Ok((jobs, expected_count))
}

/// All the text inside an element (text and CDATA alike).
fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(roxmltree::Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}
