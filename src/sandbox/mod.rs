//! The board sandbox: a local HTTP server that plays every board.
//!
//! Each board's twin (one file per board) speaks that board's wire format
//! under `/<board-id>/...`, checks credentials and the board's documented
//! rules, answers like the board (ids, URLs, async tasks, error bodies) and
//! keeps the postings it holds, so a test can ask how many live copies of a
//! posting a board has.
//!
//! Control API (JSON):
//!
//! | route | what |
//! |---|---|
//! | `GET /_sandbox/postings?board=B` | postings held, with create/update/withdraw counts |
//! | `PUT /_sandbox/boards/{board}/faults` | set the board's [`Faults`] |
//! | `DELETE /_sandbox/boards/{board}/faults` | heal the board |
//! | `GET /_sandbox/boards/{board}/stats` | requests received |
//! | `POST /_sandbox/reset` | forget everything |
//! | `POST /_sandbox/crawl/{board}` | a feed board's crawler fetches our feed now (see [`crawler`]) |

// Handlers return early with a ready `Response` as the error; a boxed one
// would only add noise to test-only code.
#![allow(clippy::result_large_err)]

pub mod adzuna;
pub mod bundesagentur;
pub mod careerbuilder;
pub mod careerjet;
pub mod craigslist;
pub mod crawler;
pub mod flashpost;
pub mod google_jobs;
pub mod indeed;
pub mod indeed_feed;
pub mod infojobs;
pub mod jooble;
pub mod kariera;
pub mod linkedin;
pub mod linkedin_feed;
pub mod monster;
pub mod oauth;
pub mod reed;
pub mod smtp;
pub mod stepstone;
pub mod talent;
pub mod tls;
pub mod trovit;
pub mod vagas;
pub mod welcome_to_the_jungle;
pub mod xing;
pub mod ziprecruiter;

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// One board's twin: its id, the credentials it checks, its routes.
pub struct Twin {
    pub board: &'static str,
    pub credentials: &'static [&'static str],
    pub routes: fn(Sandbox) -> Router,
}

/// Every board the sandbox plays. Adding a board adds one line here.
pub const TWINS: &[Twin] = &[
    welcome_to_the_jungle::TWIN,
    linkedin::TWIN,
    stepstone::TWIN,
    indeed::TWIN,
    ziprecruiter::TWIN,
    indeed_feed::TWIN,
    kariera::TWIN,
    careerbuilder::TWIN,
    monster::TWIN,
    reed::TWIN,
    xing::TWIN,
    craigslist::TWIN,
    flashpost::TWIN,
    infojobs::TWIN,
    linkedin_feed::TWIN,
    adzuna::TWIN,
    talent::TWIN,
    jooble::TWIN,
    careerjet::TWIN,
    trovit::TWIN,
    vagas::TWIN,
    google_jobs::TWIN,
    bundesagentur::TWIN,
];

/// Makes a board's credentials (name -> value) where random strings will not do.
pub type Generate = fn() -> BTreeMap<String, String>;

/// Credentials a twin makes itself (a key pair) instead of random strings.
pub const GENERATED_CREDENTIALS: &[(&str, Generate)] = &[
    (google_jobs::BOARD, google_jobs::service_account),
    (bundesagentur::BOARD, bundesagentur::certificates),
];

/// The board whose desk reads the mail sent to the sandbox's SMTP listener.
pub const MAIL_DESK: (&str, smtp::Receiver) = (kariera::BOARD, kariera::receive);

/// Boards whose token endpoint lives on another host than their API (as
/// LinkedIn's and Google's do): the twin serves it under this path, and
/// [`Listeners::point_boards_at`] sets the board's `token_url` to it.
pub const TOKEN_PATHS: &[(&str, &str)] = &[
    (linkedin::BOARD, linkedin::TOKEN_PATH),
    (indeed::BOARD, indeed::TOKEN_PATH),
    (google_jobs::BOARD, google_jobs::TOKEN_PATH),
];

/// The board whose twin listens on the sandbox's HTTPS listener with client
/// certificates ([`tls`]); its credentials are certificates the sandbox issues.
pub const TLS_DESK: &str = bundesagentur::BOARD;

/// The boards that crawl a feed we serve, and how each judges it.
pub const FEED_TWINS: &[crawler::FeedTwin] = &[
    indeed_feed::FEED,
    linkedin_feed::FEED,
    adzuna::FEED,
    talent::FEED,
    jooble::FEED,
    careerjet::FEED,
    trovit::FEED,
    vagas::FEED,
];

