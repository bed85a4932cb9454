//! Indeed's feed crawler: reads `<source><job>` documents the way Indeed
//! documents them (BOARDS.md §3.1) and keeps what it takes.
//!
//! Checks: the root is `<source>`; each `<job>` has `title`, `date` (ISO
//! 8601), `referencenumber` (unique in the document), `url`, `company`,
//! `description` and a `country`; the document is well-formed XML 1.0
//! (checked by a strict parser, as a crawler reads it); no HTML entity in
//! any text once XML has read it: a `&amp;` inside CDATA is an entity
//! Indeed would show (it "does not support HTML entities", docs.indeed.com
//! XML feed reference); `jobtype`, when given, is one of Indeed's values;
//! the title must not name the job's city (Indeed: "no salary, employment
//! type or location in the title"; only the crawler checks this one).

use axum::Router;

use super::crawler::{self, Checked, CheckedItem, FeedTwin};
use super::{Sandbox, Twin};

pub const BOARD: &str = "indeed-feed";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &[],
    routes,
};

pub const FEED: FeedTwin = FeedTwin {
    board: BOARD,
    file: "indeed.xml",
    check,
};

fn routes(sandbox: Sandbox) -> Router {
    crawler::report_route(sandbox, BOARD)
}

const REQUIRED: [&str; 7] = [
    "title",
    "date",
    "referencenumber",
    "url",
    "company",
    "description",
    "country",
];

/// Indeed's documented `jobtype` values.
const JOB_TYPES: [&str; 5] = [
    "fulltime",
    "parttime",
    "contract",
    "temporary",
    "internship",
];

/// The first HTML entity (`&name;`, `&#n;`, `&#xh;`) in `text`.
fn html_entity(text: &str) -> Option<&str> {
    text.match_indices('&').find_map(|(at, _)| {
        let rest = &text[at + 1..];
        let end = rest.find(';')?;
        let name = &rest[..end];
        let numeric = name.strip_prefix('#').is_some_and(|n| {
            !n.is_empty()
                && n.trim_start_matches(['x', 'X'])
                    .chars()
                    .all(|c| c.is_ascii_hexdigit())
        });
        let named =
            !name.is_empty() && name.len() <= 32 && name.chars().all(|c| c.is_ascii_alphanumeric());
        (numeric || named).then(|| &text[at..at + end + 2])
    })
}

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
    let mut seen = std::collections::BTreeSet::new();
    let items = items
        .into_iter()
        .map(|fields| {
            let reference = fields.get("referencenumber").cloned().unwrap_or_default();
            let problem = REQUIRED
                .iter()
                .find(|name| fields.get(**name).is_none_or(|v| v.trim().is_empty()))
                .map(|name| format!("<{name}> is required"))
                .or_else(|| {
                    fields.iter().find_map(|(name, text)| {
                        html_entity(text).map(|e| {
                            format!("<{name}> holds the HTML entity {e}; Indeed takes literal characters")
                        })
                    })
                })
                .or_else(|| {
                    let kind = fields.get("jobtype")?;
                    (!JOB_TYPES.contains(&kind.as_str())).then(|| {
                        format!("<jobtype> \"{kind}\" is not one of Indeed's: {}", JOB_TYPES.join(", "))
                    })
                })
                .or_else(|| {
                    let date = fields.get("date")?;
                    time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339)
                        .is_err()
                        .then(|| format!("<date> \"{date}\" is not ISO 8601"))
                })
                .or_else(|| {
                    let title = fields.get("title")?.to_lowercase();
                    let city = fields.get("city").filter(|c| !c.trim().is_empty())?;
                    title.contains(&city.to_lowercase()).then(|| {
                        format!("<title> names the location ({city}); Indeed wants it in <city> only")
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
