//! Job boards: one file per board, all behind the [`Board`] trait.
//!
//! A board module supplies only what is its own: how a posting becomes the
//! board's request (a pure `render` function, tested with golden files) and
//! how the board's answers read (success, an id to poll, or an error class).
//! Sending, timeouts, retries, leases and the record of every attempt are the
//! dispatcher's, shared by all boards (see [`crate::dispatch`]).
//!
//! Adding a board: write `boards/<board>.rs`, add one arm to [`build`], a
//! `[boards.<board>]` section to `config/default.toml`, and its sandbox twin
//! in `sandbox/<board>.rs`. No other board changes.

pub mod adzuna;
pub mod batch;
pub mod bundesagentur;
pub mod careerbuilder;
pub mod careerjet;
pub mod craigslist;
pub mod feed;
pub mod flashpost;
pub mod google_jobs;
pub mod http;
pub mod indeed;
pub mod indeed_feed;
pub mod infojobs;
pub mod jooble;
pub mod kariera;
pub mod linkedin;
pub mod linkedin_feed;
pub mod monster;
pub mod oauth;
pub mod preview;
pub mod reed;
pub mod render;
pub mod stepstone;
pub mod talent;
pub mod trovit;
pub mod vagas;
pub mod welcome_to_the_jungle;
pub mod xing;
pub mod ziprecruiter;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use uuid::Uuid;

use crate::config::{BoardSettings, Settings, board_id};
use crate::intake::message::{Job, LocalizedAd};

/// One posting, as a board adapter needs it.
#[derive(Debug, Clone, Copy)]
pub struct PostingContext<'a> {
    /// Our id for the posting, the same at every board (<= 20 chars, `[a-z0-9]`).
    pub reference: &'a str,
    pub tenant_id: &'a str,
    pub locale: &'a str,
    pub job: &'a Job,
    pub ad: &'a LocalizedAd,
    /// The board's id, once known.
    pub external_id: Option<&'a str>,
    /// The board shows (an earlier revision of) this ad now.
    pub live_at_board: bool,
    /// An earlier send may have reached the board without us hearing back:
    /// look the posting up (or upsert) rather than create a second copy.
    pub may_exist: bool,
    /// Stable across every attempt, rescue and redelivery of this operation.
    pub idempotency_key: Uuid,
    /// When the board first accepted this posting (`None` until then):
    /// LinkedIn's `listedAt` and Indeed's `datePublished`.
    pub first_published_at: Option<time::OffsetDateTime>,
}

impl<'a> PostingContext<'a> {
    /// A posting no board call has carried: not at the board, nothing sent
    /// that may have landed, no idempotency key (intake's feed check, feeds,
    /// job pages and previews, which call no board). Those that are at the
    /// board set `external_id` and `live_at_board` on top.
    pub fn unsent(
        reference: &'a str,
        tenant_id: &'a str,
        locale: &'a str,
        job: &'a Job,
        ad: &'a LocalizedAd,
    ) -> Self {
        Self {
            reference,
            tenant_id,
            locale,
            job,
            ad,
            external_id: None,
            live_at_board: false,
            may_exist: false,
            idempotency_key: Uuid::nil(),
            first_published_at: None,
        }
    }
}

/// What a board said yes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// Live now: the board's id and, where it gives one, the public URL.
    Live {
        external_id: String,
        url: Option<String>,
    },
    /// Handed over; the board's own signal moves it on (a crawler fetching
    /// the feed that holds it). Nothing to poll.
    Submitted { external_id: String },
    /// Accepted for later: ask again with [`Board::confirm`] and this handle.
    Accepted {
        task: String,
        external_id: Option<String>,
    },
    /// Taken down.
    Withdrawn,
    /// From [`Board::confirm`]: the board is still working on it.
    Pending,
}

/// How a failure should be treated; see DESIGN.md "Retries".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The board will not take it as it is (validation, policy, a rule of ours). No retry.
    Rejected,
    /// Nothing happened at the board (refused connection, 408, 503): safe to send again.
    Transient,
    /// The board may have acted (timeout after sending, 500, 502, 504): look up before re-sending.
    Ambiguous,
    /// Slow down (429, quota): wait without using an attempt.
    Throttled,
    /// Credentials refused even after a refresh: stop the board, not the postings.
    Auth,
}

