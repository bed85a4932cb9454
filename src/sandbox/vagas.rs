//! Vagas.pt's nightly sync: reads `<jobs><job>` documents the way Vagas.pt
//! documents them (BOARDS.md §3.18) and keeps what it takes; a job missing
//! from the document is removed, as Vagas.pt documents.
//!
//! Checks, each job on its own: `id`, `title`, `description` and `email`
//! present; `city` present unless the job is abroad (a `country` other than
//! PT); `email` an e-mail address; `country`, when given, a two-letter code
//! as in Vagas.pt's example. What only the sync sees: an `id` given twice in
//! the document (Vagas.pt keys its insert/update/remove on it).

use std::collections::BTreeSet;

use axum::Router;

use super::crawler::{self, Checked, CheckedItem, FeedTwin};
use super::{Sandbox, Twin};

pub const BOARD: &str = "vagas";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &[],
    routes,
};

pub const FEED: FeedTwin = FeedTwin {
    board: BOARD,
    file: "vagas.xml",
    check,
};

fn routes(sandbox: Sandbox) -> Router {
    crawler::report_route(sandbox, BOARD)
}

const REQUIRED: [&str; 4] = ["id", "title", "description", "email"];

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
    let country = fields.get("country").map(|c| c.trim());
    if let Some(country) = country
        && !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Some(format!(
            "<country> \"{country}\" is not a two-letter country code"
        ));
    }
    let in_portugal = country.is_none_or(|c| c == "PT");
    if in_portugal && fields.get("city").is_none_or(|c| c.trim().is_empty()) {
        return Some("<city> is required for a job in Portugal".to_owned());
    }
    let email = &fields["email"];
    let shaped = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if !shaped {
        return Some(format!("<email> \"{email}\" is not an e-mail address"));
    }
    None
}
