//! Careerjet's crawler: reads `<jobs><job>` documents in the format
//! Careerjet suggests (BOARDS.md §3.9) and keeps what it takes.
//!
//! Careerjet "accepts any XML/JSON feed", so the twin is lenient: elements it
//! does not know are ignored. Checks, each item on its own: `id`, `title`,
//! `url`, `location/country` and `description` present and not empty; `id`
//! unique in the document. What only the crawler checks: `url` and
//! `apply_url` are absolute http(s) URLs it can follow, and
//! `application_email` is an e-mail address.

use std::collections::BTreeSet;

use axum::Router;

use super::crawler::{self, Checked, CheckedItem, FeedTwin};
use super::{Sandbox, Twin};

pub const BOARD: &str = "careerjet";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &[],
    routes,
};

pub const FEED: FeedTwin = FeedTwin {
    board: BOARD,
    file: "careerjet.xml",
    check,
};

fn routes(sandbox: Sandbox) -> Router {
    crawler::report_route(sandbox, BOARD)
}

const REQUIRED: [&str; 5] = ["id", "title", "url", "location/country", "description"];

fn check(document: &[u8]) -> Checked {
    let items = match crawler::xml_items(document, "jobs", "job") {
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
            let problem = judge(&fields).or_else(|| {
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

fn judge(fields: &crawler::Fields) -> Option<String> {
    if let Some(name) = REQUIRED
        .iter()
        .find(|name| fields.get(**name).is_none_or(|v| v.trim().is_empty()))
    {
        return Some(format!("<{name}> is required"));
    }
    for name in ["url", "apply_url"] {
        if let Some(url) = fields.get(name)
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Some(format!("<{name}> \"{url}\" is not an absolute http(s) URL"));
        }
    }
    if let Some(email) = fields.get("application_email")
        && !is_email(email)
    {
        return Some(format!(
            "<application_email> \"{email}\" is not an e-mail address"
        ));
    }
    None
}

fn is_email(text: &str) -> bool {
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