/// A failed call, in the board's own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BoardError {
    pub class: ErrorClass,
    pub http_status: Option<u16>,
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl BoardError {
    pub fn new(class: ErrorClass, http_status: Option<u16>, message: impl Into<String>) -> Self {
        Self {
            class,
            http_status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// One of the board's documented rules, checked before sending.
    pub fn rule(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Rejected, None, message)
    }

    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }
}

/// What the shared HTTP layer saw during one adapter call, for the attempt row.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    pub http_status: Option<u16>,
    /// Hash of the last request body sent, so ops can prove what was sent.
    pub request_hash: Option<String>,
    /// What the board said beside its verdict (warnings on a success, say),
    /// kept in the attempt's history.
    pub notes: Vec<String>,
}

/// What stands in for a credential in the text a request hash covers.
pub const REDACTED: &str = "********";

impl CallLog {
    /// Keeps the hash of `body` with every secret in it masked, so two
    /// requests that differ only in a password hash the same and the hash
    /// input never holds a password (issue 12, finding 14).
    pub fn record_redacted(&mut self, body: &str, secrets: &[&str]) {
        self.request_hash = Some(http::hash(redact(body, secrets).as_bytes()));
    }
}

/// `body` with each secret replaced by [`REDACTED`], also where XML escaped
/// it once or twice (a document carried as a string inside a SOAP body).
pub fn redact(body: &str, secrets: &[&str]) -> String {
    let escapers: [fn(&str) -> String; 3] = [
        |text| quick_xml::escape::escape(text).into_owned(),
        |text| quick_xml::escape::partial_escape(text).into_owned(),
        |text| quick_xml::escape::minimal_escape(text).into_owned(),
    ];
    let mut forms: Vec<String> = Vec::new();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        // Raw, then escaped once and twice by any of the escapers in use.
        let mut level = vec![(*secret).to_owned()];
        for _ in 0..3 {
            let mut next = Vec::new();
            for form in &level {
                if !forms.contains(form) {
                    forms.push(form.clone());
                }
                for escape in escapers {
                    let escaped = escape(form);
                    if !next.contains(&escaped) {
                        next.push(escaped);
                    }
                }
            }
            level = next;
        }
    }
    // Longest first: an escaped form contains the raw one's prefix.
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    let mut text = body.to_owned();
    for form in &forms {
        text = text.replace(form.as_str(), REDACTED);
    }
    text
}

/// A panic's message, for ops (board code panics with its own words).
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// A board's documented request limits, honoured by the dispatcher per replica.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoardLimits {
    /// Requests per minute the board allows; calls are spaced evenly.
    pub requests_per_minute: Option<u32>,
    /// Further documented budgets, `(requests, per period)`, each honoured
    /// on top (Indeed: 20,000 per 10 minutes and 80,000 per hour).
    pub windows: &'static [(u32, Duration)],
    /// Sends (not confirmation polls) in any 24 hours: Google's Indexing
    /// API allows 200 publish calls a day.
    pub sends_per_day: Option<u32>,
    /// Postings one request can carry, for a board whose adapter sends
    /// concurrent attempts together (LinkedIn: 100). The dispatcher runs
    /// `concurrency` × this many attempts at once; the adapter keeps its
    /// requests in flight at `concurrency`. 0 or 1: one posting a request.
    pub postings_per_request: usize,
}

#[async_trait]
pub trait Board: Send + Sync {
    /// The id messages and configuration use ("linkedin").
    fn id(&self) -> &'static str;

    /// The board's documented limits (none by default); configuration may override.
    fn limits(&self) -> BoardLimits {
        BoardLimits::default()
    }

    /// The values of the fields the board cannot change once a posting
    /// exists (StepStone's category, say), as one comparable string; `None`
    /// when every field can be updated. When an update would change them,
    /// the dispatcher closes the board's posting and publishes a new one, and
    /// the posting's history shows both.
    fn fixed_fields(&self, posting: &PostingContext<'_>) -> Option<String> {
        let _ = posting;
        None
    }

