//! The feed server: every feed board's document, built from PostgreSQL when
//! the feed changed (not per fetch), at `/feeds/<file>` on the ops listener (see
//! [`crate::boards::feed`] for what a feed board supplies).
//!
//! - The document holds the board's live postings, in id order; its ETag is
//!   the hash of its bytes, so an unchanged feed answers `304`.
//! - Every fetch (200 or 304) is recorded; a fetch by the board's crawler
//!   ([`is_crawler`]) moves the postings the document held, exactly as
//!   served, from `submitted` to `posted`. Fetch history is pruned.
//! - A posting that cannot render is left out, and fails with the reason.
//! - A board can require HTTP Basic on its feed: option `feed_username` and
//!   credential `feed_password`.
//! - [`run_report_loop`] reads each feed board's crawl report and applies it
//!   (refused items fail with the crawler's reason).

pub mod job_pages;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::boards::feed::{FeedEntry, FeedFormat};
use crate::boards::{Accounts, Board, PostingContext};
use crate::config::Settings;
use crate::ops::http::{ApiError, OpsState};
use crate::plan::board_reference;
use crate::store::feeds::{self, Fetch};

/// The feed boards this worker serves, by file name.
#[derive(Clone, Default)]
pub struct Feeds {
    by_file: BTreeMap<&'static str, Arc<dyn FeedFormat>>,
    /// The last document built per board and the feed version it was built
    /// from: a fetch rebuilds only when the postings changed.
    built: Arc<Mutex<BTreeMap<&'static str, Built>>>,
}

/// A document and the feed version it was built from.
type Built = (String, Arc<Document>);

impl Feeds {
    pub fn from_boards(boards: &BTreeMap<String, Accounts>) -> Self {
        Self {
            by_file: boards
                .values()
                .filter_map(|accounts| accounts.default.feed())
                .map(|format| (format.file_name(), format))
                .collect(),
            built: Arc::default(),
        }
    }

    /// `format`'s document as the database holds it now: the cached one
    /// while the feed's version is unchanged, else built afresh.
    pub async fn document(
        &self,
        pool: &PgPool,
        format: &dyn FeedFormat,
    ) -> Result<Arc<Document>, sqlx::Error> {
        let version = feeds::version(pool, format.id()).await?;
        let cached = self
            .built
            .lock()
            .expect("the feed cache is never poisoned")
            .get(format.id())
            .filter(|(built_from, _)| *built_from == version)
            .map(|(_, document)| document.clone());
        if let Some(document) = cached {
            return Ok(document);
        }
        let document = Arc::new(build(pool, format).await?);
        // Keep the version read before building: the document holds at least
        // that. A version read after building could count a posting that
        // became due meanwhile but is not in this document, and the cache
        // would then serve it without that posting until the next change,
        // leaving it `submitted` however often the crawler fetched. A change
        // during building (postings that could not render failing, too) only
        // costs one more build.
        self.built
            .lock()
            .expect("the feed cache is never poisoned")
            .insert(format.id(), (version, document.clone()));
        Ok(document)
    }

    /// The file name of `board`'s feed, if it is a feed board this worker serves.
    pub fn file_of(&self, board: &str) -> Option<&'static str> {
        self.by_file
            .iter()
            .find(|(_, format)| format.id() == board)
            .map(|(file, _)| *file)
    }

    pub fn get(&self, file: &str) -> Option<Arc<dyn FeedFormat>> {
        self.by_file.get(file).cloned()
    }
}

/// A built document and what it holds.
pub struct Document {
    pub body: String,
    pub etag: String,
    pub served: Vec<(i64, Option<String>)>,
}

