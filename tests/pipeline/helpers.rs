//! `spawn_app`: a worker on its own database and its own exchange and queue
//! names, against the real PostgreSQL and RabbitMQ from `DATABASE_URL` and
//! `AMQP_URL`, with boards served by an in-process sandbox over real HTTP.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use boardcast::boards::feed::FeedChecks;
use boardcast::config::Settings;
use boardcast::intake::amqp::{Publisher, connect};
use boardcast::sandbox::{Faults, HeldPosting, Sandbox};
use boardcast::store::{self, postings};
use lapin::options::{ExchangeDeleteOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The boards these tests count on. Boards added later are tested on their
/// own (adapter against its twin), so these counts stay put.
pub const PIPELINE_BOARDS: [&str; 3] = ["welcome-to-the-jungle", "linkedin", "stepstone"];

/// The bearer token of the ops API in tests.
pub const OPS_TOKEN: &str = "test-token-7f3a";

/// How long a test waits for a condition before failing.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample(name: &str) -> Vec<u8> {
    let path = crate_dir().join("../shared/samples").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Settings isolated for one test, with millisecond timings.
pub struct TestEnv {
    pub settings: Settings,
    pub pool: PgPool,
    pub sandbox: Sandbox,
    pub database: String,
    /// The worker's ops server (set by `spawn_app`).
    pub ops_url: String,
    /// The worker's public server: feeds, job pages, sitemap (set by `spawn_app`).
    pub public_url: String,
    stop_sandbox: CancellationToken,
}

pub struct TestApp {
    pub env: TestEnv,
    worker: Option<RunningWorker>,
}

impl std::ops::Deref for TestApp {
    type Target = TestEnv;
    fn deref(&self) -> &TestEnv {
        &self.env
    }
}

fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        boardcast::telemetry::init(
            boardcast::telemetry::LogFormat::Text,
            std::io::stderr,
            false,
        );
    }
}

/// A database, queue names and a sandbox of its own; no worker yet.
/// LinkedIn refuses a job without a poster's e-mail: the tenants of the
/// samples and tests get a default, unless a test gave one.
pub fn give_sample_tenants_a_poster(settings: &mut Settings) {
    for tenant in ["northwind", "contoso", "fabrikam"] {
        let tenant_settings = settings.tenants.entry(tenant.to_owned()).or_default();
        tenant_settings
            .poster_email
            .get_or_insert_with(|| format!("recruiting@{tenant}.example"));
    }
}

pub async fn test_env() -> TestEnv {
    init_logs();
    let mut settings = Settings::load(&crate_dir().join("config")).expect("loading config/");
    give_sample_tenants_a_poster(&mut settings);
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();

    // Queue and exchange names of its own: tests share one vhost but never a queue.
    let amqp = &mut settings.amqp;
    amqp.exchange = format!("test-{id}.boardcast");
    amqp.queue = format!("test-{id}.post-job");
    amqp.dead_letter_exchange = format!("test-{id}.rejected");
    amqp.dead_letter_queue = format!("test-{id}.post-job.rejected");
    amqp.events_exchange = format!("test-{id}.events");
    amqp.events_poll_interval_ms = 50;

    // A database of its own.
    let database = format!("boardcast_test_{id}");
    let admin_url = settings.database.url.expose_secret().to_owned();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("connecting to DATABASE_URL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{database}\""
    )))
    .execute(&mut admin)
    .await
    .expect("creating the test database");
    admin.close().await.ok();
    let mut url = url::Url::parse(&admin_url).expect("DATABASE_URL is a URL");
    url.set_path(&database);
    settings.database.url = SecretString::from(url.to_string());
    settings.database.max_connections = 5;

    // Fast clocks: milliseconds where production waits seconds.
    settings.retry.base_ms = 50;
    settings.retry.cap_ms = 400;
    settings.dispatch.poll_interval_ms = 100;
    settings.dispatch.rescue_interval_ms = 200;
    settings.dispatch.lease_ms = 3_000;
    settings.dispatch.request_timeout_ms = 1_000;
    settings.dispatch.confirm_poll_ms = 50;
    settings.dispatch.circuit_open_ms = 200;
    settings.dispatch.circuit_failures = 50;
    settings
        .ops
        .tokens
        .insert("test-operator".to_owned(), SecretString::from(OPS_TOKEN));

    let timeout = settings.dispatch.request_timeout_ms;
    for (key, board) in settings.boards.iter_mut() {
        board.enabled = PIPELINE_BOARDS.contains(&boardcast::config::board_id(key).as_str());
        // A board's own timeout must stay under the short test lease.
        if board.request_timeout_ms.is_some() {
            board.request_timeout_ms = Some(timeout);
        }
    }

    // The sandbox, on a port of its own.
    let sandbox = Sandbox::with_random_credentials();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox_url = format!("http://{}", listener.local_addr().unwrap());
    let stop_sandbox = CancellationToken::new();
    let stop = stop_sandbox.clone();
    tokio::spawn(
        sandbox
            .clone()
            .serve(listener, async move { stop.cancelled().await }),
    );
    // Its mail desk, on a port of its own.
    let mail = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mail_url = format!("smtp://{}", mail.local_addr().unwrap());
    let stop = stop_sandbox.clone();
    tokio::spawn(
        sandbox
            .clone()
            .serve_mail(mail, async move { stop.cancelled().await }),
    );
    // Its HTTPS desk (client certificates), on a port of its own.
    let tls = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tls_url = format!("https://{}", tls.local_addr().unwrap());
    let stop = stop_sandbox.clone();
    tokio::spawn(
        sandbox
            .clone()
            .serve_tls(tls, async move { stop.cancelled().await }),
    );
    boardcast::sandbox::Listeners {
        http: sandbox_url.clone(),
        smtp: mail_url,
        https: tls_url,
    }
    .point_boards_at(&mut settings, &sandbox);

    let pool = store::connect(&settings.database)
        .await
        .expect("connecting to the test database");
    store::migrate(&pool)
        .await
        .expect("migrating the test database");
    TestEnv {
        settings,
        pool,
        sandbox,
        database,
        ops_url: String::new(),
        public_url: String::new(),
        stop_sandbox,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A worker running in this process on a fresh [`TestEnv`].
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut env = test_env().await;
    adjust(&mut env.settings);
    give_sample_tenants_a_poster(&mut env.settings);
    let pool = env.pool.clone();
    let worker = start_worker(&mut env, pool).await;
    TestApp {
        env,
        worker: Some(worker),
    }
}

