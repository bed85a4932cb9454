//! Configuration, in layers (later wins):
//!
//! 1. `config/default.toml` — every setting, with comments; points every board at the sandbox.
//! 2. `config/{BOARDCAST_ENV}.toml`, if `BOARDCAST_ENV` is set and the file exists.
//! 3. Environment variables `BOARDCAST__SECTION__KEY` (e.g. `BOARDCAST__DISPATCH__CONCURRENCY=4`).
//!    A board's key is its id with `-` written as `_`:
//!    `BOARDCAST__BOARDS__WELCOME_TO_THE_JUNGLE__BASE_URL`.
//! 4. `<secrets_dir>/database/url` and `<secrets_dir>/amqp/url` (mounted
//!    secrets: these URLs carry passwords), when the files exist.
//! 5. `DATABASE_URL` and `AMQP_URL`, when set.
//!
//! Board credentials never live in a file of this repository: they come from
//! `BOARDCAST__BOARDS__<BOARD>__CREDENTIALS__<NAME>` or from the file
//! `<secrets_dir>/<board>/<name>`, and are held as [`SecretString`] so that no
//! `Debug` or log line can print them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::intake::message::{Poster, looks_like_email};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not load configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("could not read secret file {path}: {source}")]
    SecretFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub amqp: AmqpSettings,
    pub dispatch: DispatchSettings,
    pub retry: RetryPolicy,
    pub sandbox: SandboxSettings,
    pub ops: OpsSettings,
    /// Directory of secret files, one folder per board (`<dir>/<board>/<name>`).
    #[serde(default)]
    pub secrets_dir: Option<PathBuf>,
    /// Keyed by board id with `-` written as `_` (see [`board_id`]).
    #[serde(default)]
    pub boards: BTreeMap<String, BoardSettings>,
    /// Per-tenant choices; a tenant without an entry gets every enabled board.
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantSettings>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DatabaseSettings {
    #[serde(serialize_with = "redact::url")]
    pub url: SecretString,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AmqpSettings {
    #[serde(serialize_with = "redact::url")]
    pub url: SecretString,
    /// Topic exchange the ATS publishes to.
    pub exchange: String,
    pub queue: String,
    pub routing_key: String,
    /// Where rejected messages go (a fanout exchange and its queue).
    pub dead_letter_exchange: String,
    pub dead_letter_queue: String,
    /// Topic exchange where the ATS hears about postings (`posting.<state>`, `job.settled`).
    pub events_exchange: String,
    /// How often the event relay looks for new events.
    pub events_poll_interval_ms: u64,
    /// Published events are kept this long, then pruned.
    pub events_retention_hours: u64,
    /// Unacked deliveries per consumer.
    pub prefetch: u16,
    /// Deliveries already buffered that the intake commits in one transaction
    /// (one WAL flush for the lot). At most `prefetch`: more are never buffered.
    #[serde(default = "default_intake_batch")]
    pub intake_batch: u16,
    /// A message redelivered this many times (e.g. it crashes the worker) is dead-lettered.
    pub delivery_limit: u32,
    pub max_message_bytes: usize,
    /// Language variants (ads) one message may carry; each is a posting per board.
    #[serde(default = "default_max_ads_per_message")]
    pub max_ads_per_message: usize,
}

fn default_intake_batch() -> u16 {
    64
}

fn default_max_ads_per_message() -> usize {
    crate::intake::message::DEFAULT_MAX_ADS
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DispatchSettings {
    /// How often each board loop looks for due postings when nothing woke it.
    pub poll_interval_ms: u64,
    /// How long a claim is good for. Must exceed a board call's total time.
    pub lease_ms: u64,
    /// How often expired leases are looked for.
    pub rescue_interval_ms: u64,
    /// Per HTTP request to a board, unless the board overrides it.
    pub request_timeout_ms: u64,
    /// Concurrent requests per board, per replica, unless the board overrides it.
    pub concurrency: usize,
    /// How often a board that confirms later (a task, a feed fetch) is asked again.
    pub confirm_poll_ms: u64,
    /// How long the board's circuit stays open after repeated failures or refused credentials.
    pub circuit_open_ms: u64,
    /// Consecutive transient failures that open a board's circuit.
    pub circuit_failures: u32,
    /// How often each feed board's crawl report is read.
    pub crawl_report_poll_ms: u64,
    /// The largest board answer read; a longer one fails the attempt.
    #[serde(default = "default_max_answer_bytes")]
    pub max_answer_bytes: usize,
    /// Most finished attempts written in one transaction by the completion writer.
    #[serde(default = "default_completion_batch")]
    pub completion_batch: usize,
    /// The least time between two claims of one board loop, so postings that
    /// fall due a few ms apart (retries, confirmations) go out together
    /// instead of a claim transaction each. Adds at most this to a posting's wait.
    #[serde(default = "default_claim_gap_ms")]
    pub claim_gap_ms: u64,
}

fn default_claim_gap_ms() -> u64 {
    20
}

fn default_completion_batch() -> usize {
    256
}

fn default_max_answer_bytes() -> usize {
    crate::boards::http::DEFAULT_MAX_ANSWER_BYTES
}

impl DispatchSettings {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
    pub fn claim_gap(&self) -> Duration {
        Duration::from_millis(self.claim_gap_ms)
    }
    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms)
    }
    pub fn rescue_interval(&self) -> Duration {
        Duration::from_millis(self.rescue_interval_ms)
    }
    pub fn confirm_poll(&self) -> Duration {
        Duration::from_millis(self.confirm_poll_ms)
    }
}

