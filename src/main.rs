//! The `boardcast` command line. Thin: parse, load configuration, call the library.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use boardcast::boards::google_jobs;
use boardcast::config::{Settings, board_id};
use boardcast::intake::amqp::Publisher;
use boardcast::sandbox::Sandbox;
use boardcast::store::{self, PostingStatus, ops, postings, rejected};
use boardcast::telemetry::{self, LogFormat};

#[derive(Parser)]
#[command(
    name = "boardcast",
    version,
    about = "Publishes job ads to many job boards at once."
)]
struct Cli {
    /// Folder of configuration files laid over the built-in defaults:
    /// default.toml, then $BOARDCAST_ENV.toml (both optional).
    #[arg(
        long,
        global = true,
        env = "BOARDCAST_CONFIG_DIR",
        default_value = "config"
    )]
    config_dir: PathBuf,
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply database migrations.
    Migrate,
    /// Run the worker: consume post-job messages and publish to the boards (migrates first).
    Run {
        /// Also run the board sandbox in this process, with fresh credentials for every board.
        #[arg(long, conflicts_with = "sandbox_host")]
        sandbox: bool,
        /// Point every board at a `boardcast sandbox` running on HOST (at the
        /// ports of [sandbox]); its credentials come from secrets_dir, as
        /// `boardcast sandbox --write-secrets` wrote them.
        #[arg(long, value_name = "HOST")]
        sandbox_host: Option<String>,
    },
    /// Exit 0 if this host's worker answers /healthz (a container HEALTHCHECK
    /// needs no curl).
    Healthcheck,
    /// Run the board sandbox: local twins of every board.
    Sandbox {
        /// Address to listen on (default: sandbox.listen).
        #[arg(long)]
        listen: Option<String>,
        /// Write the credentials the sandbox accepts to DIR/<board>/<name> (for secrets_dir).
        #[arg(long)]
        write_secrets: Option<PathBuf>,
    },
    /// Publish message files to the intake exchange, with publisher confirms.
    Publish {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List postings.
    Postings {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        job: Option<String>,
        #[arg(long)]
        board: Option<String>,
        #[arg(long)]
        status: Option<PostingStatus>,
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Retry postings now: failed ones unless --status says otherwise.
    Retry {
        #[command(flatten)]
        selection: SelectionArgs,
    },
    /// Cancel postings that have not settled (or failed).
    Cancel {
        #[command(flatten)]
        selection: SelectionArgs,
    },
    /// Pause a board for every replica: its postings wait, using no attempts.
    Pause {
        board: String,
        /// Why (kept with the pause and in the operator log).
        #[arg(long)]
        reason: String,
    },
    /// Resume a paused board.
    Resume { board: String },
    /// What a post-job message would send to each board, sending nothing
    /// (no worker, database, broker or credential needed). Exits 0 when
    /// every posting would be sent or skipped, 1 when a board rule fails,
    /// 2 for an invalid message.
    Preview {
        /// The message file, or `-` for standard input.
        file: PathBuf,
        /// The whole answer (payloads included) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// One job across all boards.
    Job {
        tenant: String,
        job: String,
        #[arg(long)]
        json: bool,
    },
    /// Boards: mechanism, languages, whether enabled and configured, and health.
    Boards {
        #[arg(long)]
        json: bool,
    },
    /// Measure a running worker: publish the samples, then many copies, and time them.
    Bench {
        /// Folder of sample messages (*.publish.json).
        #[arg(long, default_value = "../shared/samples")]
        samples: PathBuf,
        /// Copies of the largest sample to publish at once in the load phase.
        #[arg(long, default_value_t = 200)]
        copies: usize,
        /// Paced mode: publish this many messages a second (instead of a burst of copies).
        #[arg(long, requires = "seconds")]
        rate: Option<u32>,
        /// Paced mode: for this many seconds.
        #[arg(long, requires = "rate")]
        seconds: Option<u64>,
        /// Make every board of the sandbox answer after this many milliseconds
        /// (sets faults latency_ms through the sandbox's control API).
        #[arg(long)]
        board_latency_ms: Option<u64>,
        /// The sandbox to set faults on (default: http://<sandbox.listen>).
        #[arg(long)]
        sandbox_url: Option<String>,
    },
    /// Print the effective configuration (built-in defaults, config files,
    /// environment), with every secret redacted.
    Config {
        /// JSON instead of TOML.
        #[arg(long)]
        json: bool,
    },
    /// List messages that were rejected (dead-lettered), newest first, with the reason.
    Rejected {
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// One JSON object per line, with the raw message.
        #[arg(long)]
        json: bool,
    },
}

/// Which postings an ops command applies to.
#[derive(clap::Args)]
struct SelectionArgs {
    /// Posting ids (repeatable).
    #[arg(long = "posting")]
    postings: Vec<i64>,
    #[arg(long)]
    tenant: Option<String>,
    #[arg(long)]
    job: Option<String>,
    #[arg(long)]
    board: Option<String>,
    #[arg(long)]
    status: Option<PostingStatus>,
    /// Only postings in this language.
    #[arg(long)]
    locale: Option<String>,
    /// Only postings not updated for at least this many minutes.
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..=boardcast::ops::http::MAX_OLDER_THAN_MINUTES))]
    older_than_minutes: Option<i64>,
    /// Only postings whose job id or ad title contains this text.
    #[arg(long)]
    search: Option<String>,
    /// Everything matching --status (required when nothing else narrows the set).
    #[arg(long)]
    all: bool,
    /// Count what would change, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// A selection larger than this is acted on in chunks of this many
    /// postings, each its own transaction (and operator log entry), with
    /// progress on stderr.
    #[arg(long, default_value_t = 500)]
    chunk_size: usize,
    #[arg(long)]
    json: bool,
}