/// A worker running in this process on `env` with `pool`, its listeners on
/// free ports (recorded in `env`); returns once its consumer is attached.
pub async fn start_worker(env: &mut TestEnv, pool: PgPool) -> RunningWorker {
    let shutdown = CancellationToken::new();
    let (ready, attached) = tokio::sync::oneshot::channel();
    let ops = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    env.ops_url = format!("http://{}", ops.local_addr().unwrap());
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    env.public_url = format!("http://{}", public.local_addr().unwrap());
    // Job pages and feeds are reached at the public listener's real address.
    env.settings.ops.public_url = Some(env.public_url.clone());
    let task = tokio::spawn(boardcast::worker::run(
        Arc::new(env.settings.clone()),
        pool,
        ops,
        public,
        Some(ready),
        shutdown.clone(),
    ));
    let task = tokio::spawn(async move {
        task.await.expect("worker task").expect("worker run");
    });
    tokio::time::timeout(PATIENCE, attached)
        .await
        .expect("the worker attached its consumer in time")
        .expect("the worker started");
    RunningWorker { shutdown, task }
}

/// A pool that gives up on the database after 1 s, so an outage shows
/// within seconds what it would do over minutes.
pub async fn impatient_pool(env: &TestEnv) -> PgPool {
    PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(Duration::from_secs(1))
        .connect(env.settings.database.url.expose_secret())
        .await
        .unwrap()
}

/// A worker started by [`start_worker`].
pub struct RunningWorker {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl RunningWorker {
    /// Graceful stop: any delivery still unacked goes back to the queue.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the worker stopped in time")
            .expect("the worker exited cleanly");
    }
}

impl TestApp {
    /// Stops the worker gracefully and cleans up.
    pub async fn stop(self) {
        self.stop_worker().await.cleanup().await;
    }

    /// Stops the worker gracefully; the database, broker and sandbox stay
    /// for the test to look at (and [`TestEnv::cleanup`]).
    pub async fn stop_worker(mut self) -> TestEnv {
        if let Some(worker) = self.worker.take() {
            worker.stop().await;
        }
        self.env
    }
}

impl TestEnv {
    /// The worker's `/metrics` text (the ops server must be running).
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.ops_url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// What the worker's intake checks new feed postings with: the feed
    /// boards of these settings (built as the worker builds them).
    pub fn feed_checks(&self) -> FeedChecks {
        let boards = boardcast::boards::build(&self.settings).expect("the test boards build");
        FeedChecks::new(&boards, "test-intake")
    }