/// The durable retry schedule (see [`crate::dispatch::schedule`]).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
pub struct RetryPolicy {
    /// Delay before the second attempt.
    pub base_ms: u64,
    /// Longest delay between two attempts.
    pub cap_ms: u64,
    pub max_attempts: u32,
    /// A board's Retry-After is honoured up to this.
    pub max_retry_after_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OpsSettings {
    /// The private ops server (API, dashboard, metrics, readiness) listens here.
    pub listen: String,
    /// The public server (feeds, job pages, sitemap, health) listens here:
    /// the only one meant to face the internet.
    #[serde(default = "default_public_listen")]
    pub public_listen: String,
    /// How the boards reach the public server (behind a proxy, say); feed
    /// URLs given to boards start with it. `http://<public_listen>` when unset.
    #[serde(default)]
    pub public_url: Option<String>,
    /// A dashboard sign-in lasts this long.
    #[serde(default = "default_session_minutes")]
    pub session_minutes: u32,
    /// `Secure` on the dashboard's cookie: always (`true`), never (`false`),
    /// or when unset only when the proxy says the request came over https
    /// (`X-Forwarded-Proto: https`).
    #[serde(default)]
    pub secure_cookie: Option<bool>,
    /// Signs dashboard sessions (at least 32 bytes), so that every replica
    /// accepts them. Only from `BOARDCAST__OPS__SESSION_KEY` or
    /// `<secrets_dir>/ops-session-key`; random per process when unset.
    #[serde(default, serialize_with = "redact::optional_secret")]
    pub session_key: Option<SecretString>,
    /// Bearer tokens for the API, by name (the name is recorded with every
    /// action). Only from `BOARDCAST__OPS__TOKENS__<NAME>` or `<secrets_dir>/ops/<name>`.
    #[serde(default, serialize_with = "redact::secrets")]
    pub tokens: BTreeMap<String, SecretString>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SandboxSettings {
    pub listen: String,
    /// The sandbox's SMTP listener (the e-mail boards' desks).
    pub smtp_listen: String,
    /// The sandbox's HTTPS listener with client certificates (the mTLS boards' desks).
    pub tls_listen: String,
    /// The feed boards' crawlers fetch our feeds this often.
    pub crawl_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BoardSettings {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub base_url: String,
    /// Where a board with OAuth gets its tokens, when that is not the
    /// adapter's default (the board's real token endpoint, which lives on
    /// another host than its API for LinkedIn and Google).
    #[serde(default)]
    pub token_url: Option<String>,
    /// Languages (ISO 639-1) the board publishes in.
    pub languages: Vec<String>,
    /// Countries (ISO 3166-1 alpha-2) the board publishes jobs in; empty for anywhere.
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub concurrency: Option<usize>,
    #[serde(default)]
    pub request_timeout_ms: Option<u64>,
    /// Overrides the adapter's documented requests per minute, for all
    /// replicas together.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// Further budgets on top of the board's documented ones, for all
    /// replicas together: `[{ requests = 5000, period_ms = 86400000 }]`
    /// (a contract's daily cap, say).
    #[serde(default)]
    pub budgets: Vec<BudgetSettings>,
    /// At most this many of the board's requests at once, across all
    /// replicas (`concurrency` is per replica).
    #[serde(default)]
    pub cluster_concurrency: Option<u32>,
    #[serde(default)]
    pub retry: Option<RetryPolicy>,
    /// Non-secret account settings (organisation ids, sender ids...).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Secret settings; only from the environment or secret files.
    #[serde(default, serialize_with = "redact::secrets")]
    pub credentials: BTreeMap<String, SecretString>,
    /// Every tenant's [`TenantProfile`], filled in when the adapter is built
    /// (never read from a file: it comes from `[tenants.<id>]`).
    #[serde(skip)]
    pub tenant_profiles: BTreeMap<String, TenantProfile>,
}

/// What boards need to know of a tenant, whichever account it posts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantProfile {
    /// The job poster when a message names none (LinkedIn requires one).
    pub poster: Option<Poster>,
    /// Indeed Job Sync's `sourceName`: the employer's parent organisation.
    pub indeed_source_name: Option<String>,
}

/// "At most `requests` in any `period_ms`".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct BudgetSettings {
    pub requests: u32,
    pub period_ms: u64,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TenantSettings {
    /// Boards this tenant publishes to with `targets: "all"`; all enabled boards when absent.
    #[serde(default)]
    pub boards: Option<Vec<String>>,
    /// The tenant's own accounts at boards, keyed like `[boards]`. A board
    /// without one here uses the deployment's account.
    #[serde(default)]
    pub accounts: BTreeMap<String, AccountSettings>,
    /// The job poster's e-mail when a message has no `job.poster` (LinkedIn
    /// refuses jobs without one).
    #[serde(default)]
    pub poster_email: Option<String>,
    /// The default poster's name, shown with `poster_email`.
    #[serde(default)]
    pub poster_name: Option<String>,
    /// Indeed Job Sync's `sourceName` for this tenant's jobs: the employer's
    /// parent organisation, which decides the Indeed account the jobs belong
    /// to. The job's company name when unset.
    #[serde(default)]
    pub indeed_source_name: Option<String>,
}

impl TenantSettings {
    pub fn profile(&self) -> TenantProfile {
        TenantProfile {
            poster: self.poster_email.as_ref().map(|email| Poster {
                name: self.poster_name.clone(),
                email: email.clone(),
            }),
            indeed_source_name: self.indeed_source_name.clone(),
        }
    }
}

/// A tenant's own account at one board: its contract or organisation ids and
/// its credentials.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AccountSettings {
    /// Laid over the board's options, key by key.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Replace the board's credentials as a whole (an account is never half
    /// the tenant's and half ours). Only from
    /// `BOARDCAST__TENANTS__<TENANT>__ACCOUNTS__<BOARD>__CREDENTIALS__<NAME>`
    /// or `<secrets_dir>/tenants/<tenant>/<board>/<name>`.
    #[serde(default, serialize_with = "redact::secrets")]
    pub credentials: BTreeMap<String, SecretString>,
}

/// A board's id from its configuration key: `welcome_to_the_jungle` -> `welcome-to-the-jungle`.
pub fn board_id(key: &str) -> String {
    key.replace('_', "-")
}

/// `config/default.toml`, built into the binary: every setting has a default
/// even where no config folder exists.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

impl Settings {
    /// Loads the layers above from `config_dir` (normally `./config`).
    pub fn load(config_dir: &Path) -> Result<Settings, ConfigError> {
        // The built-in defaults first, so the binary runs from any folder;
        // a `default.toml` in the config folder may still override them.
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::from(config_dir.join("default.toml")).required(false));
        if let Ok(environment) = std::env::var("BOARDCAST_ENV") {
            builder = builder.add_source(
                config::File::from(config_dir.join(format!("{environment}.toml"))).required(false),
            );
        }
        builder = builder.add_source(
            config::Environment::with_prefix("BOARDCAST")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        if let Ok(url) = std::env::var("DATABASE_URL") {
            builder = builder.set_override("database.url", url)?;
        }
        if let Ok(url) = std::env::var("AMQP_URL") {
            builder = builder.set_override("amqp.url", url)?;
        }
        let mut settings: Settings = builder.build()?.try_deserialize()?;
        settings.read_secret_files()?;
        settings.check()?;
        Ok(settings)
    }

