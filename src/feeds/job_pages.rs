//! Our own job pages: one public page per posting, for every board that
//! sends candidates to the job's page (Google for Jobs indexes it; the feed
//! boards' `<url>` points at it, as Indeed, Jooble, Careerjet, Trovit,
//! Adzuna and Talent.com ask for the job's description page, not the apply
//! form).
//!
//! - `GET /jobs/<reference>`: the ad as an HTML page. Public, no token. A
//!   posting of Google for Jobs carries its schema.org `JobPosting` in
//!   `<script type="application/ld+json">` (built by [`google_jobs::json_ld`];
//!   everything marked up is also shown, as Google asks); a job not sent to
//!   Google gets no markup, so Google does not list what its owner did not
//!   send there. A posting no longer live at any board (or past its
//!   `validThrough`) answers `410 Gone`, Google's documented removal signal;
//!   an unknown reference `404`.
//! - One canonical page per job: every language variant's page names the
//!   job's canonical page (`<link rel="canonical">`) and lists every live
//!   variant as `<link rel="alternate" hreflang>` plus `x-default`. Google's
//!   JobPosting guidelines: "If you have several copies of the same job
//!   posting on your site hosted under different URLs, use canonical URLs on
//!   each copy of the page". Which variant is canonical is ours [inferred]:
//!   Google's variants first, then the lowest language tag.
//! - `GET /sitemap.xml`: the canonical pages of Google's postings, with
//!   `<lastmod>`.
//!
//! Pages are built from PostgreSQL on each request, so an update shows the
//! moment the job's new revision is stored, before any board is told.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;
use time::OffsetDateTime;
use tracing::{error, warn};

use crate::boards::google_jobs::{self, checked_iso_datetime, iso_datetime};
use crate::boards::render::escape_html;
use crate::boards::{BoardError, PostingContext};
use crate::intake::message::{Job, Workplace};
use crate::ops::http::{ApiError, OpsState};
use crate::plan::board_reference;
use crate::store::feeds;

const HTML: &str = "text/html; charset=utf-8";

/// The address of `reference`'s job page under our public URL.
pub fn page_url(public_url: &str, reference: &str) -> String {
    format!("{}/jobs/{reference}", public_url.trim_end_matches('/'))
}

/// Where our public job pages live (`<public_url>/jobs/<reference>`): the
/// `<url>` a feed board sends candidates to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPages {
    public_url: String,
}

impl JobPages {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The page of the posting the board knows as `reference`.
    pub fn url(&self, reference: &str) -> String {
        page_url(&self.public_url, reference)
    }
}

/// A page's links to its job's other language variants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageLinks {
    /// This page's own URL.
    pub url: String,
    /// The job's canonical page (this one, or another variant's).
    pub canonical: String,
    /// `(language tag, page URL)` of every live variant, this one included.
    pub alternates: Vec<(String, String)>,
}

impl PageLinks {
    /// A job with one variant: its page is canonical.
    pub fn single(url: &str, locale: &str) -> Self {
        Self {
            url: url.to_owned(),
            canonical: url.to_owned(),
            alternates: vec![(locale.to_owned(), url.to_owned())],
        }
    }
}