/// Builds `format`'s document from the postings in the database.
pub async fn build(pool: &PgPool, format: &dyn FeedFormat) -> Result<Document, sqlx::Error> {
    let rows = feeds::rows(pool, format.id()).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut served = Vec::with_capacity(rows.len());
    let mut unrenderable = Vec::new();
    for row in rows {
        let Ok(job) = &row.job else {
            warn!(
                message = "A stored job could not be read back; left out of the feed.",
                posting = row.id
            );
            continue;
        };
        let Some(ad) = job.ads.get(&row.locale) else {
            continue;
        };
        let reference = board_reference(&row.reference, row.generation);
        let entry = FeedEntry {
            posting: PostingContext {
                reference: &reference,
                tenant_id: &row.tenant_id,
                locale: &row.locale,
                job,
                ad,
                external_id: Some(&reference),
                live_at_board: true,
                may_exist: false,
                idempotency_key: uuid::Uuid::nil(),
                first_published_at: None,
            },
            first_published: row.first_published,
            updated: row.updated,
        };
        // One posting that cannot render (a rule changed, or board code
        // panics on it) is left out and fails; the others are still served.
        match catch_unwind(AssertUnwindSafe(|| format.items(&entry))) {
            Ok(Ok(item)) => {
                items.push(item);
                served.push((row.id, row.content_hash));
            }
            Ok(Err(error)) => {
                warn!(message = "A posting no longer fits the feed; left out.", posting = row.id, %error);
                unrenderable.push((row.id, error.message));
            }
            Err(panic) => {
                let reason = format!("internal error: {}", crate::boards::panic_message(&panic));
                error!(message = "A posting could not be rendered; left out of the feed.", posting = row.id, %reason);
                unrenderable.push((row.id, reason));
            }
        }
    }
    if !unrenderable.is_empty() {
        feeds::fail_unrenderable(pool, format.id(), format.name(), &unrenderable).await?;
    }
    let body = format.document(&items);
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..32]
    );
    Ok(Document { body, etag, served })
}