    /// Fills credentials from `<secrets_dir>/<board>/<name>` where the environment set none.
    fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        self.read_secret_files_unless_in_env(|name| std::env::var_os(name).is_some())
    }

    fn read_secret_files_unless_in_env(
        &mut self,
        set_in_env: impl Fn(&str) -> bool,
    ) -> Result<(), ConfigError> {
        let Some(dir) = self.secrets_dir.clone() else {
            return Ok(());
        };
        // Connection URLs carry passwords: a mounted secret wins over the
        // defaults, but not over DATABASE_URL / AMQP_URL set by the operator.
        if !set_in_env("DATABASE_URL")
            && let Some(url) = read_secret_file(&dir.join("database").join("url"))?
        {
            self.database.url = url;
        }
        if !set_in_env("AMQP_URL")
            && let Some(url) = read_secret_file(&dir.join("amqp").join("url"))?
        {
            self.amqp.url = url;
        }
        read_secret_folder(&dir.join("ops"), &mut self.ops.tokens)?;
        let session_key = dir.join("ops-session-key");
        if self.ops.session_key.is_none() && session_key.is_file() {
            let value = std::fs::read_to_string(&session_key).map_err(|source| {
                ConfigError::SecretFile {
                    path: session_key.clone(),
                    source,
                }
            })?;
            self.ops.session_key = Some(SecretString::from(value.trim().to_owned()));
        }
        for (key, board) in &mut self.boards {
            read_secret_folder(&dir.join(board_id(key)), &mut board.credentials)?;
        }
        for (tenant, settings) in &mut self.tenants {
            for (key, account) in &mut settings.accounts {
                let folder = dir.join("tenants").join(tenant).join(board_id(key));
                read_secret_folder(&folder, &mut account.credentials)?;
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.amqp.intake_batch == 0 || self.amqp.intake_batch > self.amqp.prefetch {
            return Err(ConfigError::Invalid(format!(
                "amqp.intake_batch ({}) must be between 1 and amqp.prefetch ({})",
                self.amqp.intake_batch, self.amqp.prefetch
            )));
        }
        if let Some(key) = &self.ops.session_key {
            use secrecy::ExposeSecret;
            if key.expose_secret().len() < 32 {
                return Err(ConfigError::Invalid(
                    "ops.session_key must be at least 32 bytes".to_owned(),
                ));
            }
        }
        if self.dispatch.lease_ms <= self.dispatch.request_timeout_ms {
            return Err(ConfigError::Invalid(format!(
                "dispatch.lease_ms ({}) must be longer than dispatch.request_timeout_ms ({}), or a slow board would be sent the same posting twice",
                self.dispatch.lease_ms, self.dispatch.request_timeout_ms
            )));
        }
        for (tenant, settings) in &self.tenants {
            if let Some(email) = &settings.poster_email
                && !looks_like_email(email)
            {
                return Err(ConfigError::Invalid(format!(
                    "tenants.{tenant}.poster_email \"{email}\" is not an e-mail address"
                )));
            }
            if settings.poster_name.is_some() && settings.poster_email.is_none() {
                return Err(ConfigError::Invalid(format!(
                    "tenants.{tenant}.poster_name needs tenants.{tenant}.poster_email"
                )));
            }
            if let Some(key) = settings
                .accounts
                .keys()
                .find(|k| !self.boards.contains_key(*k))
            {
                return Err(ConfigError::Invalid(format!(
                    "tenants.{tenant}.accounts.{key}: there is no [boards.{key}]"
                )));
            }
        }
        for (key, board) in &self.boards {
            if board.languages.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "boards.{key}.languages is empty"
                )));
            }
            if let Some(timeout) = board.request_timeout_ms
                && timeout >= self.dispatch.lease_ms
            {
                return Err(ConfigError::Invalid(format!(
                    "boards.{key}.request_timeout_ms ({timeout}) must be shorter than dispatch.lease_ms"
                )));
            }
        }
        Ok(())
    }

    /// The effective configuration as TOML (or JSON), secrets redacted:
    /// what `boardcast config` prints.
    pub fn to_redacted_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    pub fn to_redacted_json(&self) -> Result<String, ConfigError> {
        serde_json::to_string_pretty(self).map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// Every board id this deployment knows, enabled or not.
    pub fn board_ids(&self) -> BTreeSet<String> {
        self.boards.keys().map(|key| board_id(key)).collect()
    }

    pub fn board(&self, id: &str) -> Option<&BoardSettings> {
        self.boards.get(&id.replace('-', "_"))
    }

    /// The boards `targets: "all"` means for this tenant.
    pub fn boards_for_tenant(&self, tenant: &str) -> Vec<String> {
        let enabled = self
            .boards
            .iter()
            .filter(|(_, board)| board.enabled)
            .map(|(key, _)| board_id(key));
        match self.tenants.get(tenant).and_then(|t| t.boards.as_ref()) {
            Some(chosen) => enabled.filter(|id| chosen.contains(id)).collect(),
            None => enabled.collect(),
        }
    }

    /// Every configured tenant's profile, by tenant id.
    pub fn tenant_profiles(&self) -> BTreeMap<String, TenantProfile> {
        self.tenants
            .iter()
            .map(|(tenant, settings)| (tenant.clone(), settings.profile()))
            .collect()
    }

    /// Every tenant account at `board` with the board's settings it makes:
    /// the board's own, its options overlaid, its credentials replaced.
    pub fn tenant_accounts(&self, board: &str) -> Vec<(String, BoardSettings)> {
        let key = board.replace('-', "_");
        let Some(base) = self.boards.get(&key) else {
            return Vec::new();
        };
        self.tenants
            .iter()
            .filter_map(|(tenant, settings)| {
                let account = settings.accounts.get(&key)?;
                let mut merged = base.clone();
                merged.options.extend(account.options.clone());
                if !account.credentials.is_empty() {
                    merged.credentials = account.credentials.clone();
                }
                Some((tenant.clone(), merged))
            })
            .collect()
    }

    /// How boards reach the public server (`ops.public_url`, or `http://<ops.public_listen>`), no trailing `/`.
    pub fn public_url(&self) -> String {
        let base = self.ops.public_url.clone();
        let base = base.unwrap_or_else(|| format!("http://{}", self.ops.public_listen));
        base.trim_end_matches('/').to_owned()
    }

    /// The address a feed board's crawler fetches `file` from.
    pub fn feed_url(&self, file: &str) -> String {
        format!("{}/feeds/{file}", self.public_url())
    }

    /// The retry policy a board's postings follow.
    pub fn retry_policy(&self, board: &str) -> RetryPolicy {
        self.board(board)
            .and_then(|b| b.retry)
            .unwrap_or(self.retry)
    }
}