/// What a board should do wrong, and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Answer the next N requests with `fail_status`, changing nothing.
    pub fail_times: u32,
    pub fail_status: u16,
    /// Answer this share of requests (0.0–1.0) with `fail_status`.
    pub fail_ratio: f64,
    /// Answer the next N requests with 429 and `Retry-After: retry_after_secs`.
    pub throttle_times: u32,
    pub retry_after_secs: u64,
    /// Apply each request, then wait this long before answering.
    pub latency_ms: u64,
    /// Apply the next N requests, then never answer (the client times out
    /// not knowing the board acted).
    pub hang_times: u32,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            fail_times: 0,
            fail_status: 503,
            fail_ratio: 0.0,
            throttle_times: 0,
            retry_after_secs: 1,
            latency_ms: 0,
            hang_times: 0,
        }
    }
}

/// One posting as a board holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldPosting {
    pub board: String,
    /// Our reference (external reference / reference_id / externalJobPostingId).
    pub reference: String,
    /// The board's own id.
    pub external_id: String,
    pub url: String,
    pub live: bool,
    pub title: String,
    pub language: String,
    pub creates: u32,
    pub updates: u32,
    pub withdrawals: u32,
    /// The last content the board accepted, as it arrived.
    pub content: serde_json::Value,
}

#[derive(Debug, Default)]
struct BoardState {
    postings: BTreeMap<String, HeldPosting>,
    faults: Faults,
    requests: u64,
    /// When each request arrived, to check a board's rate limits from its side.
    received_at: Vec<std::time::Instant>,
    next_id: u64,
}

/// Shared state of the sandbox; cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    boards: Arc<Mutex<BTreeMap<String, BoardState>>>,
    credentials: Arc<BTreeMap<String, BTreeMap<String, String>>>,
    /// A twin's own state beyond the postings (tokens, tasks), by board.
    extras: Arc<Mutex<BTreeMap<String, Box<dyn Any + Send>>>>,
    /// The feed crawlers' client: built once, as building one reads every
    /// root certificate of the system.
    crawler_http: reqwest::Client,
}

/// Where a running sandbox listens, as base URLs: `http://host:port`,
/// `smtp://host:port` (the [`MAIL_DESK`]) and `https://host:port` (the [`TLS_DESK`]).
#[derive(Debug, Clone)]
pub struct Listeners {
    pub http: String,
    pub smtp: String,
    pub https: String,
}

impl Listeners {
    /// The `base_url` that sends `board`'s calls to its twin.
    pub fn base_url(&self, board: &str) -> String {
        if board == MAIL_DESK.0 {
            self.smtp.clone()
        } else if board == TLS_DESK {
            format!("{}/{board}", self.https)
        } else {
            format!("{}/{board}", self.http)
        }
    }

    /// The `token_url` of a board whose token endpoint is not on its API host.
    pub fn token_url(&self, board: &str) -> Option<String> {
        token_url_at(&self.http, board)
    }

    /// A sandbox on `host` at the ports of `[sandbox]` (a separate
    /// `boardcast sandbox` process or container).
    pub fn on_host(host: &str, settings: &crate::config::SandboxSettings) -> Self {
        let port = |listen: &str| listen.rsplit(':').next().unwrap_or_default().to_owned();
        Self {
            http: format!("http://{host}:{}", port(&settings.listen)),
            smtp: format!("smtp://{host}:{}", port(&settings.smtp_listen)),
            https: format!("https://{host}:{}", port(&settings.tls_listen)),
        }
    }

    /// Points every configured board at its twin here (base URL, token URL),
    /// leaving credentials as configured.
    pub fn point_urls_at(&self, settings: &mut crate::config::Settings) {
        for (key, board) in settings.boards.iter_mut() {
            let id = crate::config::board_id(key);
            board.base_url = self.base_url(&id);
            board.token_url = self.token_url(&id);
        }
    }

    /// Points every board the sandbox plays at it (base URL, token URL) and
    /// gives each the credentials its twin accepts.
    pub fn point_boards_at(&self, settings: &mut crate::config::Settings, sandbox: &Sandbox) {
        self.point_urls_at(settings);
        for (board, names) in sandbox.credentials() {
            let Some(settings) = settings.boards.get_mut(&board.replace('-', "_")) else {
                continue;
            };
            for (name, value) in names {
                settings
                    .credentials
                    .insert(name.clone(), secrecy::SecretString::from(value.clone()));
            }
        }
    }
}