    /// Takes in the account executive sample (postings on every board)
    /// through intake, without the feed checks, so every board's postings,
    /// feed boards' too, wait to be claimed; returns the raw message.
    pub async fn accept_sample(&self) -> Vec<u8> {
        let raw = sample("account-executive.publish.json");
        let processed = boardcast::intake::process(
            &self.pool,
            &self.settings,
            &self.settings.board_ids(),
            &FeedChecks::default(),
            &raw,
            "post-job",
            false,
        )
        .await
        .expect("the database answers");
        assert!(matches!(
            processed,
            boardcast::intake::Processed::Accepted { .. }
        ));
        raw
    }

    /// Publishes one raw message through RabbitMQ, with publisher confirms.
    pub async fn publish(&self, body: &[u8]) {
        let publisher = Publisher::connect(&self.settings.amqp)
            .await
            .expect("connecting to RabbitMQ");
        let id = boardcast::intake::message::identify(body)
            .0
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        publisher.publish(body, &id).await.expect("publishing");
        publisher.close().await;
    }

    pub async fn publish_sample(&self, name: &str) {
        self.publish(&sample(name)).await;
    }

    pub async fn postings(&self) -> Vec<postings::PostingView> {
        postings::list(&self.pool, &postings::PostingFilter::default())
            .await
            .unwrap()
    }

    pub fn held(&self, board: &str) -> Vec<HeldPosting> {
        self.sandbox.postings(Some(board))
    }

    pub fn faults(&self, board: &str, faults: Faults) {
        self.sandbox.set_faults(board, faults);
    }

    /// Waits until every posting is settled (terminal), then returns them.
    pub async fn settled(&self, expected_postings: usize) -> Vec<postings::PostingView> {
        self.wait_for("every posting to settle", || async {
            let rows = self.postings().await;
            (rows.len() == expected_postings
                && rows.iter().all(|p| {
                    p.status
                        .parse::<store::PostingStatus>()
                        .unwrap()
                        .is_terminal()
                }))
            .then_some(rows)
        })
        .await
    }