/// How `boardcast config` shows secrets: which are set, never their values.
mod redact {
    use std::collections::BTreeMap;

    use secrecy::{ExposeSecret, SecretString};
    use serde::Serializer;

    pub const REDACTED: &str = "[redacted]";

    pub fn optional_secret<S: Serializer>(
        secret: &Option<SecretString>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(_) => serializer.serialize_some(REDACTED),
            None => serializer.serialize_none(),
        }
    }

    pub fn secrets<S: Serializer>(
        secrets: &BTreeMap<String, SecretString>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(secrets.keys().map(|name| (name, REDACTED)))
    }

    /// A connection URL with its password (if any) replaced: the host and
    /// user are what an operator checks, the password never shows.
    pub fn url<S: Serializer>(url: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
        match url::Url::parse(url.expose_secret()) {
            Ok(mut parsed) => {
                if parsed.password().is_some() {
                    // Cannot fail: a URL with a password has a host.
                    let _ = parsed.set_password(Some("redacted"));
                }
                serializer.serialize_str(parsed.as_str())
            }
            Err(_) => serializer.serialize_str(REDACTED),
        }
    }
}

/// The trimmed contents of `path`, if that file exists.
fn read_secret_file(path: &Path) -> Result<Option<SecretString>, ConfigError> {
    if !path.is_file() {
        return Ok(None);
    }
    let value = std::fs::read_to_string(path).map_err(|source| ConfigError::SecretFile {
        path: path.to_owned(),
        source,
    })?;
    Ok(Some(SecretString::from(value.trim().to_owned())))
}

