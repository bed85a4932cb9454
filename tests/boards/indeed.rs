//! The Indeed Job Sync adapter against its sandbox twin over real HTTP, with
//! no database or broker: golden requests, the upsert life of one posting,
//! the documented rules, transient signals and the shared token.
//!
//! `UPDATE_GOLDEN=1 cargo test --test boards indeed::` rewrites the golden files.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use boardcast::boards::indeed;
use boardcast::boards::{Board, BoardError, CallLog, ErrorClass, PostingContext, Receipt};
use boardcast::config::Settings;
use boardcast::intake::message::{Job, primary_language};
use boardcast::sandbox::indeed as indeed_twin;
use boardcast::sandbox::{Faults, HeldPosting, Sandbox};
use secrecy::SecretString;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio_util::sync::CancellationToken;

/// Our reference for the posting in every test (20 chars, `[a-z0-9]`).
const REFERENCE: &str = "ix7q2m4k9w1p3z8d5c6b";
/// The fixed clock of the golden files.
const PUBLISHED_AT: OffsetDateTime = datetime!(2026-11-23 09:00:00 UTC);

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn samples_dir() -> PathBuf {
    crate_dir().join("../shared/samples")
}

fn settings() -> Settings {
    Settings::load(&crate_dir().join("config")).expect("loading config/")
}

fn sample_job(name: &str) -> Job {
    let path = samples_dir().join(name);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let message: Value = serde_json::from_slice(&raw).expect("samples are JSON");
    serde_json::from_value(message["job"].clone()).expect("sample jobs follow contract v1")
}

fn context<'a>(
    job: &'a Job,
    locale: &'a str,
    external_id: Option<&'a str>,
    may_exist: bool,
) -> PostingContext<'a> {
    PostingContext {
        reference: REFERENCE,
        tenant_id: "northwind",
        locale,
        job,
        ad: &job.ads[locale],
        external_id,
        live_at_board: external_id.is_some(),
        may_exist,
        idempotency_key: uuid::Uuid::nil(),
        first_published_at: None,
    }
}

/// The sandbox on a port of its own, stopped when dropped.
struct Twin {
    sandbox: Sandbox,
    url: String,
    stop: CancellationToken,
}

impl Drop for Twin {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn twin() -> Twin {
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
    Twin { sandbox, url, stop }
}

impl Twin {
    /// The adapter as `config/default.toml` builds it, pointed at this twin.
    fn adapter(&self) -> Arc<dyn Board> {
        self.adapter_with_secret(self.sandbox.credential(indeed::ID, "client_secret"))
    }

    fn adapter_with_secret(&self, client_secret: &str) -> Arc<dyn Board> {
        let mut settings = settings();
        let board = settings
            .boards
            .get_mut("indeed")
            .expect("[boards.indeed] in config/default.toml");
        board.base_url = format!("{}/indeed", self.url);
        board.token_url = boardcast::sandbox::token_url_at(&self.url, indeed::ID);
        board.credentials.insert(
            "client_id".to_owned(),
            SecretString::from(self.sandbox.credential(indeed::ID, "client_id")),
        );
        board.credentials.insert(
            "client_secret".to_owned(),
            SecretString::from(client_secret),
        );
        boardcast::boards::build_one(&settings, indeed::ID).expect("building the Indeed adapter")
    }

    fn held(&self) -> Vec<HeldPosting> {
        self.sandbox.postings(Some(indeed::ID))
    }

    fn only_copy(&self) -> HeldPosting {
        let held = self.held();
        assert_eq!(held.len(), 1, "Indeed holds one copy: {held:#?}");
        held.into_iter().next().unwrap()
    }

    async fn token(&self) -> String {
        let form = [
            ("grant_type", "client_credentials"),
            (
                "client_id",
                self.sandbox.credential(indeed::ID, "client_id"),
            ),
            (
                "client_secret",
                self.sandbox.credential(indeed::ID, "client_secret"),
            ),
            ("scope", "employer_access"),
        ];
        let reply: Value = reqwest::Client::new()
            .post(format!("{}/indeed/oauth/v2/tokens", self.url))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reply["access_token"].as_str().unwrap().to_owned()
    }

