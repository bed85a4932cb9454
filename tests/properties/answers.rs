//! Every board's answer reader on arbitrary and hostile bodies.
//!
//! Each HTTP board's adapter is pointed at a hostile board (a local server
//! answering whatever the case says) and asked to publish: it must answer
//! an error or a receipt, never panic, never overflow the stack, never read
//! more than the answer limit. A panic in board code fails the attempt.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use axum::response::Response;
use boardcast::boards::{Board, BoardError, CallLog, ErrorClass, PostingContext, Receipt};
use boardcast::config::RetryPolicy;
use boardcast::dispatch::attempt::{self, AttemptSettings};
use boardcast::store::PostingStatus;
use boardcast::store::postings::Claimed;
use proptest::prelude::*;
use secrecy::SecretString;

use crate::support;

/// What the hostile board answers next: status, content type, body.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

/// A board that answers every request with the current [`Answer`].
struct HostileBoard {
    url: String,
    answer: Arc<Mutex<Answer>>,
}

impl HostileBoard {
    async fn start() -> Self {
        let answer = Arc::new(Mutex::new(Answer {
            status: 200,
            content_type: "application/json",
            body: b"{}".to_vec(),
        }));
        let shared = answer.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(move || {
            let answer = shared.lock().unwrap().clone();
            async move {
                Response::builder()
                    .status(answer.status)
                    .header("content-type", answer.content_type)
                    .body(Body::from(answer.body))
                    .unwrap()
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, answer }
    }

    fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }
}

/// The boards answering over plain HTTP (the e-mail board and the mTLS board
/// read no HTTP answers of ours to hijack here; feed boards read only their
/// crawl report).
fn http_boards() -> Vec<String> {
    let settings = support::settings();
    settings
        .board_ids()
        .into_iter()
        .filter(|id| id != boardcast::sandbox::MAIL_DESK.0 && id != boardcast::sandbox::TLS_DESK)
        .collect()
}

/// `id`'s adapter, built from `config/` with every credential it needs (any
/// value the sandbox would accept: the hostile board checks nothing),
/// pointed at `url`.
fn adapter_at(
    settings: &boardcast::config::Settings,
    sandbox: &boardcast::sandbox::Sandbox,
    id: &str,
    url: &str,
) -> Arc<dyn Board> {
    let mut settings = settings.clone();
    let key = id.replace('-', "_");
    let board = settings.boards.get_mut(&key).unwrap();
    board.enabled = true;
    board.base_url = format!("{url}/{id}");
    board.token_url = Some(format!("{url}/{id}/token"));
    board.request_timeout_ms = Some(5_000);
    for (name, value) in sandbox.credentials().get(id).cloned().unwrap_or_default() {
        board.credentials.insert(name, SecretString::from(value));
    }
    boardcast::boards::build_one(&settings, id).unwrap_or_else(|e| panic!("{id}: {e}"))
}

struct Hostile {
    board: HostileBoard,
    adapters: Vec<(String, Arc<dyn Board>)>,
}

impl Hostile {
    async fn start() -> Self {
        let board = HostileBoard::start().await;
        let settings = support::settings();
        // Its credentials only: making them (keys, certificates) is slow.
        let sandbox = boardcast::sandbox::Sandbox::with_random_credentials();
        let adapters = http_boards()
            .into_iter()
            .map(|id| {
                let adapter = adapter_at(&settings, &sandbox, &id, &board.url);
                (id, adapter)
            })
            // Feed boards read no answer when publishing.
            .filter(|(_, adapter)| adapter.feed().is_none())
            .collect();
        Self { board, adapters }
    }