/// `GET /feeds/{file}`: public (or HTTP Basic where the board has a feed password).
pub async fn serve(
    State(state): State<OpsState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(format) = state.feeds.get(&file) else {
        return ApiError(
            StatusCode::NOT_FOUND,
            format!("no feed is served as {file}"),
        )
        .into_response();
    };
    if !authorised(&state.settings, format.id(), &headers) {
        let mut response =
            (StatusCode::UNAUTHORIZED, "this feed needs credentials").into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"boardcast feed\""),
        );
        return response;
    }
    let document = match state.feeds.document(&state.pool, format.as_ref()).await {
        Ok(document) => document,
        Err(error) => {
            error!(message = "Could not build a feed.", board = format.id(), %error);
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the feed is unavailable; try again",
            )
                .into_response();
        }
    };
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == document.etag));
    let status = if unchanged {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let client = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let crawler = is_crawler(&state.settings, format.id(), &headers, query.as_deref());
    let fetch = Fetch {
        board: format.id(),
        http_status: status.as_u16(),
        etag: &document.etag,
        client,
        served: if crawler { &document.served } else { &[] },
        crawler,
    };
    // A fetch we cannot record still serves the feed; the next one records.
    match feeds::record_fetch(&state.pool, &fetch).await {
        Ok(moved) if moved > 0 => info!(
            message = "Feed fetched; postings now posted.",
            board = format.id(),
            moved
        ),
        Ok(_) => {}
        Err(error) => {
            error!(message = "Could not record a feed fetch.", board = format.id(), %error)
        }
    }
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, format.content_type())],
            document.body.clone(),
        )
            .into_response()
    };
    if let Ok(etag) = HeaderValue::from_str(&document.etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Whether a fetch is the board's own crawler, by the means the board's
/// configuration names (any one suffices):
///
/// - HTTP Basic credentials on the feed (`feed_username` / `feed_password`),
///   checked by [`authorised`] before serving;
/// - a secret in the feed URL: credential `feed_token`, given as `?token=…`
///   (for boards whose crawler takes a URL only; the sandbox's does);
/// - an allow-list of User-Agent substrings: option `crawler_user_agents`,
///   comma-separated (the board publishes its crawler's name; a name can be
///   faked, so prefer a token where the board supports one).
///
/// Anyone else still gets the document, but the fetch moves nothing to `posted`.
fn is_crawler(settings: &Settings, board: &str, headers: &HeaderMap, query: Option<&str>) -> bool {
    let Some(board) = settings.board(board) else {
        return false;
    };
    if board.options.contains_key("feed_username")
        && board.credentials.contains_key("feed_password")
    {
        // `authorised` let only the board's credentials through.
        return true;
    }
    if let Some(token) = board.credentials.get("feed_token") {
        let given = query
            .into_iter()
            .flat_map(|query| url::form_urlencoded::parse(query.as_bytes()))
            .find(|(name, _)| name == "token")
            .map(|(_, value)| value.into_owned());
        if given.is_some_and(|given| {
            Sha256::digest(given.as_bytes()) == Sha256::digest(token.expose_secret().as_bytes())
        }) {
            return true;
        }
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    board
        .options
        .get("crawler_user_agents")
        .is_some_and(|names| {
            names
                .split(',')
                .map(|name| name.trim().to_ascii_lowercase())
                .any(|name| !name.is_empty() && user_agent.contains(&name))
        })
}

fn authorised(settings: &Settings, board: &str, headers: &HeaderMap) -> bool {
    let Some(board) = settings.board(board) else {
        return false;
    };
    let (Some(user), Some(password)) = (
        board.options.get("feed_username"),
        board.credentials.get("feed_password"),
    ) else {
        return true;
    };
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{user}:{}", password.expose_secret()));
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .is_some_and(|given| {
            // Constant-time enough for a shared secret: compare digests.
            Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
        })
}

/// Reads every feed board's crawl report every `interval` and applies it.
pub async fn run_report_loop(
    pool: PgPool,
    boards: Vec<Arc<dyn Board>>,
    interval: Duration,
    shutdown: CancellationToken,
) {
    if boards.is_empty() {
        return;
    }
    loop {
        for board in &boards {
            let id = board.id();
            let Some(format) = board.feed() else {
                continue;
            };
            let report = match board.crawl_report().await {
                Ok(Some(report)) => report,
                Ok(None) => continue,
                Err(error) => {
                    warn!(message = "Could not read a crawl report.", board = id, %error);
                    continue;
                }
            };
            let rejected: Vec<(String, String)> = report
                .rejected
                .iter()
                .map(|r| (r.reference.clone(), r.reason.clone()))
                .collect();
            match feeds::apply_verdict(
                &pool,
                id,
                format.name(),
                report.crawled_at,
                report.document_error.as_deref(),
                report.accepted.len() as i32,
                &rejected,
            )
            .await
            {
                Ok(changed) if changed > 0 => {
                    warn!(
                        message = "The crawler refused part of the feed.",
                        board = id,
                        changed
                    )
                }
                Ok(_) => {}
                Err(error) => {
                    error!(message = "Could not apply a crawl report.", board = id, %error)
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn settings() -> Settings {
        let mut settings =
            Settings::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config"))
                .unwrap();
        let jooble = settings.boards.get_mut("jooble").unwrap();
        jooble
            .credentials
            .insert("feed_token".into(), SecretString::from("s3cret"));
        settings
    }

    fn agent(name: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::USER_AGENT, HeaderValue::from_str(name).unwrap());
        headers
    }

    /// Issue 12, finding 10: a fetch is the board's only by its token or
    /// its crawler's configured name.
    #[test]
    fn only_the_boards_crawler_counts() {
        let settings = settings();
        let nobody = agent("curl/8.5");
        assert!(is_crawler(
            &settings,
            "jooble",
            &nobody,
            Some("token=s3cret")
        ));
        assert!(is_crawler(
            &settings,
            "jooble",
            &nobody,
            Some("a=1&token=s3cret")
        ));
        assert!(!is_crawler(
            &settings,
            "jooble",
            &nobody,
            Some("token=guess")
        ));
        assert!(!is_crawler(&settings, "jooble", &nobody, None));
        let sandbox = agent("Jooble-Crawler (boardcast sandbox)");
        assert!(is_crawler(&settings, "jooble", &sandbox, None));
        // Another board's crawler is not this one's.
        assert!(!is_crawler(&settings, "trovit", &sandbox, None));
        assert!(!is_crawler(&settings, "no-such-board", &sandbox, None));
    }
}
