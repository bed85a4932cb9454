//! The feed server: every feed board's document, built from PostgreSQL when
//! the feed changed (not per fetch), at `/feeds/<file>` on the ops listener (see
//! [`crate::boards::feed`] for what a feed board supplies).
//!
//! - The document holds the board's live postings, in id order; its ETag is
//!   the hash of its bytes, so an unchanged feed answers `304`.
//! - Every fetch (200 or 304) is recorded; a fetch by the board's crawler
//!   ([`is_crawler`]) moves the postings the document held, exactly as
//!   served, from `submitted` to `posted`. Fetch history is pruned.
//! - A fetch costs what changed since the last one: one light read of the
//!   postings (no job content) tells whether anything did; only new or
//!   changed postings are rendered (their jobs read then), the other items
//!   are reused; a crawler's fetch passes only the postings that were
//!   `submitted` when the document was built.
//! - A posting that cannot render is left out, and fails with the reason.
//! - A board can require HTTP Basic on its feed: option `feed_username` and
//!   credential `feed_password`.
//! - [`run_report_loop`] reads each feed board's crawl report and applies it
//!   (refused items fail with the crawler's reason).

pub mod job_pages;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::boards::feed::{FeedEntry, FeedFormat, Item};
use crate::boards::{Accounts, Board, PostingContext};
use crate::config::Settings;
use crate::intake::message::Job;
use crate::ops::http::{ApiError, OpsState};
use crate::plan::board_reference;
use crate::store::feeds::{self, FeedPosting, Fetch};
use crate::store::job_cache::JobVersion;

/// The feed boards this worker serves, by file name.
#[derive(Clone, Default)]
pub struct Feeds {
    by_file: BTreeMap<&'static str, Arc<dyn FeedFormat>>,
    /// Per board, the last document and the items it was assembled from: a
    /// fetch rebuilds only when the postings changed, and renders only the
    /// items that changed.
    boards: Arc<Mutex<BTreeMap<&'static str, SharedBoardCache>>>,
}

impl Feeds {
    pub fn from_boards(boards: &BTreeMap<String, Accounts>) -> Self {
        Self {
            by_file: boards
                .values()
                .filter_map(|accounts| accounts.default.feed())
                .map(|format| (format.file_name(), format))
                .collect(),
            boards: Arc::default(),
        }
    }