    /// Creates the posting at the board.
    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError>;

    /// Replaces the board's copy with this revision (and puts it back online
    /// if it was withdrawn: `live_at_board` is false then).
    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError>;

    /// Takes the posting down.
    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError>;

    /// The feed format of a board that crawls a document we serve.
    fn feed(&self) -> Option<Arc<dyn feed::FeedFormat>> {
        None
    }

    /// What the board's crawler refused in our feed, where it reports it.
    async fn crawl_report(&self) -> Result<Option<feed::CrawlReport>, BoardError> {
        Ok(None)
    }

    /// Asks about work the board accepted for later ([`Receipt::Accepted`]).
    async fn confirm(
        &self,
        posting: &PostingContext<'_>,
        task: &str,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let _ = (posting, task, log);
        Err(BoardError::rule(format!(
            "{} confirms synchronously; there is no task to poll",
            self.id()
        )))
    }
}

/// One board's adapters: one for the deployment's account, and one per
/// tenant with an account of its own (`[tenants.<t>.accounts.<board>]`),
/// each with its own credentials, options and token cache.
#[derive(Clone)]
pub struct Accounts {
    pub default: Arc<dyn Board>,
    pub tenants: BTreeMap<String, Arc<dyn Board>>,
}

impl Accounts {
    pub fn id(&self) -> &'static str {
        self.default.id()
    }

    /// The adapter that speaks for `tenant`.
    pub fn for_tenant(&self, tenant: &str) -> &Arc<dyn Board> {
        self.tenants.get(tenant).unwrap_or(&self.default)
    }

    /// Whether `tenant` posts with an account of its own.
    pub fn has_own_account(&self, tenant: &str) -> bool {
        self.tenants.contains_key(tenant)
    }
}

/// A board's configuration, as its constructor gets it.
pub struct BoardConfig<'a> {
    pub id: &'a str,
    /// Set when this is a tenant's own account (for error messages).
    pub tenant: Option<&'a str>,
    pub settings: &'a BoardSettings,
    pub http: reqwest::Client,
    pub request_timeout: Duration,
    /// Requests in flight per replica (the board's `concurrency`, else
    /// `dispatch.concurrency`): a board that batches bounds its batches by it.
    pub concurrency: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("board \"{0}\" is enabled but this build has no adapter for it")]
    NoAdapter(String),
    /// `whence` says where to put it: an environment variable or a secret file.
    #[error("{account} needs credential \"{name}\": {whence}")]
    MissingCredential {
        account: String,
        name: String,
        whence: String,
    },
    #[error("board \"{board}\" needs option \"{name}\" in [boards.{key}.options]")]
    MissingOption {
        board: String,
        key: String,
        name: String,
    },
    #[error("board \"{board}\" has an invalid token_url: {error}")]
    TokenUrl {
        board: String,
        error: url::ParseError,
    },
    #[error("board \"{board}\" has an invalid base_url: {error}")]
    BaseUrl {
        board: String,
        error: url::ParseError,
    },
}