    /// Posts a hand-made GraphQL body, as Indeed would receive it.
    async fn post_graphql(&self, body: &Value) -> (u16, Value) {
        let reply = reqwest::Client::new()
            .post(format!("{}/indeed/graphql", self.url))
            .bearer_auth(self.token().await)
            .json(body)
            .send()
            .await
            .unwrap();
        (reply.status().as_u16(), reply.json().await.unwrap())
    }
}

fn live_id(receipt: Receipt) -> String {
    match receipt {
        Receipt::Live { external_id, url } => {
            assert_eq!(url, None, "Indeed gives no URL until it indexes the job");
            external_id
        }
        other => panic!("expected a live posting, got {other:?}"),
    }
}

#[test]
fn config_section_points_at_the_sandbox() {
    let settings = settings();
    let board = settings.board(indeed::ID).expect("[boards.indeed]");
    assert!(board.enabled);
    assert_eq!(board.base_url, "http://127.0.0.1:8650/indeed");
    assert_eq!(board.languages, ["en", "es", "de", "fr", "pt"]);
    assert_eq!(board.request_timeout_ms, Some(5000));
    assert!(
        !board.options.contains_key("source_name"),
        "sourceName is each tenant's, not one for the deployment"
    );
    assert!(
        boardcast::sandbox::TWINS
            .iter()
            .any(|twin| twin.board == indeed::ID)
    );
}

/// Every sample × every ad language Indeed takes renders to its golden file.
#[test]
fn golden_requests() {
    let settings = settings();
    let board = settings.board(indeed::ID).unwrap();
    let languages = &board.languages;
    let profiles = settings.tenant_profiles();
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let dir = crate_dir().join("tests/golden/indeed");
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut samples: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".publish.json"))
        .collect();
    samples.sort();
    let mut expected_files = Vec::new();
    let mut mismatches = Vec::new();
    for sample in &samples {
        let stem = sample.file_stem().unwrap().to_string_lossy().into_owned();
        let job = sample_job(&sample.file_name().unwrap().to_string_lossy());
        for locale in job.ads.keys() {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let posting = context(&job, locale, None, false);
            let request = indeed::render(
                &posting,
                indeed::source_name(&profiles, &posting),
                PUBLISHED_AT,
            )
            .unwrap_or_else(|e| panic!("{stem} {locale}: {e}"));
            let rendered = serde_json::to_string_pretty(&request).unwrap() + "\n";
            let name = format!("{stem}.{locale}.json");
            let path = dir.join(&name);
            expected_files.push(name.clone());
            if update {
                std::fs::write(&path, &rendered).unwrap();
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(golden) if golden == rendered => {}
                Ok(_) => mismatches.push(format!("{name} differs; rendered:\n{rendered}")),
                Err(e) => mismatches.push(format!("{name}: {e}")),
            }
        }
    }
    assert!(
        expected_files.len() >= 5,
        "the samples hold ads Indeed takes"
    );
    // The token request (credentials replaced by placeholders).
    let token = format!(
        "POST https://apis.indeed.com/oauth/v2/tokens\ncontent-type: application/x-www-form-urlencoded\n\n{}\n",
        boardcast::boards::oauth::token_form(
            "CLIENT_ID",
            "CLIENT_SECRET",
            &[("scope", "employer_access")]
        )
    );
    let name = "token.http".to_owned();
    expected_files.push(name.clone());
    if update {
        std::fs::write(dir.join(&name), &token).unwrap();
    } else if std::fs::read_to_string(dir.join(&name)).ok().as_deref() != Some(token.as_str()) {
        mismatches.push(format!("{name} differs; rendered:\n{token}"));
    }
    // Withdraw: the expire of one posting Indeed knows by its sourcedPostingId.
    let expire = indeed::expire_request("00000000-0000-4000-8000-000000000001");
    let rendered = serde_json::to_string_pretty(&expire).unwrap() + "\n";
    let name = "withdraw.expire.json".to_owned();
    expected_files.push(name.clone());
    if update {
        std::fs::write(dir.join(&name), &rendered).unwrap();
    } else {
        match std::fs::read_to_string(dir.join(&name)) {
            Ok(golden) if golden == rendered => {}
            Ok(_) => mismatches.push(format!("{name} differs; rendered:\n{rendered}")),
            Err(e) => mismatches.push(format!("{name}: {e}")),
        }
    }
    let mut stale: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| !expected_files.contains(name))
                .collect()
        })
        .unwrap_or_default();
    stale.sort();
    assert!(
        mismatches.is_empty() && stale.is_empty(),
        "golden files out of date (UPDATE_GOLDEN=1 rewrites them); stale: {stale:?}\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn description_carries_literal_characters() {
    let job = sample_job("account-executive.publish.json");
    let request =
        indeed::render(&context(&job, "fr", None, false), "boardcast", PUBLISHED_AT).unwrap();
    let body = &request.variables.input.job_postings[0].body;
    assert!(
        body.description.contains("d'affaires"),
        "{}",
        body.description
    );
    assert!(!body.description.contains("&#39;"));
    assert_eq!(
        body.description_formatting,
        indeed::DescriptionFormatting::RichFormatting
    );
    let salary = body.salary.as_ref().unwrap();
    assert_eq!(
        (salary.minimum_minor, salary.maximum_minor),
        (4_800_000, Some(7_200_000))
    );
}