    /// `format`'s document as the database holds it now: the cached one
    /// while the feed's postings are unchanged, else assembled afresh,
    /// rendering only the items whose postings or jobs changed.
    pub async fn document(
        &self,
        pool: &PgPool,
        format: &dyn FeedFormat,
    ) -> Result<Arc<Document>, sqlx::Error> {
        let board = self
            .boards
            .lock()
            .expect("the feed cache is never poisoned")
            .entry(format.id())
            .or_default()
            .clone();
        // One fetch of a board at a time: a concurrent one waits and reuses
        // this build instead of repeating it.
        let mut cache = board.lock().await;
        // The rows are read BEFORE building, and the document is remembered
        // as built from exactly them: it holds at least what they hold. Any
        // change after this read (a posting becoming due, a status moving,
        // postings that could not render failing) makes the next fetch's
        // rows differ, so that fetch rebuilds; the cache can never serve a
        // document without a posting its rows name, which would leave that
        // posting `submitted` however often the crawler fetched.
        let postings = feeds::postings(pool, format.id()).await?;
        if let Some(built) = &cache.built {
            if built.postings == postings {
                return Ok(built.document.clone());
            }
            if same_items(&built.postings, &postings) {
                // Only statuses moved: same bytes, new list of what can move.
                let document = Arc::new(built.document.with_statuses(&postings));
                cache.built = Some(Built {
                    postings,
                    document: document.clone(),
                });
                return Ok(document);
            }
        }
        let document = Arc::new(cache.build(pool, format, &postings).await?);
        cache.built = Some(Built {
            postings,
            document: document.clone(),
        });
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

/// Whether two readings of a feed's postings render the same items (they
/// may differ in status).
fn same_items(a: &[FeedPosting], b: &[FeedPosting]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.renders_like(b))
}

/// A board's cache, locked for the whole of one fetch's read and build.
type SharedBoardCache = Arc<tokio::sync::Mutex<BoardCache>>;

/// Jobs read for a build, by (tenant, job): the version read and the job.
type ReadJobs = HashMap<(String, String), (JobVersion, Result<Arc<Job>, String>)>;

/// One board's last document and rendered items.
#[derive(Default)]
struct BoardCache {
    built: Option<Built>,
    /// Rendered items by posting id, only for postings the last reading held
    /// (so bounded by the feed).
    fragments: HashMap<i64, Fragment>,
}

/// A document and the postings, as read, it was built from.
struct Built {
    postings: Vec<FeedPosting>,
    document: Arc<Document>,
}

/// A posting's rendered item(s).
struct Fragment {
    /// What it was rendered from, the job's version being the one its
    /// content was read at: reused while the posting still renders like this.
    from: FeedPosting,
    /// `None` when the job has no ad in the posting's language (not listed).
    item: Option<Item>,
}

impl BoardCache {
    /// Assembles the document of `postings`, rendering only the postings
    /// without a current fragment; fails those that cannot render.
    async fn build(
        &mut self,
        pool: &PgPool,
        format: &dyn FeedFormat,
        postings: &[FeedPosting],
    ) -> Result<Document, sqlx::Error> {
        let held: HashSet<i64> = postings.iter().map(|posting| posting.id).collect();
        self.fragments.retain(|id, _| held.contains(id));
        let stale: Vec<&FeedPosting> = postings
            .iter()
            .filter(|posting| {
                self.fragments
                    .get(&posting.id)
                    .is_none_or(|fragment| !fragment.from.renders_like(posting))
            })
            .collect();
        for posting in &stale {
            // Never served again: re-rendered below, or left out.
            self.fragments.remove(&posting.id);
        }
        let mut rendered = 0;
        if !stale.is_empty() {
            let mut wanted: Vec<(&str, &str)> = stale
                .iter()
                .map(|posting| (posting.tenant_id.as_str(), posting.job_id.as_str()))
                .collect();
            wanted.sort_unstable();
            wanted.dedup();
            let jobs: ReadJobs = feeds::jobs(pool, &wanted)
                .await?
                .into_iter()
                .map(|stored| {
                    (
                        (stored.tenant_id, stored.job_id),
                        (stored.version, stored.job.map(Arc::new)),
                    )
                })
                .collect();
            let mut unrenderable = Vec::new();
            for posting in stale {
                let key = (posting.tenant_id.clone(), posting.job_id.clone());
                let job = match jobs.get(&key) {
                    Some((version, Ok(job))) => (*version, job),
                    Some((_, Err(error))) => {
                        warn!(message = "A stored job could not be read back; left out of the feed.", posting = posting.id, %error);
                        continue;
                    }
                    None => {
                        warn!(
                            message = "A stored job is gone; left out of the feed.",
                            posting = posting.id
                        );
                        continue;
                    }
                };
                let (version, job) = job;
                // Keyed by the content actually read: if the job was written
                // since the postings were read, the next reading names this
                // version and reuses the item.
                let from = FeedPosting {
                    job_revision: version.revision,
                    job_updated: version.updated_at,
                    ..posting.clone()
                };
                // Counted whether it renders or not: each is a call of the board's code.
                rendered += 1;
                let item = match render(format, &from, job) {
                    Rendered::Item(item) => Some(item),
                    Rendered::NotListed => None,
                    Rendered::Unrenderable(reason) => {
                        unrenderable.push((posting.id, reason));
                        continue;
                    }
                };
                self.fragments.insert(posting.id, Fragment { from, item });
            }
            if !unrenderable.is_empty() {
                feeds::fail_unrenderable(pool, format.id(), format.name(), &unrenderable).await?;
            }
        }
        // The document is served as parts sharing the cached items: no
        // assembled copy of a feed of megabytes.
        let mut items = Vec::with_capacity(postings.len());
        let mut served = Vec::with_capacity(postings.len());
        for posting in postings {
            if let Some(Fragment {
                item: Some(item), ..
            }) = self.fragments.get(&posting.id)
            {
                items.push(item.clone());
                served.push(posting);
            }
        }
        let parts = format.parts(&items);
        drop(items);
        let mut digest = Sha256::new();
        for part in &parts {
            digest.update(part);
        }
        let etag = format!("\"{}\"", &hex::encode(digest.finalize())[..32]);
        Ok(Document {
            body: parts.into(),
            etag,
            submitted: submitted_of(served.iter().copied()),
            served: served
                .into_iter()
                .map(|posting| (posting.id, posting.content_hash.clone()))
                .collect(),
            rendered,
        })
    }
}
/// A built document and what it holds.
pub struct Document {
    /// The document's parts in order, shared by every response that serves
    /// it (a clone of a part is a reference count).
    pub body: Arc<[Bytes]>,
    pub etag: String,
    /// `(posting id, content hash)` of every posting the document holds, in id order.
    pub served: Vec<(i64, Option<String>)>,
    /// Those of `served` that were `submitted` when it was built: all a
    /// crawler's fetch of it can move to `posted`.
    pub submitted: Vec<(i64, Option<String>)>,
    /// How many postings' items were rendered for it (the others were
    /// reused from earlier builds).
    pub rendered: usize,
}

impl Document {
    /// The document's length in bytes.
    pub fn byte_len(&self) -> usize {
        self.body.iter().map(Bytes::len).sum()
    }

    /// The document as one text (a copy: for tests and previews).
    pub fn text(&self) -> String {
        crate::boards::feed::joined(&self.body)
    }