    /// Every adapter publishes the sample against `answer`; answers each
    /// board's result. A panic fails the test (it is not caught here).
    async fn publish_all(&self, answer: Answer) -> Vec<(String, Result<Receipt, BoardError>)> {
        self.board.answer(answer);
        let (tenant, job) = support::sample("account-manager");
        let (locale, ad) = job.ads.iter().next().unwrap();
        let mut results = Vec::new();
        for (id, adapter) in &self.adapters {
            let mut posting = support::context(&job, ad, "ref1", locale);
            posting.tenant_id = &tenant;
            let result = adapter.publish(&posting, &mut CallLog::default()).await;
            results.push((id.clone(), result));
        }
        results
    }
}

/// Issue 12, finding 4: InfoJobs (and every other board) answering 300,000
/// nested elements or arrays fails the attempt; the process survives.
#[tokio::test]
async fn deeply_nested_answers_fail_every_board_without_overflowing() {
    let hostile = Hostile::start().await;
    let xml = format!(
        "<?xml version=\"1.0\"?>{}{}",
        "<a>".repeat(300_000),
        "</a>".repeat(300_000)
    );
    let json = format!("{}{}", "[".repeat(300_000), "]".repeat(300_000));
    for (content_type, body) in [("text/xml", xml), ("application/json", json)] {
        let answer = Answer {
            status: 200,
            content_type,
            body: body.into_bytes(),
        };
        for (id, result) in hostile.publish_all(answer).await {
            let error = result.expect_err(&id);
            // Boards that check before sending may refuse the sample first;
            // all others stop at the depth guard.
            assert!(
                error.message.contains("nested deeper") || error.class == ErrorClass::Rejected,
                "{id}: {error:?}"
            );
        }
    }
}

/// Issue 12, finding 7, through every adapter: an answer over the limit in
/// force (64 KiB here, as the dispatcher sets it from configuration).
#[tokio::test]
async fn answers_over_the_limit_fail_every_board() {
    let hostile = Hostile::start().await;
    let answer = Answer {
        status: 200,
        content_type: "application/json",
        body: vec![b' '; 128 * 1024],
    };
    let results = boardcast::boards::http::MAX_ANSWER_BYTES
        .scope(64 * 1024, hostile.publish_all(answer))
        .await;
    for (id, result) in results {
        let error = result.expect_err(&id);
        assert!(
            error.message.contains("max_answer_bytes") || error.class == ErrorClass::Rejected,
            "{id}: {error:?}"
        );
    }
}

fn any_answer() -> impl Strategy<Value = Answer> {
    let status = prop_oneof![Just(200u16), Just(201), Just(202), Just(400), Just(500)];
    let content_type = prop_oneof![
        Just("application/json"),
        Just("text/xml; charset=utf-8"),
        Just("text/plain"),
    ];
    // Raw bytes, and text shaped like the boards' own formats.
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[{}\\[\\]\":,a-z0-9 ]{0,256}".prop_map(String::into_bytes),
        "(<[a-zA-Z:]{1,8}( [a-z]{1,4}=\"[^\"<]{0,8}\")?/?>|</[a-zA-Z:]{1,8}>|[^<]{0,8}|&[a-z#0-9]{0,5};){0,40}"
            .prop_map(String::into_bytes),
    ];
    (status, content_type, body).prop_map(|(status, content_type, body)| Answer {
        status,
        content_type,
        body,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Arbitrary answers never panic any board's reader.
    #[test]
    fn arbitrary_answers_never_panic_a_board(answer in any_answer()) {
        thread_local! {
            static WORLD: (tokio::runtime::Runtime, Hostile) = {
                let runtime = tokio::runtime::Runtime::new().unwrap();
                let hostile = runtime.block_on(Hostile::start());
                (runtime, hostile)
            };
        }
        WORLD.with(|(runtime, hostile)| {
            runtime.block_on(hostile.publish_all(answer));
        });
    }

    /// The depth guard itself reads any text.
    #[test]
    fn the_depth_guard_reads_any_text(text in any::<String>()) {
        let _ = boardcast::boards::http::check_depth(&text);
    }
}

/// A board whose code panics, as the far-future date did (issue 12, finding 2).
struct PanickingBoard {
    in_fixed_fields: bool,
}

#[async_trait]
impl Board for PanickingBoard {
    fn id(&self) -> &'static str {
        "panicking"
    }

    fn fixed_fields(&self, _posting: &PostingContext<'_>) -> Option<String> {
        assert!(!self.in_fixed_fields, "fixed fields could not be computed");
        None
    }

    async fn publish(
        &self,
        _posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        log.http_status = Some(200);
        panic!("the board's answer could not be read");
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.publish(posting, log).await
    }

    async fn withdraw(
        &self,
        _posting: &PostingContext<'_>,
        _log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        Ok(Receipt::Withdrawn)
    }
}

fn claimed() -> Claimed {
    let (tenant, job) = support::sample("account-manager");
    let locale = job.ads.keys().next().unwrap().clone();
    Claimed {
        id: 1,
        tenant_id: tenant,
        job_id: job.id.clone(),
        board: "panicking".into(),
        locale,
        reference: "ref1".into(),
        revision: 1,
        wanted: "live".into(),
        attempts: 1,
        max_attempts: 3,
        lease_token: uuid::Uuid::new_v4(),
        content_hash: Some("h".into()),
        sent_hash: None,
        may_exist: false,
        external_id: None,
        external_url: None,
        board_task: None,
        generation: 0,
        fixed_fields: None,
        first_published_at: None,
        claimed_at: time::OffsetDateTime::now_utc(),
        job: Ok(std::sync::Arc::new(job)),
    }
}

fn settings() -> AttemptSettings {
    AttemptSettings {
        policy: RetryPolicy {
            base_ms: 1_000,
            cap_ms: 10_000,
            max_attempts: 3,
            max_retry_after_ms: 10_000,
        },
        confirm_poll: std::time::Duration::from_secs(1),
        deadline: std::time::Duration::from_secs(5),
        circuit_open: std::time::Duration::from_secs(1),
        worker: "test".into(),
        max_answer_bytes: 1024,
    }
}

/// Issue 12, finding 2 (generic): a panic while reading the answer fails the
/// attempt with "internal error" instead of unwinding through the worker;
/// the board may have acted, so the posting is looked up and retried.
#[tokio::test]
async fn a_panicking_answer_reader_fails_the_attempt() {
    let board = PanickingBoard {
        in_fixed_fields: false,
    };
    let (completion, class) = attempt::run(&board, &claimed(), &settings()).await;
    assert_eq!(class, Some(ErrorClass::Ambiguous));
    assert_eq!(completion.status, PostingStatus::Verifying);
    let error = completion.last_error.unwrap();
    assert_eq!(
        error,
        "internal error: the board's answer could not be read"
    );
}

/// A panic before anything is sent fails the posting for good: the same
/// input panics again.
#[tokio::test]
async fn a_panicking_render_fails_the_posting() {
    let board = PanickingBoard {
        in_fixed_fields: true,
    };
    let (completion, class) = attempt::run(&board, &claimed(), &settings()).await;
    assert_eq!(class, Some(ErrorClass::Rejected));
    assert_eq!(completion.status, PostingStatus::Failed);
    assert!(
        completion
            .last_error
            .unwrap()
            .starts_with("internal error: fixed fields could not be computed")
    );
}