/// The token endpoint of `board`'s twin on the sandbox at `http` (`http://host:port`),
/// for boards in [`TOKEN_PATHS`].
pub fn token_url_at(http: &str, board: &str) -> Option<String> {
    TOKEN_PATHS
        .iter()
        .find(|(id, _)| *id == board)
        .map(|(_, path)| format!("{http}/{board}{path}"))
}

/// What the fault knobs decided for one request.
pub enum Gate {
    /// Go ahead; `latency` and `hang` apply after the change.
    Proceed { latency: Duration, hang: bool },
    /// Answer this instead, changing nothing.
    Refuse(Response),
}

impl Sandbox {
    /// A sandbox with fresh random credentials for every board.
    pub fn with_random_credentials() -> Self {
        let mut credentials = BTreeMap::new();
        for twin in TWINS {
            let values = twin
                .credentials
                .iter()
                .map(|name| (name.to_string(), uuid::Uuid::new_v4().simple().to_string()))
                .collect();
            credentials.insert(twin.board.to_owned(), values);
        }
        for (board, generate) in GENERATED_CREDENTIALS {
            credentials.insert((*board).to_owned(), generate());
        }
        Self::with_credentials(credentials)
    }

    /// A sandbox that accepts exactly these credentials (board -> name -> value).
    pub fn with_credentials(credentials: BTreeMap<String, BTreeMap<String, String>>) -> Self {
        Self {
            boards: Arc::default(),
            credentials: Arc::new(credentials),
            extras: Arc::default(),
            crawler_http: reqwest::Client::new(),
        }
    }

    /// The credentials each board accepts, for the worker's configuration.
    pub fn credentials(&self) -> &BTreeMap<String, BTreeMap<String, String>> {
        &self.credentials
    }