impl SelectionArgs {
    fn selection(&self) -> Result<ops::Selection> {
        let narrowed = !self.postings.is_empty()
            || self.tenant.is_some()
            || self.job.is_some()
            || self.board.is_some();
        if !narrowed && !self.all {
            bail!("name the postings (--posting, --tenant, --job, --board) or pass --all");
        }
        Ok(ops::Selection {
            ids: (!self.postings.is_empty()).then(|| self.postings.clone()),
            tenant: self.tenant.clone(),
            job: self.job.clone(),
            board: self.board.clone(),
            status: self.status.map(|s| s.as_str().to_owned()),
            locale: self.locale.clone(),
            older_than_minutes: self.older_than_minutes,
            search: self.search.clone(),
        })
    }
}

/// Who is acting, for operator_actions.
fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
    )
}

/// glibc's allocator tuned for a worker with thousands of requests in flight;
/// an operator's `MALLOC_*` environment variable wins over each setting.
///
/// - Arenas: glibc gives a thread that finds the arenas busy an arena of its
///   own, up to eight per core, and memory freed in one is never reused by
///   another. Two (the runtime's two worker threads on two cores take most
///   of the allocations) gave 131–137 MiB peak RSS against 147–152 with the
///   default in `bench.sh --latency-ms 1000 --concurrency 1024`, at the same
///   throughput; one arena cost about 10 % more CPU.
/// - Large buffers (feed documents of megabytes, a whole intake batch's
///   statement) are mapped and unmapped on their own rather than carved from
///   the heap, whose threshold otherwise grows with the largest block freed
///   (up to 32 MiB) and keeps such blocks as fragmentation: about 15 MiB less
///   peak RSS in `bench.sh --latency-ms 1000 --concurrency 300`.
///
/// Called before the runtime starts its threads.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    const ARENAS: libc::c_int = 2;
    const MMAP_THRESHOLD: libc::c_int = 256 * 1024;
    for (variable, parameter, value) in [
        ("MALLOC_ARENA_MAX", libc::M_ARENA_MAX, ARENAS),
        (
            "MALLOC_MMAP_THRESHOLD_",
            libc::M_MMAP_THRESHOLD,
            MMAP_THRESHOLD,
        ),
    ] {
        if std::env::var_os(variable).is_none() {
            // SAFETY: mallopt only sets an allocator tunable; glibc applies it
            // under its own lock to the allocations that follow.
            unsafe {
                libc::mallopt(parameter, value);
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn main() -> Result<()> {
    tune_malloc();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    match runtime.block_on(run(Cli::parse())) {
        // `boardcast postings | head` closing the pipe early is not an error.
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

async fn run(cli: Cli) -> Result<()> {
    telemetry::init(
        cli.log_format,
        std::io::stderr,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    let mut settings = Settings::load(&cli.config_dir)
        .with_context(|| format!("loading configuration from {}", cli.config_dir.display()))?;

    match cli.command {
        Command::Healthcheck => {
            let port = settings.ops.listen.rsplit(':').next().unwrap_or_default();
            let url = format!("http://127.0.0.1:{port}/healthz");
            let answer = reqwest::Client::new()
                .get(&url)
                .timeout(std::time::Duration::from_secs(3))
                .send()
                .await
                .and_then(reqwest::Response::error_for_status);
            if let Err(error) = answer {
                bail!("{url}: {error}");
            }
        }
        Command::Config { json } => {
            let printed = if json {
                settings.to_redacted_json()?
            } else {
                settings.to_redacted_toml()?
            };
            // `boardcast config | head` closes the pipe early: not an error.
            let _ = writeln!(std::io::stdout(), "{printed}");
        }
        Command::Preview { file, json } => {
            let raw = if file.as_os_str() == "-" {
                let mut raw = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut raw)
                    .context("reading the message from standard input")?;
                raw
            } else {
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?
            };
            let answer = match boardcast::preview::preview(&settings, &raw).await {
                Ok(answer) => answer,
                // Invalid, or a withdraw: nothing to preview.
                Err(error) => {
                    eprintln!("invalid message: {error}");
                    std::process::exit(2);
                }
            };
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
            } else {
                print_preview(&mut out, &answer)?;
            }
            out.flush()?;
            if answer.has_failures() {
                std::process::exit(1);
            }
        }
        Command::Migrate => {
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            store::migrate(&pool).await.context("migrating")?;
            println!("migrations applied");
        }
        Command::Run {
            sandbox,
            sandbox_host,
        } => {
            let shutdown = shutdown_on_signal();
            if let Some(host) = sandbox_host {
                boardcast::sandbox::Listeners::on_host(&host, &settings.sandbox)
                    .point_urls_at(&mut settings);
            }
            if sandbox {
                let sandbox = sandbox_for(&settings);
                let listeners = boardcast::sandbox::Listeners {
                    http: format!("http://{}", settings.sandbox.listen),
                    smtp: format!("smtp://{}", settings.sandbox.smtp_listen),
                    https: format!("https://{}", settings.sandbox.tls_listen),
                };
                listeners.point_boards_at(&mut settings, &sandbox);
                let listener = tokio::net::TcpListener::bind(&settings.sandbox.listen)
                    .await
                    .with_context(|| {
                        format!("binding the sandbox to {}", settings.sandbox.listen)
                    })?;
                tracing::info!(message = "Board sandbox listening.", address = %settings.sandbox.listen);
                sandbox.crawl_every(
                    format!("{}/feeds", settings.public_url()),
                    std::time::Duration::from_millis(settings.sandbox.crawl_interval_ms),
                );
                let mail = tokio::net::TcpListener::bind(&settings.sandbox.smtp_listen)
                    .await
                    .with_context(|| {
                        format!(
                            "binding the sandbox's SMTP listener to {}",
                            settings.sandbox.smtp_listen
                        )
                    })?;
                let stop = shutdown.clone();
                tokio::spawn(
                    sandbox
                        .clone()
                        .serve_mail(mail, async move { stop.cancelled().await }),
                );
                let tls = tokio::net::TcpListener::bind(&settings.sandbox.tls_listen)
                    .await
                    .with_context(|| {
                        format!(
                            "binding the sandbox's HTTPS listener to {}",
                            settings.sandbox.tls_listen
                        )
                    })?;
                let stop = shutdown.clone();
                tokio::spawn(
                    sandbox
                        .clone()
                        .serve_tls(tls, async move { stop.cancelled().await }),
                );
                let stop = shutdown.clone();
                tokio::spawn(sandbox.serve(listener, async move { stop.cancelled().await }));
            }
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            let ops = tokio::net::TcpListener::bind(&settings.ops.listen)
                .await
                .with_context(|| format!("binding the ops server to {}", settings.ops.listen))?;
            let public = tokio::net::TcpListener::bind(&settings.ops.public_listen)
                .await
                .with_context(|| {
                    format!(
                        "binding the public server to {}",
                        settings.ops.public_listen
                    )
                })?;
            boardcast::worker::run(Arc::new(settings), pool, ops, public, None, shutdown).await?;
        }
        Command::Sandbox {
            listen,
            write_secrets,
        } => {
            let sandbox = sandbox_for(&settings);
            if let Some(dir) = write_secrets {
                write_credentials(&dir, &sandbox)?;
                println!("credentials written under {}", dir.display());
            }
            let address = listen.unwrap_or(settings.sandbox.listen.clone());
            let listener = tokio::net::TcpListener::bind(&address)
                .await
                .with_context(|| format!("binding the sandbox to {address}"))?;
            println!("sandbox listening on http://{address}");
            let mail = tokio::net::TcpListener::bind(&settings.sandbox.smtp_listen)
                .await
                .with_context(|| {
                    format!(
                        "binding the SMTP listener to {}",
                        settings.sandbox.smtp_listen
                    )
                })?;
            println!("sandbox SMTP listening on {}", settings.sandbox.smtp_listen);
            let tls = tokio::net::TcpListener::bind(&settings.sandbox.tls_listen)
                .await
                .with_context(|| {
                    format!(
                        "binding the HTTPS listener to {}",
                        settings.sandbox.tls_listen
                    )
                })?;
            println!(
                "sandbox HTTPS (client certificate) listening on https://{}",
                settings.sandbox.tls_listen
            );
            // A separate sandbox crawls the feeds where boards would: the public URL.
            sandbox.crawl_every(
                format!("{}/feeds", settings.public_url()),
                std::time::Duration::from_millis(settings.sandbox.crawl_interval_ms),
            );
            let shutdown = shutdown_on_signal();
            let stop = shutdown.clone();
            tokio::spawn(
                sandbox
                    .clone()
                    .serve_mail(mail, async move { stop.cancelled().await }),
            );
            let stop = shutdown.clone();
            tokio::spawn(
                sandbox
                    .clone()
                    .serve_tls(tls, async move { stop.cancelled().await }),
            );
            sandbox
                .serve(listener, async move { shutdown.cancelled().await })
                .await?;
        }
        Command::Publish { files } => {
            let publisher = Publisher::connect(&settings.amqp).await?;
            for file in files {
                let body =
                    std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let message_id = boardcast::intake::message::identify(&body)
                    .0
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                publisher
                    .publish(&body, &message_id)
                    .await
                    .with_context(|| format!("publishing {}", file.display()))?;
                println!("{message_id}");
            }
            publisher.close().await;
        }
        Command::Postings {
            tenant,
            job,
            board,
            status,
            limit,
            json,
        } => {
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            let filter = postings::PostingFilter {
                tenant,
                job,
                board,
                status,
                limit: Some(limit),
                ..postings::PostingFilter::default()
            };
            let mut rows = postings::list(&pool, &filter).await?;
            // People read a job board by board; newest-first is for paging.
            rows.sort_by(|a, b| {
                (&a.tenant_id, &a.job_id, &a.board, &a.locale).cmp(&(
                    &b.tenant_id,
                    &b.job_id,
                    &b.board,
                    &b.locale,
                ))
            });
            print_postings(&rows, json)?;
        }
        Command::Retry { selection } => {
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            let result = bulk(&pool, Bulk::Retry, &selection).await?;
            print_action(&result, selection.json)?;
        }
        Command::Cancel { selection } => {
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            let result = bulk(&pool, Bulk::Cancel, &selection).await?;
            print_action(&result, selection.json)?;
        }
        Command::Pause { board, reason } => {
            if settings.board(&board).is_none() {
                bail!("no board {board:?}");
            }
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            let paused = store::boards::pause(&pool, &board, &cli_actor(), &reason).await?;
            println!(
                "{board}: {}",
                if paused {
                    "paused on every replica"
                } else {
                    "was already paused"
                }
            );
        }
        Command::Resume { board } => {
            if settings.board(&board).is_none() {
                bail!("no board {board:?}");
            }
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            let resumed = store::boards::resume(&pool, &board, &cli_actor()).await?;
            println!(
                "{board}: {}",
                if resumed { "resumed" } else { "was not paused" }
            );
        }
        Command::Job { tenant, job, json } => {
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            let filter = postings::PostingFilter {
                tenant: Some(tenant),
                job: Some(job),
                ..postings::PostingFilter::default()
            };
            let mut rows = postings::list(&pool, &filter).await?;
            rows.sort_by(|a, b| (&a.board, &a.locale).cmp(&(&b.board, &b.locale)));
            if !json && !rows.is_empty() {
                let mut out = std::io::stdout().lock();
                for (board, status, detail) in board_summaries(&rows) {
                    writeln!(out, "{board:<24} {status:<10} {detail}")?;
                }
                writeln!(out)?;
            }
            print_postings(&rows, json)?;
        }
        Command::Boards { json } => {
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            let mut feeds = BTreeMap::new();
            for id in settings.board_ids() {
                feeds.insert(
                    id.clone(),
                    boardcast::store::feeds::status(&pool, &id).await?,
                );
            }
            // Google's daily quota, as the attempt history spent it since midnight Pacific.
            let since = google_jobs::quota_day_start(time::OffsetDateTime::now_utc());
            let quota_used =
                boardcast::store::feeds::calls_since(&pool, google_jobs::ID, since).await?;
            let health = ops::board_health(&pool).await?;
            print_boards(&settings, &health, &feeds, quota_used, json)?;
        }
        Command::Bench {
            samples,
            copies,
            rate,
            seconds,
            board_latency_ms,
            sandbox_url,
        } => {
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            let load = match (rate, seconds) {
                (Some(rate), Some(seconds)) => boardcast::bench::Load::Paced { rate, seconds },
                _ => boardcast::bench::Load::Burst { copies },
            };
            let options = boardcast::bench::Options {
                samples,
                load,
                board_latency_ms,
                sandbox_url: sandbox_url
                    .unwrap_or_else(|| format!("http://{}", settings.sandbox.listen)),
            };
            boardcast::bench::run(&settings, &pool, &options).await?;
        }
        Command::Rejected { limit, json } => {
            let pool = store::connect(&settings.database)
                .await
                .context("connecting to PostgreSQL")?;
            let rows = rejected::list(&pool, limit).await?;
            let mut out = std::io::stdout().lock();
            for row in rows {
                if json {
                    writeln!(out, "{}", serde_json::to_string(&row)?)?;
                } else {
                    writeln!(
                        out,
                        "{}  {:<28} {:<26} {}",
                        row.received_at.date(),
                        row.message_id.as_deref().unwrap_or("-"),
                        row.reason,
                        row.detail
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Cancels on Ctrl-C or SIGTERM: the worker stops consuming and drains.
fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!(message = "Shutting down: finishing what is in flight.");
        cancel.cancel();
    });
    token
}

/// The sandbox accepts the credentials configured for each board, and makes
/// up random ones where none are.
fn sandbox_for(settings: &Settings) -> Sandbox {
    use secrecy::ExposeSecret;
    let random = Sandbox::with_random_credentials();
    let mut credentials: BTreeMap<String, BTreeMap<String, String>> = random.credentials().clone();
    for (key, board) in &settings.boards {
        let entry = credentials.entry(board_id(key)).or_default();
        for (name, value) in &board.credentials {
            entry.insert(name.clone(), value.expose_secret().to_owned());
        }
    }
    Sandbox::with_credentials(credentials)
}

fn write_credentials(dir: &std::path::Path, sandbox: &Sandbox) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    for (board, names) in sandbox.credentials() {
        let folder = dir.join(board);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        for (name, value) in names {
            let path = folder.join(name);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("writing {}", path.display()))?;
            file.write_all(value.as_bytes())?;
        }
    }
    Ok(())
}

fn print_postings(rows: &[postings::PostingView], json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        for row in rows {
            writeln!(out, "{}", serde_json::to_string(row)?)?;
        }
        return Ok(());
    }
    if rows.is_empty() {
        bail!("no postings match");
    }
    writeln!(
        out,
        "{:<12} {:<14} {:>3} {:<22} {:<6} {:<16} {:>3}  BOARD ID / LAST ERROR",
        "TENANT", "JOB", "REV", "BOARD", "LANG", "STATUS", "TRY"
    )?;
    for row in rows {
        let detail = match (&row.external_url, &row.last_error) {
            (_, Some(error)) if row.status != "posted" => error.clone(),
            (Some(url), _) => url.clone(),
            _ => row.external_id.clone().unwrap_or_default(),
        };
        writeln!(
            out,
            "{:<12} {:<14} {:>3} {:<22} {:<6} {:<16} {:>3}  {}",
            row.tenant_id,
            row.job_id,
            row.revision,
            row.board,
            row.locale,
            row.status,
            row.attempts,
            detail
        )?;
    }
    Ok(())
}

fn print_action(result: &ops::ActionResult, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(result)?);
    } else if result.dry_run {
        println!(
            "{}: would change {} postings",
            result.action, result.affected
        );
    } else {
        println!("{}: changed {} postings", result.action, result.affected);
    }
    Ok(())
}

fn print_boards(
    settings: &Settings,
    health: &[ops::BoardHealth],
    feeds: &BTreeMap<String, boardcast::store::feeds::FeedStatus>,
    quota_used: i64,
    json: bool,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if !json {
        writeln!(
            out,
            "{:<22} {:<8} {:<20} {:<11} {:>5} {:>7} {:>7} {:>10}  MECHANISM",
            "BOARD", "ENABLED", "LANGUAGES", "CONFIGURED", "DUE", "POSTED", "FAILED", "OK 1H"
        )?;
    }
    for (key, board) in &settings.boards {
        let id = board_id(key);
        let mechanism = boardcast::boards::mechanism(&id).unwrap_or("no adapter in this build");
        let adapter = boardcast::boards::build_one(settings, &id).ok();
        let configured = adapter.is_some();
        let requests_per_minute = board.requests_per_minute.or(adapter
            .as_ref()
            .and_then(|a| a.limits().requests_per_minute));
        let feed_url = adapter
            .as_ref()
            .and_then(|a| a.feed())
            .map(|f| settings.feed_url(f.file_name()));
        let row = health.iter().find(|h| h.board == id);
        let (due, posted, failed, attempts, successes) = row.map_or((0, 0, 0, 0, 0), |h| {
            (
                h.due,
                h.posted,
                h.failed,
                h.attempts_last_hour,
                h.successes_last_hour,
            )
        });
        if json {
            let value = serde_json::json!({
                "board": id,
                "enabled": board.enabled,
                "mechanism": mechanism,
                "languages": board.languages,
                "countries": board.countries,
                "configured": configured,
                "base_url": board.base_url,
                "requests_per_minute": requests_per_minute,
                "request_budgets": adapter.as_ref().map(|a| {
                    a.limits()
                        .windows
                        .iter()
                        .map(|(requests, period)| {
                            serde_json::json!({"requests": requests, "per_seconds": period.as_secs()})
                        })
                        .collect::<Vec<_>>()
                }),
                "feed_url": feed_url,
                "feed": feed_url.as_ref().and(feeds.get(&id)),
                "due": due,
                "posted": posted,
                "failed": failed,
                "attempts_last_hour": attempts,
                "successes_last_hour": successes,
                "quota_used": (id == google_jobs::ID).then_some(quota_used),
                "quota_limit": (id == google_jobs::ID).then(|| google_jobs::daily_limit(board)),
            });
            writeln!(out, "{value}")?;
        } else {
            let rate = if attempts == 0 {
                "-".to_owned()
            } else {
                format!("{}/{}", successes, attempts)
            };
            writeln!(
                out,
                "{:<22} {:<8} {:<20} {:<11} {:>5} {:>7} {:>7} {:>10}  {}",
                id,
                board.enabled,
                board.languages.join(","),
                if configured { "yes" } else { "no" },
                due,
                posted,
                failed,
                rate,
                mechanism
            )?;
            if let Some(url) = &feed_url {
                let fetched = feeds
                    .get(&id)
                    .and_then(|f| f.last_fetched_at)
                    .map_or("never".to_owned(), |t| t.to_string());
                writeln!(out, "{:<22} feed {url} (last fetched: {fetched})", "")?;
            }
        }
    }
    Ok(())
}

/// The preview as a table: board, language, outcome, then the reason, every
/// broken rule or the first request's first line; a board that works in
/// several steps gets one indented line per step below its own.
fn print_preview(out: &mut impl Write, answer: &boardcast::preview::Preview) -> Result<()> {
    use boardcast::preview::{Outcome, Payload};
    let summary = |payload: &Payload| {
        let first = payload
            .body
            .as_deref()
            .and_then(|body| body.lines().find(|line| !line.trim().is_empty()))
            .unwrap_or_default();
        let method = payload.method.as_deref().unwrap_or("feed");
        format!("{method} {}  {}", payload.url, first.trim())
    };
    for posting in &answer.postings {
        let (outcome, detail) = match posting.outcome {
            Outcome::WouldSend => (
                "would_send",
                posting
                    .payload
                    .as_ref()
                    .map(summary)
                    .or_else(|| posting.reason.clone())
                    .unwrap_or_default(),
            ),
            Outcome::WouldSkip => ("would_skip", posting.reason.clone().unwrap_or_default()),
            Outcome::RuleFailed => ("rule_failed", posting.rules.join("; ")),
            Outcome::Unavailable => ("unavailable", posting.reason.clone().unwrap_or_default()),
        };
        writeln!(
            out,
            "{:<24} {:<6} {:<12} {detail}",
            posting.board, posting.locale, outcome
        )?;
        if posting.steps.len() > 1 {
            for (number, step) in posting.steps.iter().enumerate() {
                writeln!(out, "{:<44} step {}: {}", "", number + 1, summary(step))?;
            }
        }
    }
    Ok(())
}

/// One line per board for `boardcast job`: `(board, status, detail)`. A
/// board's languages fold into one word, the most pressing first: any
/// `failed` (with its reason), then any still on its way (`pending`, with
/// their states), then `posted` (the board's links), then `skipped` (why).
fn board_summaries(rows: &[postings::PostingView]) -> Vec<(String, String, String)> {
    const SETTLED: [&str; 4] = ["posted", "skipped", "cancelled", "withdrawn"];
    let mut by_board: BTreeMap<&str, Vec<&postings::PostingView>> = BTreeMap::new();
    for row in rows {
        by_board.entry(row.board.as_str()).or_default().push(row);
    }
    let reason = |row: &postings::PostingView| row.last_error.clone().unwrap_or_default();
    let state = |row: &postings::PostingView| row.status.clone();
    let link = |row: &postings::PostingView| {
        row.external_url
            .clone()
            .or_else(|| row.external_id.clone())
            .unwrap_or_default()
    };
    let mut lines = Vec::new();
    for (board, rows) in by_board {
        let having =
            |test: &dyn Fn(&postings::PostingView) -> bool| -> Vec<&postings::PostingView> {
                rows.iter().copied().filter(|row| test(row)).collect()
            };
        let failed = having(&|row| row.status == "failed");
        let pending = having(&|row| !SETTLED.contains(&row.status.as_str()));
        let posted = having(&|row| row.status == "posted");
        let skipped = having(&|row| row.status == "skipped");
        let (status, detail) = if !failed.is_empty() {
            ("failed", per_language(&failed, &reason))
        } else if !pending.is_empty() {
            ("pending", per_language(&pending, &state))
        } else if !posted.is_empty() {
            ("posted", per_language(&posted, &link))
        } else if !skipped.is_empty() {
            ("skipped", per_language(&skipped, &reason))
        } else {
            (rows[0].status.as_str(), String::new())
        };
        lines.push((board.to_owned(), status.to_owned(), detail));
    }
    lines
}

/// `text` of each row as `locale: text`; said once when every language has the same.
fn per_language(
    rows: &[&postings::PostingView],
    text: &dyn Fn(&postings::PostingView) -> String,
) -> String {
    let texts: Vec<String> = rows.iter().map(|row| text(row)).collect();
    if texts.windows(2).all(|pair| pair[0] == pair[1]) {
        return texts.into_iter().next().unwrap_or_default();
    }
    rows.iter()
        .zip(texts)
        .map(|(row, text)| format!("{}: {text}", row.locale))
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Clone, Copy)]
enum Bulk {
    Retry,
    Cancel,
}

/// Retries or cancels the selection. A selection by filter larger than
/// `--chunk-size` goes in chunks of postings by id (the same filter, so the
/// same postings), printing `n of N` to stderr after each: a long action
/// shows it is moving, and each chunk commits on its own.
async fn bulk(
    pool: &sqlx::PgPool,
    action: Bulk,
    args: &SelectionArgs,
) -> Result<ops::ActionResult> {
    let selection = args.selection()?;
    let actor = cli_actor();
    let act = |selection: ops::Selection| {
        let actor = actor.clone();
        async move {
            match action {
                Bulk::Retry => ops::retry(pool, &selection, args.dry_run, &actor).await,
                Bulk::Cancel => ops::cancel(pool, &selection, args.dry_run, &actor).await,
            }
        }
    };
    if args.dry_run || selection.ids.is_some() {
        return Ok(act(selection).await?);
    }
    let status = match action {
        Bulk::Retry => Some(args.status.unwrap_or(PostingStatus::Failed)),
        Bulk::Cancel => args.status,
    };
    // Every matching id, newest first, a page at a time.
    let mut ids = Vec::new();
    loop {
        let page = postings::list(
            pool,
            &postings::PostingFilter {
                tenant: args.tenant.clone(),
                job: args.job.clone(),
                board: args.board.clone(),
                status,
                locale: args.locale.clone(),
                older_than_minutes: args.older_than_minutes,
                search: args.search.clone(),
                before_id: ids.last().copied(),
                limit: Some(10_000),
            },
        )
        .await?;
        let done = page.len() < 10_000;
        ids.extend(page.into_iter().map(|row| row.id));
        if done {
            break;
        }
    }
    let chunk_size = args.chunk_size.max(1);
    if ids.len() <= chunk_size {
        return Ok(act(selection).await?);
    }
    let mut total = act_result(action);
    for (at, chunk) in ids.chunks(chunk_size).enumerate() {
        let result = act(ops::Selection {
            ids: Some(chunk.to_vec()),
            ..selection.clone()
        })
        .await?;
        total.affected += result.affected;
        total.boards.extend(result.boards);
        eprintln!(
            "{} of {} postings looked at",
            (at * chunk_size + chunk.len()),
            ids.len()
        );
    }
    total.boards.sort();
    total.boards.dedup();
    Ok(total)
}

fn act_result(action: Bulk) -> ops::ActionResult {
    ops::ActionResult {
        action: match action {
            Bulk::Retry => "retry",
            Bulk::Cancel => "cancel",
        },
        dry_run: false,
        affected: 0,
        boards: Vec::new(),
    }
}
