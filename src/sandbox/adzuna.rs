//! Adzuna's feed downloader: reads `<jobs><job>` documents the way Adzuna
//! documents them (BOARDS.md §3.9) and keeps what it takes.
//!
//! Checks: the root is `<jobs>`; each `<job>` has `id` (unique in the
//! document), `title` and `description` (at least 100 characters of text,
//! tags not counted); the title is a real title: not naming the job's
//! `location/city`, without a salary- or id-looking figure (four digits or
//! more, `50k`, a currency sign) and without "urgent" or "help wanted"; where
//! given [I], `url` is http(s), `date` is RFC 3339 and `salary_min` is not
//! above `salary_max`.
//!
//! Only the crawler checks [I]: a description whose text is nothing but the
//! title (once or repeated) is refused; Adzuna removes ads without real
//! content.

use std::collections::BTreeSet;

use axum::Router;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::crawler::{self, Checked, CheckedItem, FeedTwin, Fields};
use super::{Sandbox, Twin};

pub const BOARD: &str = "adzuna";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &[],
    routes,
};

pub const FEED: FeedTwin = FeedTwin {
    board: BOARD,
    file: "adzuna.xml",
    check,
};

fn routes(sandbox: Sandbox) -> Router {
    crawler::report_route(sandbox, BOARD)
}

const REQUIRED: [&str; 3] = ["id", "title", "description"];

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

fn judge(fields: &Fields) -> Option<String> {
    if let Some(name) = REQUIRED
        .iter()
        .find(|name| fields.get(**name).is_none_or(|v| v.trim().is_empty()))
    {
        return Some(format!("<{name}> is required"));
    }
    let title = &fields["title"];
    let text = text_of(&fields["description"]);
    let length = text.trim().chars().count();
    if length < 100 {
        return Some(format!(
            "<description> holds {length} characters of text; at least 100"
        ));
    }
    if let Some(city) = fields.get("location/city").filter(|c| !c.trim().is_empty())
        && names(title, city)
    {
        return Some(format!(
            "<title> names the location ({city}); a title must be the job title only"
        ));
    }
    if let Some(figure) = figure(title) {
        return Some(format!(
            "<title> holds a salary or id figure ({figure}); a title must be the job title only"
        ));
    }
    let lower = title.to_lowercase();
    if let Some(word) = ["urgent", "help wanted"]
        .into_iter()
        .find(|w| lower.contains(w) && !lower.contains("urgent care"))
    {
        return Some(format!(
            "<title> holds \"{word}\"; a title must be the job title only"
        ));
    }
    if let Some(url) = fields.get("url")
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Some(format!("<url> \"{url}\" is not an http(s) URL"));
    }
    if let Some(date) = fields.get("date")
        && OffsetDateTime::parse(date, &Rfc3339).is_err()
    {
        return Some(format!("<date> \"{date}\" is not an RFC 3339 date"));
    }
    if let (Some(min), Some(max)) = (fields.get("salary_min"), fields.get("salary_max")) {
        match (min.parse::<f64>(), max.parse::<f64>()) {
            (Ok(low), Ok(high)) if low > high => {
                return Some(format!("<salary_min> {min} is above <salary_max> {max}"));
            }
            (Ok(_), Ok(_)) => {}
            _ => return Some(format!("salary \"{min}\"-\"{max}\" is not a number")),
        }
    }
    // Adzuna's own judgement: a description that says nothing but the title.
    let rest = text.to_lowercase().replace(&lower, "");
    if !lower.trim().is_empty() && !rest.chars().any(char::is_alphanumeric) {
        return Some(
            "<description> only repeats the title; Adzuna removes ads without a real description"
                .to_owned(),
        );
    }
    None
}

/// Whether `title` names `city` as a word of its own.
fn names(title: &str, city: &str) -> bool {
    let title: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .collect();
    let city: Vec<String> = city
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    !city.is_empty() && title.windows(city.len()).any(|w| w == city.as_slice())
}

/// A figure in the title that reads like pay or an id.
fn figure(title: &str) -> Option<String> {
    let words = title.split_whitespace();
    for word in words {
        let digits = word.chars().filter(char::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        let lower = word.to_lowercase();
        let trimmed = lower.trim_matches(|c: char| !c.is_alphanumeric());
        let with_k = trimmed.ends_with('k')
            && trimmed[..trimmed.len() - 1]
                .chars()
                .all(|c| c.is_ascii_digit() || c == ',' || c == '.');
        let with_currency = word.contains(['€', '£', '$', '¥']);
        if digits >= 4 || with_k || with_currency {
            return Some(word.to_owned());
        }
    }
    None
}

/// The text of an HTML fragment: tags dropped, common entities decoded.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        rest = match rest[open..].find('>') {
            Some(close) => &rest[open + close + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    [
        ("&amp;", "&"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&nbsp;", " "),
    ]
    .iter()
    .fold(out, |text, (entity, c)| text.replace(entity, c))
}