#[tokio::test]
async fn publish_update_withdraw_keep_one_copy() {
    let twin = twin().await;
    let board = twin.adapter();
    let job = sample_job("account-executive.publish.json");

    let mut log = CallLog::default();
    let id = live_id(
        board
            .publish(&context(&job, "en", None, false), &mut log)
            .await
            .unwrap(),
    );
    assert_eq!(log.http_status, Some(200));
    assert!(log.request_hash.is_some());
    let held = twin.only_copy();
    assert!(held.live);
    assert_eq!(held.external_id, id);
    assert_eq!(held.reference, REFERENCE);
    assert_eq!((held.creates, held.updates), (1, 0));
    assert_eq!(
        held.content["metadata"]["jobRequisitionId"],
        json!("AE-2026-014")
    );

    // The next revision goes to the same jobPostingId: the same copy, updated.
    let revised = sample_job("account-executive.update.json");
    let receipt = board
        .update(
            &context(&revised, "en", Some(&id), false),
            &mut CallLog::default(),
        )
        .await
        .unwrap();
    assert_eq!(live_id(receipt), id);
    let held = twin.only_copy();
    assert_eq!((held.creates, held.updates), (1, 1));
    let first_sent = held.content.to_string();
    assert!(
        !first_sent.contains("2026-11-02T08:30:00Z"),
        "without a first publication, the send's own time"
    );

    // Once published, an update says when it first was.
    let first = time::macros::datetime!(2026-11-02 08:30:00 UTC);
    let update = PostingContext {
        first_published_at: Some(first),
        ..context(&revised, "en", Some(&id), false)
    };
    board
        .update(&update, &mut CallLog::default())
        .await
        .unwrap();
    let held = twin.only_copy();
    assert!(
        held.content
            .to_string()
            .contains("\"datePublished\":\"2026-11-02T08:30:00Z\""),
        "datePublished is the first publication: {}",
        held.content
    );
    assert_eq!(held.title, "Senior Account Executive");
    assert!(held.live);

    let receipt = board
        .withdraw(
            &context(&revised, "en", Some(&id), false),
            &mut CallLog::default(),
        )
        .await
        .unwrap();
    assert_eq!(receipt, Receipt::Withdrawn);
    let held = twin.only_copy();
    assert!(!held.live);
    assert_eq!((held.creates, held.withdrawals), (1, 1));
    assert_eq!(held.updates, 2);

    // Withdrawing again changes nothing.
    board
        .withdraw(
            &context(&revised, "en", Some(&id), false),
            &mut CallLog::default(),
        )
        .await
        .unwrap();
    assert_eq!(twin.only_copy().withdrawals, 1);
}

#[tokio::test]
async fn a_resend_after_a_lost_answer_is_an_upsert() {
    let twin = twin().await;
    let board = twin.adapter();
    let job = sample_job("account-manager.publish.json");
    let first = live_id(
        board
            .publish(&context(&job, "es", None, false), &mut CallLog::default())
            .await
            .unwrap(),
    );
    // The answer was lost: the dispatcher publishes again with may_exist.
    let second = live_id(
        board
            .publish(&context(&job, "es", None, true), &mut CallLog::default())
            .await
            .unwrap(),
    );
    assert_eq!(first, second);
    let held = twin.only_copy();
    assert_eq!((held.creates, held.updates), (1, 1));
}