    /// Polls `check` until it yields a value (condition-based waiting, with a deadline).
    pub async fn wait_for<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Some(value) = check().await {
                return value;
            }
            if tokio::time::Instant::now() > deadline {
                let rows = self.postings().await;
                let states: Vec<String> = rows
                    .iter()
                    .map(|p| format!("{}/{}:{}:{:?}", p.board, p.locale, p.status, p.last_error))
                    .collect();
                panic!("timed out waiting for {what}; postings: {states:#?}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Messages waiting in this test's dead-letter queue.
    pub async fn dead_letters(&self) -> u32 {
        let connection = connect(&self.settings.amqp, "test").await.unwrap();
        let channel = connection.create_channel().await.unwrap();
        let mut arguments = FieldTable::default();
        arguments.insert(
            "x-queue-type".into(),
            lapin::types::AMQPValue::LongString("quorum".into()),
        );
        let queue = channel
            .queue_declare(
                self.settings.amqp.dead_letter_queue.clone().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                arguments,
            )
            .await
            .unwrap();
        queue.message_count()
    }

    /// A queue bound to this test's events exchange, as an ATS would bind one.
    pub async fn listen_to_events(&self) -> EventListener {
        let connection = connect(&self.settings.amqp, "test-ats").await.unwrap();
        let channel = connection.create_channel().await.unwrap();
        let exchange = self.settings.amqp.events_exchange.clone();
        channel
            .exchange_declare(
                exchange.clone().into(),
                lapin::ExchangeKind::Topic,
                lapin::options::ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let queue = format!("{exchange}.ats");
        channel
            .queue_declare(
                queue.clone().into(),
                QueueDeclareOptions {
                    exclusive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_bind(
                queue.clone().into(),
                exchange.into(),
                "#".into(),
                Default::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let consumer = channel
            .basic_consume(
                queue.into(),
                "ats".into(),
                lapin::options::BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        EventListener {
            _connection: connection,
            consumer,
        }
    }

    /// Environment for a `boardcast run` child process with these settings.
    pub fn worker_env(&self) -> BTreeMap<String, String> {
        let s = &self.settings;
        let mut env = BTreeMap::new();
        let mut set = |key: &str, value: String| {
            env.insert(key.to_owned(), value);
        };
        set("DATABASE_URL", s.database.url.expose_secret().to_owned());
        set("AMQP_URL", s.amqp.url.expose_secret().to_owned());
        set("BOARDCAST__AMQP__EXCHANGE", s.amqp.exchange.clone());
        set("BOARDCAST__AMQP__QUEUE", s.amqp.queue.clone());
        set(
            "BOARDCAST__AMQP__DEAD_LETTER_EXCHANGE",
            s.amqp.dead_letter_exchange.clone(),
        );
        set("BOARDCAST__OPS__LISTEN", "127.0.0.1:0".to_owned());
        set("BOARDCAST__OPS__PUBLIC_LISTEN", "127.0.0.1:0".to_owned());
        set(
            "BOARDCAST__AMQP__EVENTS_EXCHANGE",
            s.amqp.events_exchange.clone(),
        );
        set(
            "BOARDCAST__AMQP__DEAD_LETTER_QUEUE",
            s.amqp.dead_letter_queue.clone(),
        );
        set("BOARDCAST__RETRY__BASE_MS", s.retry.base_ms.to_string());
        set("BOARDCAST__RETRY__CAP_MS", s.retry.cap_ms.to_string());
        let d = &s.dispatch;
        set(
            "BOARDCAST__DISPATCH__POLL_INTERVAL_MS",
            d.poll_interval_ms.to_string(),
        );
        set(
            "BOARDCAST__DISPATCH__RESCUE_INTERVAL_MS",
            d.rescue_interval_ms.to_string(),
        );
        set("BOARDCAST__DISPATCH__LEASE_MS", d.lease_ms.to_string());
        set(
            "BOARDCAST__DISPATCH__REQUEST_TIMEOUT_MS",
            d.request_timeout_ms.to_string(),
        );
        set(
            "BOARDCAST__DISPATCH__CONFIRM_POLL_MS",
            d.confirm_poll_ms.to_string(),
        );
        for (key, board) in &s.boards {
            let upper = key.to_uppercase();
            if let Some(timeout) = board.request_timeout_ms {
                set(
                    &format!("BOARDCAST__BOARDS__{upper}__REQUEST_TIMEOUT_MS"),
                    timeout.to_string(),
                );
            }
            set(
                &format!("BOARDCAST__BOARDS__{upper}__ENABLED"),
                board.enabled.to_string(),
            );
            set(
                &format!("BOARDCAST__BOARDS__{upper}__BASE_URL"),
                board.base_url.clone(),
            );
            if let Some(token_url) = &board.token_url {
                set(
                    &format!("BOARDCAST__BOARDS__{upper}__TOKEN_URL"),
                    token_url.clone(),
                );
            }
            for (name, value) in &board.credentials {
                set(
                    &format!(
                        "BOARDCAST__BOARDS__{upper}__CREDENTIALS__{}",
                        name.to_uppercase()
                    ),
                    value.expose_secret().to_owned(),
                );
            }
        }
        // LinkedIn's default job posters ([tenants.<id>] poster_email).
        for (tenant, tenant_settings) in &s.tenants {
            if let Some(email) = &tenant_settings.poster_email {
                set(
                    &format!(
                        "BOARDCAST__TENANTS__{}__POSTER_EMAIL",
                        tenant.to_uppercase()
                    ),
                    email.clone(),
                );
            }
        }
        env
    }

    /// Deletes this test's queues, exchanges and database.
    pub async fn cleanup(&self) {
        self.stop_sandbox.cancel();
        if let Ok(connection) = connect(&self.settings.amqp, "test-cleanup").await
            && let Ok(channel) = connection.create_channel().await
        {
            let a = &self.settings.amqp;
            for queue in [&a.queue, &a.dead_letter_queue] {
                let _ = channel
                    .queue_delete(queue.clone().into(), QueueDeleteOptions::default())
                    .await;
            }
            for exchange in [&a.exchange, &a.dead_letter_exchange, &a.events_exchange] {
                let _ = channel
                    .exchange_delete(exchange.clone().into(), ExchangeDeleteOptions::default())
                    .await;
            }
        }
        self.pool.close().await;
        let admin_url = std::env::var("DATABASE_URL").unwrap_or_default();
        if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.database
            )))
            .execute(&mut admin)
            .await;
        }
    }
}

/// What an ATS hears on the events exchange.
pub struct EventListener {
    _connection: lapin::Connection,
    consumer: lapin::Consumer,
}

impl EventListener {
    /// The next event (routing key, body), waiting up to [`PATIENCE`].
    pub async fn next(&mut self) -> (String, serde_json::Value) {
        use futures_util::StreamExt;
        let delivery = tokio::time::timeout(PATIENCE, self.consumer.next())
            .await
            .expect("an event arrived in time")
            .expect("the consumer is open")
            .expect("a delivery");
        let body = serde_json::from_slice(&delivery.data).expect("events are JSON");
        (delivery.routing_key.to_string(), body)
    }

    /// Events until (and with) the first one whose routing key is `last`.
    pub async fn until(&mut self, last: &str) -> Vec<(String, serde_json::Value)> {
        let mut events = Vec::new();
        loop {
            let event = self.next().await;
            let done = event.0 == last;
            events.push(event);
            if done {
                return events;
            }
        }
    }
}