    pub fn credential(&self, board: &str, name: &str) -> &str {
        self.credentials
            .get(board)
            .and_then(|c| c.get(name))
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The router: every board twin plus the control API.
    pub fn router(&self) -> Router {
        let control = Router::new()
            .route("/_sandbox/postings", get(list_postings))
            .route(
                "/_sandbox/boards/{board}/faults",
                put(set_faults).delete(clear_faults),
            )
            .route("/_sandbox/boards/{board}/stats", get(stats))
            .route("/_sandbox/reset", post(reset))
            .route("/_sandbox/crawl/{board}", post(crawler::crawl_now))
            .with_state(self.clone());
        TWINS.iter().fold(control, |router, twin| {
            router.nest(&format!("/{}", twin.board), (twin.routes)(self.clone()))
        })
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Serves the e-mail boards' SMTP listener until `shutdown` resolves.
    pub async fn serve_mail(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let (board, receive) = MAIL_DESK;
        self.serve_smtp(listener, board, receive, shutdown).await
    }

    /// Serves the same router over HTTPS, client certificate required (the
    /// [`TLS_DESK`] board's upload), until `shutdown` resolves.
    pub async fn serve_tls(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let credentials = self.credentials.get(TLS_DESK).cloned().unwrap_or_default();
        let config = tls::server_config(&credentials).map_err(|error| {
            tracing::error!(message = "The sandbox's HTTPS desk cannot start.", %error);
            std::io::Error::other(error)
        })?;
        let listener = tls::TlsListener::new(listener, config)?;
        let service = self
            .router()
            .into_make_service_with_connect_info::<tls::TlsPeer>();
        axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Counts the request and applies the board's fault knobs.
    pub fn gate(&self, board: &str) -> Gate {
        let mut boards = self.boards.lock().expect("sandbox state lock");
        let state = boards.entry(board.to_owned()).or_default();
        state.requests += 1;
        // A long-running sandbox keeps the recent ones only.
        if state.received_at.len() >= 100_000 {
            state.received_at.drain(..50_000);
        }
        state.received_at.push(std::time::Instant::now());
        let faults = &mut state.faults;
        if faults.throttle_times > 0 {
            faults.throttle_times -= 1;
            let mut response =
                (StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded").into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&faults.retry_after_secs.to_string()).expect("digits"),
            );
            return Gate::Refuse(response);
        }
        let unlucky = faults.fail_ratio > 0.0 && rand::random::<f64>() < faults.fail_ratio;
        if faults.fail_times > 0 || unlucky {
            faults.fail_times = faults.fail_times.saturating_sub(1);
            let status =
                StatusCode::from_u16(faults.fail_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return Gate::Refuse(
                (status, format!("sandbox: {board} told to fail")).into_response(),
            );
        }
        let hang = faults.hang_times > 0;
        faults.hang_times = faults.hang_times.saturating_sub(1);
        Gate::Proceed {
            latency: Duration::from_millis(faults.latency_ms),
            hang,
        }
    }

    /// Reads or changes one board's postings under the lock.
    /// One board's whole state, under the sandbox's lock.
    fn with_board<T>(&self, board: &str, f: impl FnOnce(&mut BoardState) -> T) -> T {
        let mut boards = self.boards.lock().expect("sandbox state lock");
        f(boards.entry(board.to_owned()).or_default())
    }

    pub fn with_postings<T>(
        &self,
        board: &str,
        f: impl FnOnce(&mut BTreeMap<String, HeldPosting>) -> T,
    ) -> T {
        let mut boards = self.boards.lock().expect("sandbox state lock");
        f(&mut boards.entry(board.to_owned()).or_default().postings)
    }

    /// Reads or changes a twin's own state of type `T` (created on first use).
    pub fn with_extra<T: Default + Send + 'static, R>(
        &self,
        board: &str,
        f: impl FnOnce(&mut T) -> R,
    ) -> R {
        let mut extras = self.extras.lock().expect("sandbox state lock");
        let extra = extras
            .entry(board.to_owned())
            .or_insert_with(|| Box::new(T::default()));
        f(extra
            .downcast_mut::<T>()
            .expect("one board keeps one type of extra state"))
    }

    /// A new board id, unique within the board.
    pub fn next_id(&self, board: &str) -> u64 {
        let mut boards = self.boards.lock().expect("sandbox state lock");
        let state = boards.entry(board.to_owned()).or_default();
        state.next_id += 1;
        state.next_id
    }

    pub fn postings(&self, board: Option<&str>) -> Vec<HeldPosting> {
        let boards = self.boards.lock().expect("sandbox state lock");
        boards
            .iter()
            .filter(|(id, _)| board.is_none_or(|b| b == id.as_str()))
            .flat_map(|(_, state)| state.postings.values().cloned())
            .collect()
    }

    pub fn set_faults(&self, board: &str, faults: Faults) {
        let mut boards = self.boards.lock().expect("sandbox state lock");
        boards.entry(board.to_owned()).or_default().faults = faults;
    }

    pub fn requests(&self, board: &str) -> u64 {
        let boards = self.boards.lock().expect("sandbox state lock");
        boards.get(board).map_or(0, |state| state.requests)
    }

    /// When each of `board`'s requests arrived, oldest first.
    pub fn request_times(&self, board: &str) -> Vec<std::time::Instant> {
        let boards = self.boards.lock().expect("sandbox state lock");
        boards
            .get(board)
            .map_or_else(Vec::new, |state| state.received_at.clone())
    }
}

/// Answers after the gate's latency, or never when told to hang.
pub async fn answer(gate: (Duration, bool), response: Response) -> Response {
    let (latency, hang) = gate;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if hang {
        std::future::pending::<()>().await;
    }
    response
}

#[derive(Deserialize)]
struct BoardQuery {
    board: Option<String>,
}

async fn list_postings(
    State(sandbox): State<Sandbox>,
    Query(query): Query<BoardQuery>,
) -> Json<Vec<HeldPosting>> {
    Json(sandbox.postings(query.board.as_deref()))
}

async fn set_faults(
    State(sandbox): State<Sandbox>,
    Path(board): Path<String>,
    Json(faults): Json<Faults>,
) -> StatusCode {
    sandbox.set_faults(&board, faults);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(sandbox): State<Sandbox>, Path(board): Path<String>) -> StatusCode {
    sandbox.set_faults(&board, Faults::default());
    StatusCode::NO_CONTENT
}

#[derive(Serialize)]
struct Stats {
    requests: u64,
}

async fn stats(State(sandbox): State<Sandbox>, Path(board): Path<String>) -> Json<Stats> {
    Json(Stats {
        requests: sandbox.requests(&board),
    })
}

async fn reset(State(sandbox): State<Sandbox>) -> StatusCode {
    sandbox.boards.lock().expect("sandbox state lock").clear();
    sandbox.extras.lock().expect("sandbox state lock").clear();
    StatusCode::NO_CONTENT
}