/// Adds `<folder>/<name>` files as secrets where none is set already.
fn default_public_listen() -> String {
    "127.0.0.1:8641".to_owned()
}

fn default_session_minutes() -> u32 {
    8 * 60
}

fn read_secret_folder(
    folder: &Path,
    secrets: &mut BTreeMap<String, SecretString>,
) -> Result<(), ConfigError> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if secrets.contains_key(&name) || !path.is_file() {
            continue;
        }
        let value = std::fs::read_to_string(&path).map_err(|source| ConfigError::SecretFile {
            path: path.clone(),
            source,
        })?;
        secrets.insert(name, SecretString::from(value.trim().to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn settings() -> Settings {
        Settings::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config")).unwrap()
    }

    #[test]
    fn the_defaults_need_no_config_folder() {
        let built_in = Settings::load(Path::new("/nonexistent/boardcast-config")).unwrap();
        let from_folder = settings();
        assert_eq!(built_in.amqp.queue, from_folder.amqp.queue);
        assert_eq!(
            built_in.boards.keys().collect::<Vec<_>>(),
            from_folder.boards.keys().collect::<Vec<_>>()
        );
        assert!(!built_in.boards.is_empty());
    }

    #[test]
    fn listeners_apart_and_a_short_session_key_refused() {
        let mut settings = settings();
        assert_ne!(settings.ops.listen, settings.ops.public_listen);
        assert!(settings.ops.listen.starts_with("127.0.0.1:"));
        assert_eq!(
            settings.public_url(),
            format!("http://{}", settings.ops.public_listen)
        );
        settings.ops.session_key = Some(SecretString::from("too short"));
        assert!(settings.check().is_err());
        settings.ops.session_key = Some(SecretString::from("k".repeat(32)));
        assert!(settings.check().is_ok());
    }

    #[test]
    fn an_intake_batch_larger_than_the_prefetch_is_refused() {
        let mut settings = settings();
        assert!(settings.amqp.intake_batch <= settings.amqp.prefetch);
        assert!(settings.check().is_ok());
        settings.amqp.intake_batch = settings.amqp.prefetch + 1;
        assert!(settings.check().is_err());
        settings.amqp.intake_batch = 0;
        assert!(settings.check().is_err());
    }

    #[test]
    fn a_tenant_account_overlays_options_and_replaces_credentials() {
        let mut settings = settings();
        let board = settings.boards.get_mut("stepstone").unwrap();
        board
            .credentials
            .insert("username".into(), SecretString::from("ours"));
        board
            .credentials
            .insert("password".into(), SecretString::from("our-password"));
        let account = AccountSettings {
            options: BTreeMap::from([("organisation_id".into(), "55501".into())]),
            credentials: BTreeMap::from([("username".into(), SecretString::from("theirs"))]),
        };
        settings.tenants.insert(
            "northwind".into(),
            TenantSettings {
                accounts: BTreeMap::from([("stepstone".into(), account)]),
                ..TenantSettings::default()
            },
        );

        let accounts = settings.tenant_accounts("stepstone");
        assert_eq!(accounts.len(), 1);
        let (tenant, merged) = &accounts[0];
        assert_eq!(tenant, "northwind");
        assert_eq!(merged.options["organisation_id"], "55501");
        assert_eq!(
            merged.options["sender_id"], "boardcast",
            "other options kept"
        );
        assert_eq!(merged.credentials["username"].expose_secret(), "theirs");
        assert!(
            !merged.credentials.contains_key("password"),
            "never half the tenant's account and half ours"
        );
        assert!(settings.tenant_accounts("linkedin").is_empty());
    }

    #[test]
    fn the_printed_configuration_redacts_every_secret() {
        let mut settings = settings();
        settings.database.url =
            SecretString::from("postgres://boardcast:db-hunter2@db.internal:5432/boardcast");
        settings.amqp.url = SecretString::from("amqp://worker:mq-hunter2@mq.internal:5672/%2f");
        settings
            .ops
            .tokens
            .insert("oncall".into(), SecretString::from("ops-hunter2"));
        settings
            .boards
            .get_mut("linkedin")
            .unwrap()
            .credentials
            .insert("client_secret".into(), SecretString::from("li-hunter2"));
        settings.tenants.insert(
            "northwind".into(),
            TenantSettings {
                accounts: BTreeMap::from([(
                    "stepstone".into(),
                    AccountSettings {
                        credentials: BTreeMap::from([(
                            "password".into(),
                            SecretString::from("ss-hunter2"),
                        )]),
                        ..AccountSettings::default()
                    },
                )]),
                ..TenantSettings::default()
            },
        );

        for printed in [
            settings.to_redacted_toml().unwrap(),
            settings.to_redacted_json().unwrap(),
        ] {
            assert!(!printed.contains("hunter2"), "{printed}");
            assert!(printed.contains("db.internal"), "hosts stay visible");
            assert!(printed.contains("client_secret"), "names stay visible");
            assert!(printed.contains(redact::REDACTED));
            assert!(printed.contains("linkedin"));
        }
    }

    #[test]
    fn connection_urls_come_from_secret_files() {
        let dir = std::env::temp_dir().join(format!("boardcast-secrets-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("database")).unwrap();
        std::fs::write(
            dir.join("database/url"),
            "postgres://db.internal/boardcast\n",
        )
        .unwrap();
        let mut settings = settings();
        settings.secrets_dir = Some(dir.clone());
        settings.database.url = SecretString::from("postgres://from-the-environment/db");

        let mut with_env = settings.clone();
        with_env
            .read_secret_files_unless_in_env(|name| name == "DATABASE_URL")
            .unwrap();
        assert_eq!(
            with_env.database.url.expose_secret(),
            "postgres://from-the-environment/db",
            "DATABASE_URL wins over the file"
        );

        settings.read_secret_files_unless_in_env(|_| false).unwrap();
        assert_eq!(
            settings.database.url.expose_secret(),
            "postgres://db.internal/boardcast"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_tenant_default_poster_must_be_an_email_address() {
        let mut settings = settings();
        settings.tenants.insert(
            "northwind".into(),
            TenantSettings {
                poster_email: Some("hr at northwind".into()),
                ..TenantSettings::default()
            },
        );
        let error = settings.check().unwrap_err().to_string();
        assert!(error.contains("tenants.northwind.poster_email"), "{error}");
        settings.tenants.get_mut("northwind").unwrap().poster_email =
            Some("hr@northwind.example".into());
        settings.tenants.get_mut("northwind").unwrap().poster_name = Some("Ana".into());
        settings.check().unwrap();
        let profile = &settings.tenant_profiles()["northwind"];
        assert_eq!(
            profile.poster,
            Some(Poster {
                name: Some("Ana".into()),
                email: "hr@northwind.example".into()
            })
        );
    }

    #[test]
    fn an_account_at_an_unknown_board_is_refused() {
        let mut settings = settings();
        settings.tenants.insert(
            "northwind".into(),
            TenantSettings {
                accounts: BTreeMap::from([("monstre".into(), AccountSettings::default())]),
                ..TenantSettings::default()
            },
        );
        let error = settings.check().unwrap_err().to_string();
        assert!(
            error.contains("tenants.northwind.accounts.monstre"),
            "{error}"
        );
    }
}
