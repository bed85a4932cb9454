//! What every board's tests (`tests/boards/<board>.rs`) share: the samples
//! as parsed jobs, a posting context, golden-file comparison, and a sandbox
//! on a port of its own with an adapter built from `config/` pointed at it.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use std::time::Duration;

use boardcast::boards::{Board, BoardError, CallLog, ErrorClass, PostingContext, Receipt};
use boardcast::config::Settings;
use boardcast::intake::message::{Command, Job, Limits, LocalizedAd, parse};
use boardcast::sandbox::crawler::{CrawlOutcome, CrawlRequest};
use boardcast::sandbox::{Faults, HeldPosting, Sandbox};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `config/` as the worker loads it (default.toml and the env layers).
pub fn settings() -> Settings {
    Settings::load(&crate_dir().join("config")).expect("loading config/")
}

/// `(stem, tenant, job)` for every `../shared/samples/*.publish.json`, by
/// name, parsed by the worker's own contract parser.
pub fn publish_samples() -> Vec<(String, String, Job)> {
    let dir = crate_dir().join("../shared/samples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("shared/samples")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".publish.json"))
        })
        .collect();
    paths.sort();
    let boards: BTreeSet<String> = settings().board_ids();
    let limits = Limits::new(262_144, &boards);
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap();
            let stem = name.trim_end_matches(".publish.json").to_owned();
            let submission = parse(&std::fs::read(&path).unwrap(), &limits)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let Command::Publish(job) = submission.command else {
                panic!("{name} is not a publish");
            };
            (stem, submission.tenant_id, job)
        })
        .collect()
}

/// `(tenant, job)` of the sample `<stem>.publish.json`.
pub fn sample(stem: &str) -> (String, Job) {
    publish_samples()
        .into_iter()
        .find(|(s, _, _)| s == stem)
        .map(|(_, tenant, job)| (tenant, job))
        .unwrap_or_else(|| panic!("no sample {stem}.publish.json"))
}

/// One posting of `job` in `locale`: first send, nothing known at the board.
pub fn context<'a>(
    job: &'a Job,
    ad: &'a LocalizedAd,
    reference: &'a str,
    locale: &'a str,
) -> PostingContext<'a> {
    PostingContext::unsent(reference, "contoso", locale, job, ad)
}

/// A feed twin reads with a strict XML 1.0 parser, as a real crawler does:
/// a control character (not allowed in XML 1.0, not even in CDATA) in an
/// `<item>` of `<root>` makes the whole document unreadable.
pub fn assert_twin_refuses_a_control_character(
    feed: &boardcast::sandbox::crawler::FeedTwin,
    root: &str,
    item: &str,
) {
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{root}><{item}><title><![CDATA[Sales\u{1}Executive]]></title></{item}></{root}>"
    );
    let checked = (feed.check)(document.as_bytes());
    let error = checked.document_error.expect("refused");
    assert!(error.starts_with("not well-formed XML"), "{error}");
    assert!(checked.items.is_empty());
}

/// The error is a permanent refusal whose message names every one of `words`.
pub fn assert_rejected(error: &BoardError, words: &[&str]) {
    assert_eq!(error.class, ErrorClass::Rejected, "{error:?}");
    for word in words {
        assert!(
            error.message.contains(word),
            "{:?} does not name {word:?}",
            error.message
        );
    }
}

/// Compares `rendered` with `tests/golden/<board>/<name>`, or writes it when
/// `UPDATE_GOLDEN=1`. Name files `<sample stem>.publish.<locale>.<ext>`.
pub fn golden(board: &str, name: &str, rendered: &str) {
    let path = crate_dir().join("tests/golden").join(board).join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, rendered).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(rendered, expected, "{} differs", path.display());
}

/// The sandbox on a port of its own (stopped when dropped) and one board's
/// adapter, built from `config/` with the sandbox's credentials.
pub struct BoardTwin {
    pub sandbox: Sandbox,
    /// `http://127.0.0.1:<port>`; the board's twin is under `/<board>`.
    pub url: String,
    /// Where the adapter is pointed (`<url>/<board>`, the SMTP listener, or
    /// `https://…/<board>` on the HTTPS listener).
    pub adapter_url: String,
    pub board: Arc<dyn Board>,
    pub id: &'static str,
    stop: CancellationToken,
}

impl Drop for BoardTwin {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl BoardTwin {
    /// The adapter of `id` against a fresh sandbox, with every credential
    /// the twin accepts.
    pub async fn start(id: &'static str) -> Self {
        Self::start_with(id, &[]).await
    }

    /// Like [`BoardTwin::start`], with some credentials replaced (a wrong
    /// password, say).
    pub async fn start_with(id: &'static str, credentials: &[(&str, &str)]) -> Self {
        let sandbox = Sandbox::with_random_credentials();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(
            sandbox
                .clone()
                .serve(listener, async move { stopped.cancelled().await }),
        );
        // The e-mail board's desk listens for SMTP on a port of its own.
        let mut adapter_url = format!("{url}/{id}");
        if id == boardcast::sandbox::MAIL_DESK.0 {
            let mail = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            adapter_url = format!("smtp://{}", mail.local_addr().unwrap());
            let stopped = stop.clone();
            tokio::spawn(
                sandbox
                    .clone()
                    .serve_mail(mail, async move { stopped.cancelled().await }),
            );
        }
        // The mTLS board's desk listens for HTTPS on a port of its own.
        if id == boardcast::sandbox::TLS_DESK {
            let tls = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            adapter_url = format!("https://{}/{id}", tls.local_addr().unwrap());
            let stopped = stop.clone();
            tokio::spawn(
                sandbox
                    .clone()
                    .serve_tls(tls, async move { stopped.cancelled().await }),
            );
        }
        let board = adapter(&sandbox, &url, &adapter_url, id, credentials);
        Self {
            sandbox,
            url,
            adapter_url,
            board,
            id,
            stop,
        }
    }