    /// This document (the same bytes) for `postings`, which render the same
    /// items as the postings it was built from and differ only in status.
    fn with_statuses(&self, postings: &[FeedPosting]) -> Document {
        let held = postings.iter().filter(|posting| {
            self.served
                .binary_search_by_key(&posting.id, |(id, _)| *id)
                .is_ok()
        });
        Document {
            body: self.body.clone(),
            etag: self.etag.clone(),
            served: self.served.clone(),
            submitted: submitted_of(held),
            rendered: 0,
        }
    }
}

/// `(posting id, content hash)` of the `submitted` ones of `postings`.
fn submitted_of<'a>(postings: impl Iterator<Item = &'a FeedPosting>) -> Vec<(i64, Option<String>)> {
    postings
        .filter(|posting| posting.status == "submitted")
        .map(|posting| (posting.id, posting.content_hash.clone()))
        .collect()
}

/// Builds `format`'s document from the postings in the database, rendering
/// every item (no earlier build to reuse).
pub async fn build(pool: &PgPool, format: &dyn FeedFormat) -> Result<Document, sqlx::Error> {
    let postings = feeds::postings(pool, format.id()).await?;
    BoardCache::default().build(pool, format, &postings).await
}

/// What rendering one posting gave.
enum Rendered {
    Item(Item),
    /// The job has no ad in the posting's language.
    NotListed,
    /// The reason it cannot render: it is left out and fails.
    Unrenderable(String),
}

/// `posting`'s item(s) in `format`, from `job`.
fn render(format: &dyn FeedFormat, posting: &FeedPosting, job: &Job) -> Rendered {
    let Some(ad) = job.ads.get(&posting.locale) else {
        return Rendered::NotListed;
    };
    let reference = board_reference(&posting.reference, posting.generation);
    let entry = FeedEntry {
        posting: PostingContext {
            external_id: Some(&reference),
            live_at_board: true,
            ..PostingContext::unsent(&reference, &posting.tenant_id, &posting.locale, job, ad)
        },
        first_published: posting.first_published,
        updated: posting.job_updated,
    };
    // One posting that cannot render (a rule changed, or board code
    // panics on it) is left out and fails; the others are still served.
    match catch_unwind(AssertUnwindSafe(|| format.item_pieces(&entry))) {
        Ok(Ok(item)) => Rendered::Item(item),
        Ok(Err(error)) => {
            warn!(message = "A posting no longer fits the feed; left out.", posting = posting.id, %error);
            Rendered::Unrenderable(error.message)
        }
        Err(panic) => {
            let reason = format!("internal error: {}", crate::boards::panic_message(&panic));
            error!(message = "A posting could not be rendered; left out of the feed.", posting = posting.id, %reason);
            Rendered::Unrenderable(reason)
        }
    }
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
        items: document.served.len(),
        served: if crawler { &document.submitted } else { &[] },
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
        // The parts with their total length: no assembled copy.
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(format.content_type()),
                ),
                (
                    header::CONTENT_LENGTH,
                    HeaderValue::from(document.byte_len()),
                ),
            ],
            axum::body::Body::from_stream(wire_chunks(document.body.clone())),
        )
            .into_response()
    };
    if let Ok(etag) = HeaderValue::from_str(&document.etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// A document's parts as chunks of up to 64 KiB for the wire. Parts are
/// small (one item each), and a write per part cost a system call each; a
/// chunk is copied as the response is sent, so only one lives per response.
fn wire_chunks(
    parts: Arc<[Bytes]>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    const CHUNK: usize = 64 * 1024;
    let mut next = 0;
    futures_util::stream::iter(std::iter::from_fn(move || {
        let first = parts.get(next)?;
        if first.len() >= CHUNK {
            next += 1;
            return Some(Ok(first.clone()));
        }
        let mut chunk = bytes::BytesMut::with_capacity(CHUNK);
        while let Some(part) = parts.get(next)
            && chunk.len() + part.len() <= CHUNK
        {
            chunk.extend_from_slice(part);
            next += 1;
        }
        Some(Ok(chunk.freeze()))
    }))
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

    #[tokio::test]
    async fn wire_chunks_carry_every_byte_in_few_writes() {
        let mut parts: Vec<Bytes> = (0..3_000)
            .map(|i| Bytes::from(format!("<item>{i}</item>")))
            .collect();
        parts.insert(1_000, Bytes::from(vec![b'x'; 100_000]));
        let whole: Vec<u8> = parts.iter().flat_map(|part| part.to_vec()).collect();
        let chunks: Vec<Bytes> =
            futures_util::StreamExt::collect::<Vec<_>>(wire_chunks(parts.into()))
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
        assert_eq!(chunks.concat(), whole);
        // One chunk for the large part, and the small ones packed.
        assert!(chunks.len() <= 4, "{} chunks", chunks.len());
    }
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
