//! Our own job pages, for Google for Jobs ([`crate::boards::google_jobs`]):
//! Google indexes the page, not a call.
//!
//! - `GET /jobs/<reference>`: the ad as an HTML page with its schema.org
//!   `JobPosting` in `<script type="application/ld+json">` (built by
//!   [`google_jobs::json_ld`]; everything marked up is also shown, as Google
//!   asks). Public, no token. A posting that is withdrawn (or no longer
//!   wanted, or past its `validThrough`) answers `410 Gone`, Google's
//!   documented removal signal; an unknown reference `404`.
//! - `GET /sitemap.xml`: the live job pages with `<lastmod>`.
//!
//! Pages are built from PostgreSQL on each request, so an update shows the
//! moment the job's new revision is stored, before Google is told.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use tracing::{error, warn};

use crate::boards::google_jobs::{self, iso_datetime, page_url};
use crate::boards::render::escape_html;
use crate::boards::{BoardError, PostingContext};
use crate::intake::message::{Job, Workplace};
use crate::ops::http::{ApiError, OpsState};
use crate::plan::board_reference;
use crate::store::feeds;

const HTML: &str = "text/html; charset=utf-8";

/// The job page of `posting`: a pure function of the posting, when it was
/// first published and the page's own URL. Fails with the rule the markup
/// would break.
pub fn page_html(
    posting: &PostingContext<'_>,
    first_published: OffsetDateTime,
    page_url: &str,
) -> Result<String, BoardError> {
    let markup = google_jobs::json_ld(posting, first_published)?;
    // `<` as \u003c: no text of the ad can close the script element.
    let script = serde_json::to_string_pretty(&markup)
        .expect("JSON values serialise")
        .replace('<', "\\u003c");
    let job = posting.job;
    let ad = posting.ad;
    let title = escape_html(&ad.title);
    let company = escape_html(&job.company.name);
    let mut facts = Vec::new();
    if job.workplace == Workplace::Remote {
        let countries: Vec<&str> = job.locations.iter().map(|l| l.country.as_str()).collect();
        facts.push(format!("Remote ({})", escape_html(&countries.join(", "))));
    } else {
        for location in &job.locations {
            let mut parts = vec![location.city.as_str()];
            parts.extend(location.region.as_deref());
            parts.extend(location.postal_code.as_deref());
            parts.push(&location.country);
            facts.push(escape_html(&parts.join(", ")));
        }
    }
    facts.push(google_jobs::employment_type(job.employment_type).to_owned());
    if let Some(salary) = &job.salary {
        facts.push(escape_html(&format!(
            "{} {}–{} per {}",
            salary.currency,
            salary.min,
            salary.max,
            google_jobs::unit_text(salary.period).to_lowercase()
        )));
    }
    facts.push(format!(
        "Posted <time datetime=\"{0}\">{0}</time>",
        iso_datetime(first_published)
    ));
    if let Some(until) = job.valid_through {
        facts.push(format!(
            "Open until <time datetime=\"{0}\">{0}</time>",
            iso_datetime(until)
        ));
    }
    let facts: String = facts
        .iter()
        .map(|fact| format!("<li>{fact}</li>"))
        .collect();
    let apply = match (&job.apply.url, &job.apply.email) {
        (Some(url), _) => format!("<a href=\"{}\">Apply</a>", escape_html(url)),
        (None, Some(email)) => format!("<a href=\"mailto:{0}\">Apply: {0}</a>", escape_html(email)),
        (None, None) => String::new(),
    };
    let description = google_jobs::description(ad, posting.locale);
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title} – {company}</title>\n<link rel=\"canonical\" href=\"{url}\">\n\
         <script type=\"application/ld+json\">\n{script}\n</script>\n</head>\n<body>\n\
         <article>\n<h1>{title}</h1>\n<p>{company}</p>\n<ul>{facts}</ul>\n\
         <section>{description}</section>\n<p>{apply}</p>\n</article>\n</body>\n</html>\n",
        lang = escape_html(posting.locale),
        url = escape_html(page_url),
    ))
}