#[tokio::test]
async fn withdraw_without_a_sourced_posting_id() {
    let twin = twin().await;
    let board = twin.adapter();
    let job = sample_job("sales-account-executive.publish.json");

    // Never sent: nothing to take down, nothing asked.
    let receipt = board
        .withdraw(&context(&job, "pt", None, false), &mut CallLog::default())
        .await
        .unwrap();
    assert_eq!(receipt, Receipt::Withdrawn);
    assert_eq!(twin.sandbox.requests(indeed::ID), 0);

    // Sent, but the answer (and so the id) was lost: found through the upsert, then expired.
    board
        .publish(&context(&job, "pt", None, false), &mut CallLog::default())
        .await
        .unwrap();
    let receipt = board
        .withdraw(&context(&job, "pt", None, true), &mut CallLog::default())
        .await
        .unwrap();
    assert_eq!(receipt, Receipt::Withdrawn);
    let held = twin.only_copy();
    assert!(!held.live);
    assert_eq!((held.creates, held.withdrawals), (1, 1));
    assert_eq!(held.content["body"]["benefits"], json!([]));
}

async fn rejection(twin: &Twin, job: &Job) -> BoardError {
    let error = twin
        .adapter()
        .publish(&context(job, "en", None, false), &mut CallLog::default())
        .await
        .expect_err("the posting breaks a rule");
    assert_eq!(error.class, ErrorClass::Rejected, "{error:?}");
    error
}

#[tokio::test]
async fn documented_rules_are_checked_before_sending() {
    let twin = twin().await;
    let base = sample_job("account-executive.publish.json");

    // About 22,600 characters but over 65,000 bytes: Indeed counts bytes.
    let mut job = base.clone();
    job.ads.get_mut("en").unwrap().summary = "€".repeat(21_700);
    let error = rejection(&twin, &job).await;
    assert!(
        error.message.starts_with("description is ")
            && error.message.ends_with(" bytes; Indeed allows 65000 bytes"),
        "{}",
        error.message
    );

    let mut job = base.clone();
    job.apply.url = None;
    job.apply.email = Some("jobs@northwind.example".to_owned());
    let error = rejection(&twin, &job).await;
    assert!(error.message.contains("metadata.url"), "{}", error.message);

    let mut job = base.clone();
    job.salary.as_mut().unwrap().min = 0.0;
    let error = rejection(&twin, &job).await;
    assert!(error.message.contains("minimumMinor"), "{}", error.message);

    let mut job = base.clone();
    job.salary.as_mut().unwrap().min = 48_000.005;
    let error = rejection(&twin, &job).await;
    assert!(error.message.contains("minor unit"), "{}", error.message);

    // None of them reached Indeed, not even for a token.
    assert_eq!(twin.sandbox.requests(indeed::ID), 0);
    assert_eq!(twin.sandbox.tokens_issued("indeed"), 0);
}

#[tokio::test]
async fn indeed_rejects_inside_a_200() {
    let twin = twin().await;
    // Contract v1 takes any three capital letters; Indeed knows its CurrencyCode list.
    let mut job = sample_job("account-executive.publish.json");
    job.salary.as_mut().unwrap().currency = "XYZ".to_owned();
    let error = rejection(&twin, &job).await;
    assert_eq!(error.http_status, Some(200));
    assert!(
        error.message.contains("body.salary.currency") && error.message.contains("CurrencyCode"),
        "{}",
        error.message
    );
    assert!(twin.held().is_empty());
    assert_eq!(twin.sandbox.requests(indeed::ID), 1);
}

