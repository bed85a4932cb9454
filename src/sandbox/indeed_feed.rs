//! Indeed's feed crawler: reads `<source><job>` documents the way Indeed
//! documents them (BOARDS.md §3.1) and keeps what it takes.
//!
//! Checks: the root is `<source>`; each `<job>` has `title`, `date` (ISO
//! 8601), `referencenumber` (unique in the document), `url`, `company`,
//! `description` and a `country`; no HTML entities in any text except the
//! markup's own `&amp;`, `&lt;` and `&gt;` (Indeed takes literal characters);
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
                        super::indeed::forbidden_entity(text).map(|e| {
                            format!("<{name}> holds the HTML entity {e}; Indeed takes literal characters")
                        })
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