    /// Another adapter of the same board against this sandbox.
    pub fn adapter_with(&self, credentials: &[(&str, &str)]) -> Arc<dyn Board> {
        adapter(
            &self.sandbox,
            &self.url,
            &self.adapter_url,
            self.id,
            credentials,
        )
    }

    /// The twin's own URL for `path` (`"/jobs"` → `http://…/<board>/jobs`).
    pub fn board_url(&self, path: &str) -> String {
        format!("{}/{}{path}", self.url, self.id)
    }

    pub fn credential(&self, name: &str) -> &str {
        self.sandbox.credential(self.id, name)
    }

    pub fn held(&self) -> Vec<HeldPosting> {
        self.sandbox.postings(Some(self.id))
    }

    /// The one posting the board holds; fails the test if there are more.
    pub fn only(&self) -> HeldPosting {
        let held = self.held();
        assert_eq!(held.len(), 1, "one copy at {}: {held:#?}", self.id);
        held.into_iter().next().unwrap()
    }

    pub fn live_copies(&self, reference: &str) -> usize {
        self.held()
            .iter()
            .filter(|p| p.reference == reference && p.live)
            .count()
    }

    pub fn faults(&self, faults: Faults) {
        self.sandbox.set_faults(self.id, faults);
    }

    pub fn requests(&self) -> u64 {
        self.sandbox.requests(self.id)
    }

    pub async fn publish(&self, posting: &PostingContext<'_>) -> Result<Receipt, BoardError> {
        self.board.publish(posting, &mut CallLog::default()).await
    }

    pub async fn update(&self, posting: &PostingContext<'_>) -> Result<Receipt, BoardError> {
        self.board.update(posting, &mut CallLog::default()).await
    }

    pub async fn withdraw(&self, posting: &PostingContext<'_>) -> Result<Receipt, BoardError> {
        self.board.withdraw(posting, &mut CallLog::default()).await
    }

    /// The usual signals, each changing nothing at the board: 503 is
    /// `Transient`, 500 `Ambiguous`, 429 with `Retry-After: 7` `Throttled`
    /// for 7 s.
    pub async fn assert_transient_signals(&self, posting: &PostingContext<'_>) {
        let cases = [
            (503, ErrorClass::Transient, None),
            (500, ErrorClass::Ambiguous, None),
            (429, ErrorClass::Throttled, Some(Duration::from_secs(7))),
        ];
        for (status, class, retry_after) in cases {
            self.faults(if status == 429 {
                Faults {
                    throttle_times: 1,
                    retry_after_secs: 7,
                    ..Faults::default()
                }
            } else {
                Faults {
                    fail_times: 1,
                    fail_status: status,
                    ..Faults::default()
                }
            });
            let error = self.publish(posting).await.unwrap_err();
            assert_eq!(error.class, class, "{status}: {error:?}");
            assert_eq!(error.http_status, Some(status));
            assert_eq!(error.retry_after, retry_after, "{status}");
        }
    }

    /// Serves `document` as this feed board's file and has the sandbox's
    /// crawler for the board fetch it; answers what the crawler made of it.
    pub async fn crawl_document(&self, document: String) -> CrawlOutcome {
        let twin = boardcast::sandbox::FEED_TWINS
            .iter()
            .find(|twin| twin.board == self.id)
            .unwrap_or_else(|| panic!("{} is not in FEED_TWINS", self.id));
        let request = CrawlRequest {
            feed_url: serve_feed(twin.file, document).await,
            username: None,
            password: None,
        };
        self.sandbox.crawl(twin, &request).await.unwrap()
    }

    pub async fn confirm(
        &self,
        posting: &PostingContext<'_>,
        task: &str,
    ) -> Result<Receipt, BoardError> {
        self.board
            .confirm(posting, task, &mut CallLog::default())
            .await
    }
}

fn adapter(
    sandbox: &Sandbox,
    sandbox_url: &str,
    adapter_url: &str,
    id: &str,
    overrides: &[(&str, &str)],
) -> Arc<dyn Board> {
    let mut settings = settings();
    let key = id.replace('-', "_");
    let board = settings
        .boards
        .get_mut(&key)
        .unwrap_or_else(|| panic!("[boards.{key}] in config/default.toml"));
    board.enabled = true;
    board.base_url = adapter_url.to_owned();
    board.token_url = boardcast::sandbox::token_url_at(sandbox_url, id);
    board.request_timeout_ms = Some(5_000);
    let accepted = sandbox.credentials().get(id).cloned().unwrap_or_default();
    for (name, value) in accepted {
        board.credentials.insert(name, SecretString::from(value));
    }
    for (name, value) in overrides {
        board
            .credentials
            .insert((*name).to_owned(), SecretString::from(*value));
    }
    boardcast::boards::build_one(&settings, id)
        .unwrap_or_else(|e| panic!("building the {id} adapter: {e}"))
}

/// Serves `body` as `/feeds/{file}` on a port of its own, as our feed server
/// would; answers the URL.
pub async fn serve_feed(file: &str, body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/feeds/{file}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        &format!("/feeds/{file}"),
        axum::routing::get(move || async move { body }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}