/// The twin's own rules, on requests the adapter would never send.
#[tokio::test]
async fn the_twin_enforces_the_documented_rules() {
    let twin = twin().await;
    let job = sample_job("account-executive.publish.json");
    let request = indeed::render(
        &context(&job, "en", None, false),
        "boardcast",
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let good = serde_json::to_value(&request).unwrap();
    let posting = "/variables/input/jobPostings/0";

    let (status, reply) = twin.post_graphql(&good).await;
    assert_eq!(status, 200);
    assert!(reply.get("errors").is_none(), "{reply}");

    for (pointer, value, expected) in [
        (
            "/body/description",
            json!("<p>Caf&eacute; &nbsp;</p>"),
            "HTML entities",
        ),
        (
            "/body/description",
            json!("<div>Sell</div>"),
            "<div> is not supported",
        ),
        (
            "/body/description",
            json!(format!("<p>{}</p>", "ü".repeat(32_500))),
            "the maximum is 65000 bytes",
        ),
        ("/body/location/country", json!("Spain"), "ISO 3166-1"),
        (
            "/metadata/jobSource/sourceType",
            json!("Agency"),
            "sourceType must be one of",
        ),
    ] {
        let mut bad = good.clone();
        *bad.pointer_mut(&format!("{posting}{pointer}")).unwrap() = value;
        let (status, reply) = twin.post_graphql(&bad).await;
        assert_eq!(status, 200, "{reply}");
        let result = &reply["data"]["jobsIngest"]["createSourcedJobPostings"]["results"][0];
        assert_eq!(result["jobPosting"], Value::Null, "{reply}");
        let message = reply["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected}: {message}");
    }

    // "The call will fail if fields are missing": benefits is required, even empty.
    let mut bad = good.clone();
    bad.pointer_mut(&format!("{posting}/body"))
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("benefits");
    let (status, reply) = twin.post_graphql(&bad).await;
    assert_eq!(status, 200);
    assert!(reply.get("data").is_none(), "{reply}");
    let message = reply["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("benefits"), "{message}");

    // Only the good request left a posting.
    assert_eq!(twin.held().len(), 1);
}

#[tokio::test]
async fn transient_signals_are_classified() {
    let twin = twin().await;
    let board = twin.adapter();
    let job = sample_job("account-executive.publish.json");
    let cases = [
        (
            Faults {
                fail_times: 1,
                fail_status: 503,
                ..Faults::default()
            },
            ErrorClass::Transient,
            503,
            None,
        ),
        (
            Faults {
                fail_times: 1,
                fail_status: 500,
                ..Faults::default()
            },
            ErrorClass::Ambiguous,
            500,
            None,
        ),
        (
            Faults {
                throttle_times: 1,
                retry_after_secs: 7,
                ..Faults::default()
            },
            ErrorClass::Throttled,
            429,
            Some(Duration::from_secs(7)),
        ),
    ];
    for (faults, class, status, retry_after) in cases {
        twin.sandbox.set_faults(indeed::ID, faults);
        let error = board
            .publish(&context(&job, "de", None, false), &mut CallLog::default())
            .await
            .expect_err("the twin was told to fail");
        assert_eq!(error.class, class, "{error:?}");
        assert_eq!(error.http_status, Some(status));
        assert_eq!(error.retry_after, retry_after);
    }
    assert!(twin.held().is_empty());
    // Healed, the same posting goes through.
    let id = live_id(
        board
            .publish(&context(&job, "de", None, false), &mut CallLog::default())
            .await
            .unwrap(),
    );
    assert_eq!(twin.only_copy().external_id, id);
}

/// Indeed's cost budget over a rolling 60 s: upserts beyond it are refused
/// with 429 until enough cost leaves the window; expiring stays exempt.
#[tokio::test]
async fn the_cost_budget_throttles_upserts_but_not_expiry() {
    let twin = twin().await;
    let board = twin.adapter();
    boardcast::sandbox::indeed::set_cost_budget(&twin.sandbox, 2 * indeed_twin::UPSERT_COST);
    let job = sample_job("account-executive.publish.json");
    let mut ids = Vec::new();
    for locale in ["de", "en"] {
        ids.push(live_id(
            board
                .publish(&context(&job, locale, None, false), &mut CallLog::default())
                .await
                .unwrap(),
        ));
    }
    let before = twin.held();
    let error = board
        .publish(&context(&job, "fr", None, false), &mut CallLog::default())
        .await
        .expect_err("the budget is spent");
    assert_eq!(error.class, ErrorClass::Throttled, "{error:?}");
    assert_eq!(error.http_status, Some(429));
    let wait = error.retry_after.expect("Indeed says when");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert_eq!(twin.held(), before, "the refused upsert changed nothing");

    // Expiring costs nothing: it goes through on a spent budget.
    let receipt = board
        .withdraw(
            &context(&job, "de", Some(&ids[0]), false),
            &mut CallLog::default(),
        )
        .await
        .unwrap();
    assert_eq!(receipt, Receipt::Withdrawn);
}

#[tokio::test]
async fn one_token_serves_every_call_and_is_refreshed_once() {
    let twin = twin().await;
    let board = twin.adapter();
    let job = sample_job("account-executive.publish.json");

    let id = live_id(
        board
            .publish(&context(&job, "en", None, false), &mut CallLog::default())
            .await
            .unwrap(),
    );
    board
        .update(
            &context(&job, "en", Some(&id), false),
            &mut CallLog::default(),
        )
        .await
        .unwrap();
    board
        .publish(&context(&job, "es", None, false), &mut CallLog::default())
        .await
        .unwrap();
    assert_eq!(twin.sandbox.tokens_issued("indeed"), 1);

    // An hour later Indeed refuses the token: one refresh, then the call goes through.
    twin.sandbox.expire_tokens("indeed");
    let receipt = board
        .withdraw(
            &context(&job, "en", Some(&id), false),
            &mut CallLog::default(),
        )
        .await
        .unwrap();
    assert_eq!(receipt, Receipt::Withdrawn);
    assert_eq!(twin.sandbox.tokens_issued("indeed"), 2);
    assert!(
        !twin
            .held()
            .iter()
            .find(|p| p.external_id == id)
            .unwrap()
            .live
    );
}

#[tokio::test]
async fn wrong_client_credentials_are_an_auth_failure() {
    let twin = twin().await;
    let board = twin.adapter_with_secret("not-the-secret");
    let job = sample_job("account-executive.publish.json");
    let error = board
        .publish(&context(&job, "en", None, false), &mut CallLog::default())
        .await
        .expect_err("the twin refuses the credentials");
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert!(!error.message.contains("not-the-secret"));
    assert_eq!(twin.sandbox.tokens_issued("indeed"), 0);
    assert!(twin.held().is_empty());
}

/// `sourceName` "determines which jobs are associated with their account":
/// each tenant's own (`[tenants.<id>] indeed_source_name`), else the job's
/// company, never one name for the whole deployment.
#[tokio::test]
async fn each_tenant_posts_under_its_own_source_name() {
    let twin = twin().await;
    let mut settings = settings();
    let board = settings.boards.get_mut("indeed").unwrap();
    board.base_url = format!("{}/indeed", twin.url);
    board.token_url = boardcast::sandbox::token_url_at(&twin.url, indeed::ID);
    for name in ["client_id", "client_secret"] {
        board.credentials.insert(
            name.to_owned(),
            SecretString::from(twin.sandbox.credential(indeed::ID, name)),
        );
    }
    settings.tenants.insert(
        "northwind".to_owned(),
        boardcast::config::TenantSettings {
            indeed_source_name: Some("Northwind Group".to_owned()),
            ..Default::default()
        },
    );
    let adapter = boardcast::boards::build_one(&settings, indeed::ID).unwrap();
    let job = sample_job("account-executive.publish.json");
    let northwind = context(&job, "en", None, false);
    adapter
        .publish(&northwind, &mut CallLog::default())
        .await
        .unwrap();
    let mut fabrikam = context(&job, "es", None, false);
    fabrikam.tenant_id = "fabrikam";
    adapter
        .publish(&fabrikam, &mut CallLog::default())
        .await
        .unwrap();
    let mut sources: Vec<String> = twin
        .held()
        .iter()
        .map(|h| {
            h.content["metadata"]["jobSource"]["sourceName"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    sources.sort();
    assert_eq!(sources, ["Northwind Group", "Northwind Traders"]);
}

/// The title limit of our Indeed XML feed (200 characters) holds for Job
/// Sync too: both Indeed adapters agree.
#[test]
fn a_title_over_200_characters_is_refused_as_in_the_feed() {
    let mut job = sample_job("account-executive.publish.json");
    job.ads.get_mut("en").unwrap().title = "T".repeat(201);
    let error =
        indeed::render(&context(&job, "en", None, false), "Northwind", PUBLISHED_AT).unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert_eq!(error.message, "title is 201 characters; Indeed allows 200");
    job.ads.get_mut("en").unwrap().title = "T".repeat(200);
    assert!(indeed::render(&context(&job, "en", None, false), "Northwind", PUBLISHED_AT).is_ok());
}

/// The twin reads with Indeed's input types: a field Indeed does not define
/// is refused, as GraphQL validation refuses it.
#[tokio::test]
async fn the_twin_refuses_an_input_field_indeed_does_not_define() {
    let twin = twin().await;
    let job = sample_job("account-executive.publish.json");
    let request =
        indeed::render(&context(&job, "en", None, false), "Northwind", PUBLISHED_AT).unwrap();
    let mut body = serde_json::to_value(&request).unwrap();
    body["variables"]["input"]["jobPostings"][0]["metadata"]["jobSource"]["sourceNames"] =
        json!("typo");
    let (status, answer) = twin.post_graphql(&body).await;
    assert_eq!(status, 200);
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("unknown field `sourceNames`"), "{message}");
    assert!(twin.held().is_empty());
}