/// `/sitemap.xml` for `(page URL, last modified)` pairs, in the order given.
pub fn sitemap_xml(pages: &[(String, OffsetDateTime)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (url, modified) in pages {
        xml.push_str(&format!(
            "  <url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
            crate::boards::render::escape_xml(url),
            iso_datetime(*modified)
        ));
    }
    xml.push_str("</urlset>\n");
    xml
}

fn gone() -> Response {
    (
        StatusCode::GONE,
        [(header::CONTENT_TYPE, HTML)],
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">\
         <title>Job closed</title></head><body><p>This job is no longer open.</p></body></html>\n",
    )
        .into_response()
}

fn not_found(reference: &str) -> Response {
    ApiError(StatusCode::NOT_FOUND, format!("no job page {reference}")).into_response()
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the job page is unavailable; try again",
    )
        .into_response()
}

/// Statuses in which a posting wanted live has its page shown (a first
/// publish is in flight while Google is told, and may fetch it then).
const SHOWN: [&str; 6] = [
    "queued",
    "in_flight",
    "submitted",
    "retry_scheduled",
    "verifying",
    "posted",
];

/// `GET /jobs/{reference}`.
pub async fn page(State(state): State<OpsState>, Path(reference): Path<String>) -> Response {
    let row = match feeds::page(&state.pool, google_jobs::ID, &reference).await {
        Ok(Some(row)) => row,
        Ok(None) => return not_found(&reference),
        Err(error) => {
            error!(message = "Could not read a job page.", %error);
            return unavailable();
        }
    };
    if row.wanted != "live" || !SHOWN.contains(&row.status.as_str()) {
        return gone();
    }
    let Ok(job) = serde_json::from_value::<Job>(row.job) else {
        warn!(
            message = "A stored job could not be read back; its page is not served.",
            posting = row.id
        );
        return not_found(&reference);
    };
    if job
        .valid_through
        .is_some_and(|until| until <= OffsetDateTime::now_utc())
    {
        return gone();
    }
    let Some(ad) = job.ads.get(&row.locale) else {
        return not_found(&reference);
    };
    let url = page_url(&state.settings.public_url(), &reference);
    let posting = PostingContext {
        reference: &reference,
        tenant_id: &row.tenant_id,
        locale: &row.locale,
        job: &job,
        ad,
        external_id: Some(&url),
        live_at_board: true,
        may_exist: false,
        idempotency_key: uuid::Uuid::nil(),
    };
    match page_html(&posting, row.first_published, &url) {
        Ok(html) => ([(header::CONTENT_TYPE, HTML)], html).into_response(),
        // Checked before Google was told; only a change of rules gets here.
        Err(error) => {
            warn!(message = "A posting no longer makes a valid job page; not served.", posting = row.id, %error);
            not_found(&reference)
        }
    }
}

/// `GET /sitemap.xml`: the job pages Google should know, newest revision dates.
pub async fn sitemap(State(state): State<OpsState>) -> Response {
    let rows = match feeds::rows(&state.pool, google_jobs::ID).await {
        Ok(rows) => rows,
        Err(error) => {
            error!(message = "Could not build the sitemap.", %error);
            return unavailable();
        }
    };
    let now = OffsetDateTime::now_utc();
    let base = state.settings.public_url();
    let mut pages = Vec::with_capacity(rows.len());
    for row in rows {
        let Ok(job) = serde_json::from_value::<Job>(row.job) else {
            continue;
        };
        if job.valid_through.is_some_and(|until| until <= now) {
            continue;
        }
        let Some(ad) = job.ads.get(&row.locale) else {
            continue;
        };
        let reference = board_reference(&row.reference, row.generation);
        let posting = PostingContext {
            reference: &reference,
            tenant_id: &row.tenant_id,
            locale: &row.locale,
            job: &job,
            ad,
            external_id: None,
            live_at_board: true,
            may_exist: false,
            idempotency_key: uuid::Uuid::nil(),
        };
        // A posting whose page cannot render (or panics) is left out, never
        // the whole sitemap (issue 12).
        let renders = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            google_jobs::json_ld(&posting, row.first_published).is_ok()
        }));
        if renders.unwrap_or(false) {
            pages.push((page_url(&base, &reference), row.updated));
        }
    }
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        sitemap_xml(&pages),
    )
        .into_response()
}