/// The job page of `posting`: a pure function of the posting, when it was
/// first published, its links and whether it carries Google's markup
/// (`with_markup`: then a broken rule of the markup fails the page).
pub fn page_html(
    posting: &PostingContext<'_>,
    first_published: OffsetDateTime,
    links: &PageLinks,
    with_markup: bool,
) -> Result<String, BoardError> {
    let script = if with_markup {
        let markup = google_jobs::json_ld(posting, first_published)?;
        // `<` as \u003c: no text of the ad can close the script element.
        let json = serde_json::to_string_pretty(&markup)
            .expect("JSON values serialise")
            .replace('<', "\\u003c");
        format!("<script type=\"application/ld+json\">\n{json}\n</script>\n")
    } else {
        String::new()
    };
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
    // A date past 9999 in UTC has no ISO form; the page leaves it out.
    if let Some(until) = job.valid_through.and_then(checked_iso_datetime) {
        facts.push(format!(
            "Open until <time datetime=\"{until}\">{until}</time>"
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
    let mut head_links = format!(
        "<link rel=\"canonical\" href=\"{}\">\n",
        escape_html(&links.canonical)
    );
    if links.alternates.len() > 1 {
        for (locale, url) in &links.alternates {
            head_links.push_str(&format!(
                "<link rel=\"alternate\" hreflang=\"{}\" href=\"{}\">\n",
                escape_html(locale),
                escape_html(url)
            ));
        }
        head_links.push_str(&format!(
            "<link rel=\"alternate\" hreflang=\"x-default\" href=\"{}\">\n",
            escape_html(&links.canonical)
        ));
    }
    let description = google_jobs::description(ad, posting.locale);
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title} – {company}</title>\n{head_links}{script}</head>\n<body>\n\
         <article>\n<h1>{title}</h1>\n<p>{company}</p>\n<ul>{facts}</ul>\n\
         <section>{description}</section>\n<p>{apply}</p>\n</article>\n</body>\n</html>\n",
        lang = escape_html(posting.locale),
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

/// A posting at any board that the page of a reference may show.
#[derive(Debug, sqlx::FromRow)]
struct PagePosting {
    id: i64,
    tenant_id: String,
    job_id: String,
    board: String,
    locale: String,
    wanted: String,
    status: String,
    first_published: OffsetDateTime,
    job: serde_json::Value,
}

impl PagePosting {
    fn shown(&self) -> bool {
        self.wanted == "live" && SHOWN.contains(&self.status.as_str())
    }
}

/// Every posting, at any board, that the board knows as `reference`.
async fn page_postings(pool: &PgPool, reference: &str) -> Result<Vec<PagePosting>, sqlx::Error> {
    sqlx::query_as::<_, PagePosting>(
        r#"SELECT p.id, p.tenant_id, p.job_id, p.board, p.locale, p.wanted,
                  p.status::text AS status, p.created_at AS first_published, j.content AS job
           FROM postings p JOIN jobs j ON j.tenant_id = p.tenant_id AND j.job_id = p.job_id
           WHERE board_reference(p.reference, p.generation) = $1
           ORDER BY p.id"#,
    )
    .bind(reference)
    .fetch_all(pool)
    .await
}

/// A live language variant of a job: its language, page reference, and
/// whether Google for Jobs has it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Variant {
    locale: String,
    reference: String,
    google: bool,
}

async fn variants(pool: &PgPool, tenant: &str, job: &str) -> Result<Vec<Variant>, sqlx::Error> {
    sqlx::query_as::<_, Variant>(
        r#"SELECT p.locale, board_reference(p.reference, p.generation) AS reference,
                  p.board = $3 AS google
           FROM postings p
           WHERE p.tenant_id = $1 AND p.job_id = $2 AND p.wanted = 'live'
             AND p.status::text = ANY($4)
           ORDER BY p.locale, (p.board = $3) DESC, p.id"#,
    )
    .bind(tenant)
    .bind(job)
    .bind(google_jobs::ID)
    .bind(SHOWN.map(str::to_owned).to_vec())
    .fetch_all(pool)
    .await
}

/// The links of the page of `locale` among a job's live `variants`: one
/// page per language (Google's reference where Google has it), and the
/// canonical one is Google's lowest language tag, else the lowest.
fn links(public_url: &str, own: &str, locale: &str, variants: &[Variant]) -> PageLinks {
    let mut by_locale: BTreeMap<&str, &Variant> = BTreeMap::new();
    for variant in variants {
        let better = by_locale
            .get(variant.locale.as_str())
            .is_none_or(|known| variant.google && !known.google);
        if better {
            by_locale.insert(&variant.locale, variant);
        }
    }
    let own_url = page_url(public_url, own);
    let mut alternates: Vec<(String, String)> = by_locale
        .values()
        .map(|v| (v.locale.clone(), page_url(public_url, &v.reference)))
        .collect();
    if !alternates.iter().any(|(l, _)| l == locale) {
        alternates.push((locale.to_owned(), own_url.clone()));
        alternates.sort();
    }
    let canonical = by_locale
        .values()
        .find(|v| v.google)
        .or_else(|| by_locale.values().next())
        .map_or_else(|| own_url.clone(), |v| page_url(public_url, &v.reference));
    PageLinks {
        url: own_url,
        canonical,
        alternates,
    }
}

/// `GET /jobs/{reference}`: the page of a posting at any board.
pub async fn page(State(state): State<OpsState>, Path(reference): Path<String>) -> Response {
    let postings = match page_postings(&state.pool, &reference).await {
        Ok(postings) => postings,
        Err(error) => {
            error!(message = "Could not read a job page.", %error);
            return unavailable();
        }
    };
    if postings.is_empty() {
        return not_found(&reference);
    }
    // Google's posting when it is shown (its datePosted), else the first shown.
    let Some(row) = postings
        .iter()
        .find(|p| p.shown() && p.board == google_jobs::ID)
        .or_else(|| postings.iter().find(|p| p.shown()))
    else {
        return gone();
    };
    let Ok(job) = serde_json::from_value::<Job>(row.job.clone()) else {
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
    let variants = match variants(&state.pool, &row.tenant_id, &row.job_id).await {
        Ok(variants) => variants,
        Err(error) => {
            error!(message = "Could not read a job's variants.", %error);
            return unavailable();
        }
    };
    let public_url = state.settings.public_url();
    let links = links(&public_url, &reference, &row.locale, &variants);
    let posting = PostingContext {
        external_id: Some(&links.url),
        live_at_board: true,
        ..PostingContext::unsent(&reference, &row.tenant_id, &row.locale, &job, ad)
    };
    let with_markup = row.board == google_jobs::ID;
    match page_html(&posting, row.first_published, &links, with_markup) {
        Ok(html) => ([(header::CONTENT_TYPE, HTML)], html).into_response(),
        // Checked before Google was told; only a change of rules gets here.
        Err(error) => {
            warn!(message = "A posting no longer makes a valid job page; not served.", posting = row.id, %error);
            not_found(&reference)
        }
    }
}

/// `GET /sitemap.xml`: the canonical pages of Google's postings (one per
/// job: its lowest language tag), newest revision dates.
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
    // (tenant, job) -> (locale, page, lastmod), in the order jobs first appear.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut canonical: BTreeMap<(String, String), (String, String, OffsetDateTime)> =
        BTreeMap::new();
    for row in rows {
        let Ok(job) = &row.job else {
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
            live_at_board: true,
            ..PostingContext::unsent(&reference, &row.tenant_id, &row.locale, job, ad)
        };
        // A posting whose page cannot render (or panics) is left out, never
        // the whole sitemap (issue 12).
        let renders = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            google_jobs::json_ld(&posting, row.first_published).is_ok()
        }));
        if !renders.unwrap_or(false) {
            continue;
        }
        let key = (row.tenant_id.clone(), job.id.clone());
        let page = (row.locale.clone(), page_url(&base, &reference), row.updated);
        match canonical.get(&key) {
            None => {
                order.push(key.clone());
                canonical.insert(key, page);
            }
            Some(known) if page.0 < known.0 => {
                canonical.insert(key, page);
            }
            Some(_) => {}
        }
    }
    let pages: Vec<(String, OffsetDateTime)> = order
        .iter()
        .filter_map(|key| canonical.get(key))
        .map(|(_, url, updated)| (url.clone(), *updated))
        .collect();
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        sitemap_xml(&pages),
    )
        .into_response()
}