impl BoardConfig<'_> {
    /// The named credential; in preview mode always a placeholder (see [`preview`]).
    pub fn credential(&self, name: &str) -> Result<SecretString, BuildError> {
        if preview::active() {
            return Ok(preview::placeholder());
        }
        if let Some(value) = self.settings.credentials.get(name) {
            return Ok(value.clone());
        }
        let (board, key, upper) = (
            self.id,
            self.id.replace('-', "_").to_uppercase(),
            name.to_uppercase(),
        );
        let (account, whence) = match self.tenant {
            None => (
                format!("board \"{board}\""),
                format!(
                    "set BOARDCAST__BOARDS__{key}__CREDENTIALS__{upper} or write it to <secrets_dir>/{board}/{name}"
                ),
            ),
            Some(tenant) => (
                format!("tenant \"{tenant}\"'s account at board \"{board}\""),
                format!(
                    "set BOARDCAST__TENANTS__{}__ACCOUNTS__{key}__CREDENTIALS__{upper} or write it to <secrets_dir>/tenants/{tenant}/{board}/{name}",
                    tenant.replace('-', "_").to_uppercase()
                ),
            ),
        };
        Err(BuildError::MissingCredential {
            account,
            name: name.to_owned(),
            whence,
        })
    }

    pub fn option(&self, name: &str) -> Result<String, BuildError> {
        self.settings
            .options
            .get(name)
            .cloned()
            .ok_or_else(|| BuildError::MissingOption {
                board: self.id.to_owned(),
                key: self.id.replace('-', "_"),
                name: name.to_owned(),
            })
    }

    /// The board's token endpoint: `token_url` when configured, else
    /// `default` (the board's real one).
    pub fn token_url(&self, default: &str) -> Result<url::Url, BuildError> {
        let text = self.settings.token_url.as_deref().unwrap_or(default);
        url::Url::parse(text).map_err(|error| BuildError::TokenUrl {
            board: self.id.to_owned(),
            error,
        })
    }

    /// The board's base URL, always ending in `/` so joins append.
    pub fn base_url(&self) -> Result<url::Url, BuildError> {
        let mut text = self.settings.base_url.clone();
        if !text.ends_with('/') {
            text.push('/');
        }
        url::Url::parse(&text).map_err(|error| BuildError::BaseUrl {
            board: self.id.to_owned(),
            error,
        })
    }
}

/// The shared HTTP client: one connection pool for every board.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("boardcast/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_keepalive(Duration::from_secs(60))
        .build()
        .expect("the HTTP client configuration is static")
}

/// How a board takes jobs, for boards this build has an adapter for.
pub fn mechanism(id: &str) -> Option<&'static str> {
    Some(match id {
        welcome_to_the_jungle::ID => welcome_to_the_jungle::MECHANISM,
        linkedin::ID => linkedin::MECHANISM,
        stepstone::ID => stepstone::MECHANISM,
        indeed::ID => indeed::MECHANISM,
        ziprecruiter::ID => ziprecruiter::MECHANISM,
        indeed_feed::ID => indeed_feed::MECHANISM,
        kariera::ID => kariera::MECHANISM,
        careerbuilder::ID => careerbuilder::MECHANISM,
        monster::ID => monster::MECHANISM,
        reed::ID => reed::MECHANISM,
        xing::ID => xing::MECHANISM,
        craigslist::ID => craigslist::MECHANISM,
        flashpost::ID => flashpost::MECHANISM,
        infojobs::ID => infojobs::MECHANISM,
        linkedin_feed::ID => linkedin_feed::MECHANISM,
        adzuna::ID => adzuna::MECHANISM,
        talent::ID => talent::MECHANISM,
        jooble::ID => jooble::MECHANISM,
        careerjet::ID => careerjet::MECHANISM,
        trovit::ID => trovit::MECHANISM,
        vagas::ID => vagas::MECHANISM,
        google_jobs::ID => google_jobs::MECHANISM,
        bundesagentur::ID => bundesagentur::MECHANISM,
        _ => return None,
    })
}

/// Builds the adapters of every enabled board, tenants' own accounts included.
pub fn build(settings: &Settings) -> Result<BTreeMap<String, Accounts>, BuildError> {
    let http = http_client();
    let mut boards = BTreeMap::new();
    for (key, board_settings) in settings.boards.iter().filter(|(_, b)| b.enabled) {
        let id = board_id(key);
        let accounts = build_accounts(settings, &id, board_settings, &http)?;
        boards.insert(id, accounts);
    }
    Ok(boards)
}

/// Builds one board's adapters: the deployment's account and the tenants' own.
pub fn build_accounts(
    settings: &Settings,
    id: &str,
    board_settings: &BoardSettings,
    http: &reqwest::Client,
) -> Result<Accounts, BuildError> {
    let default = build_with(settings, id, None, board_settings, http.clone())?;
    let mut tenants = BTreeMap::new();
    for (tenant, account) in settings.tenant_accounts(id) {
        let board = build_with(settings, id, Some(&tenant), &account, http.clone())?;
        tenants.insert(tenant, board);
    }
    Ok(Accounts { default, tenants })
}

/// Builds one board's adapter (to check its configuration, for example).
pub fn build_one(settings: &Settings, id: &str) -> Result<Arc<dyn Board>, BuildError> {
    let board_settings = settings
        .board(id)
        .ok_or_else(|| BuildError::NoAdapter(id.to_owned()))?;
    build_with(settings, id, None, board_settings, http_client())
}

