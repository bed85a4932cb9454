//! Configuration, in layers (later wins):
//!
//! 1. `config/default.toml` — every setting, with comments; points every board at the sandbox.
//! 2. `config/{BOARDCAST_ENV}.toml`, if `BOARDCAST_ENV` is set and the file exists.
//! 3. Environment variables `BOARDCAST__SECTION__KEY` (e.g. `BOARDCAST__DISPATCH__CONCURRENCY=4`).
//!    A board's key is its id with `-` written as `_`:
//!    `BOARDCAST__BOARDS__WELCOME_TO_THE_JUNGLE__BASE_URL`.
//! 4. `DATABASE_URL` and `AMQP_URL`, when set.
//!
//! Board credentials never live in a file of this repository: they come from
//! `BOARDCAST__BOARDS__<BOARD>__CREDENTIALS__<NAME>` or from the file
//! `<secrets_dir>/<board>/<name>`, and are held as [`SecretString`] so that no
//! `Debug` or log line can print them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

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

#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AmqpSettings {
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
    /// Unacked deliveries per consumer; each is one short Postgres transaction.
    pub prefetch: u16,
    /// A message redelivered this many times (e.g. it crashes the worker) is dead-lettered.
    pub delivery_limit: u32,
    pub max_message_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
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
}

impl DispatchSettings {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
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
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct RetryPolicy {
    /// Delay before the second attempt.
    pub base_ms: u64,
    /// Longest delay between two attempts.
    pub cap_ms: u64,
    pub max_attempts: u32,
    /// A board's Retry-After is honoured up to this.
    pub max_retry_after_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OpsSettings {
    /// The ops HTTP server (API, metrics, health, feeds) listens here.
    pub listen: String,
    /// How the boards reach this server (behind a proxy, say); feed URLs
    /// given to boards start with it. `http://<listen>` when unset.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Bearer tokens for the API, by name (the name is recorded with every
    /// action). Only from `BOARDCAST__OPS__TOKENS__<NAME>` or `<secrets_dir>/ops/<name>`.
    #[serde(default)]
    pub tokens: BTreeMap<String, SecretString>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SandboxSettings {
    pub listen: String,
    /// The sandbox's SMTP listener (the e-mail boards' desks).
    pub smtp_listen: String,
    /// The sandbox's HTTPS listener with client certificates (the mTLS boards' desks).
    pub tls_listen: String,
    /// The feed boards' crawlers fetch our feeds this often.
    pub crawl_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
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
    /// Overrides the adapter's documented requests per minute (per replica).
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    #[serde(default)]
    pub retry: Option<RetryPolicy>,
    /// Non-secret account settings (organisation ids, sender ids...).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Secret settings; only from the environment or secret files.
    #[serde(default)]
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

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountSettings {
    /// Laid over the board's options, key by key.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Replace the board's credentials as a whole (an account is never half
    /// the tenant's and half ours). Only from
    /// `BOARDCAST__TENANTS__<TENANT>__ACCOUNTS__<BOARD>__CREDENTIALS__<NAME>`
    /// or `<secrets_dir>/tenants/<tenant>/<board>/<name>`.
    #[serde(default)]
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
        let Some(dir) = self.secrets_dir.clone() else {
            return Ok(());
        };
        read_secret_folder(&dir.join("ops"), &mut self.ops.tokens)?;
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

    /// How boards reach the ops server (`ops.public_url`, or `http://<ops.listen>`), no trailing `/`.
    pub fn public_url(&self) -> String {
        let base = self.ops.public_url.clone();
        let base = base.unwrap_or_else(|| format!("http://{}", self.ops.listen));
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

/// Adds `<folder>/<name>` files as secrets where none is set already.
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