fn build_with(
    settings: &Settings,
    id: &str,
    tenant: Option<&str>,
    board_settings: &BoardSettings,
    http: reqwest::Client,
) -> Result<Arc<dyn Board>, BuildError> {
    // Adapters that need a tenant's profile (LinkedIn's poster) read it here.
    let mut board_settings = board_settings.clone();
    board_settings.tenant_profiles = settings.tenant_profiles();
    let board_settings = &board_settings;
    let config = BoardConfig {
        id,
        tenant,
        settings: board_settings,
        http,
        request_timeout: Duration::from_millis(
            board_settings
                .request_timeout_ms
                .unwrap_or(settings.dispatch.request_timeout_ms),
        ),
        concurrency: board_settings
            .concurrency
            .unwrap_or(settings.dispatch.concurrency)
            .max(1),
    };
    Ok(match id {
        welcome_to_the_jungle::ID => {
            Arc::new(welcome_to_the_jungle::WelcomeToTheJungle::new(&config)?)
        }
        linkedin::ID => Arc::new(linkedin::LinkedIn::new(&config)?),
        stepstone::ID => Arc::new(stepstone::StepStone::new(&config)?),
        indeed::ID => Arc::new(indeed::Indeed::new(&config)?),
        ziprecruiter::ID => Arc::new(ziprecruiter::ZipRecruiter::new(&config)?),
        kariera::ID => Arc::new(kariera::Kariera::new(&config)?),
        indeed_feed::ID => Arc::new(feed::FeedBoard::new(
            Arc::new(indeed_feed::IndeedFeed::new(&config, job_pages(settings))?),
            &config,
        )?),
        careerbuilder::ID => Arc::new(careerbuilder::CareerBuilder::new(&config)?),
        monster::ID => Arc::new(monster::Monster::new(&config)?),
        reed::ID => Arc::new(reed::Reed::new(&config)?),
        xing::ID => Arc::new(xing::Xing::new(&config)?),
        craigslist::ID => Arc::new(craigslist::Craigslist::new(&config)?),
        flashpost::ID => Arc::new(flashpost::FlashPost::new(&config)?),
        infojobs::ID => Arc::new(infojobs::InfoJobs::new(&config)?),
        linkedin_feed::ID => Arc::new(feed::FeedBoard::new(
            Arc::new(linkedin_feed::LinkedInFeed::new(&config)?),
            &config,
        )?),
        adzuna::ID => Arc::new(feed::FeedBoard::new(
            Arc::new(adzuna::AdzunaFeed::new(&config, job_pages(settings))?),
            &config,
        )?),
        talent::ID => Arc::new(feed::FeedBoard::new(
            Arc::new(talent::TalentFeed::new(&config, job_pages(settings))?),
            &config,
        )?),
        jooble::ID => Arc::new(feed::FeedBoard::new(
            Arc::new(jooble::Jooble::new(&config, job_pages(settings))?),
            &config,
        )?),
        careerjet::ID => Arc::new(feed::FeedBoard::new(
            Arc::new(careerjet::Careerjet::new(&config, job_pages(settings))?),
            &config,
        )?),
        trovit::ID => Arc::new(feed::FeedBoard::new(
            Arc::new(trovit::Trovit::new(&config, job_pages(settings))?),
            &config,
        )?),
        vagas::ID => Arc::new(feed::FeedBoard::new(
            Arc::new(vagas::Vagas::new(&config)?),
            &config,
        )?),
        google_jobs::ID => Arc::new(google_jobs::GoogleJobs::new(
            &config,
            &settings.public_url(),
        )?),
        bundesagentur::ID => Arc::new(bundesagentur::Bundesagentur::new(&config)?),
        _ => return Err(BuildError::NoAdapter(id.to_owned())),
    })
}

/// Where a feed board's `<url>` sends candidates: our job pages.
fn job_pages(settings: &Settings) -> crate::feeds::job_pages::JobPages {
    crate::feeds::job_pages::JobPages::new(&settings.public_url())
}
