//! XING: the adapter's pure render against golden files, and the adapter
//! against its sandbox twin over real HTTP (create inactive → activate →
//! posting states; OAuth 1.0a PLAINTEXT). No database or broker.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::support::{BoardTwin, assert_rejected, context, publish_samples, sample, settings};
use boardcast::boards::xing::{Account, ID, operations, reduce_html, render};
use boardcast::boards::{Board, BoardError, CallLog, ErrorClass, PostingContext, Receipt};
use boardcast::intake::message::{Job, PayPeriod, Salary, primary_language};
use boardcast::plan::posting_reference;
use boardcast::sandbox::xing as twin_knobs;
use secrecy::SecretString;
use serde_json::{Value, json};

fn account() -> Account {
    Account {
        organization_id: "5160".into(),
        order_id: "1087615".into(),
    }
}

// ---------------------------------------------------------------------------
// Golden requests.

#[test]
fn golden_requests() {
    let settings = settings();
    let board = settings.board(ID).expect("[boards.xing]");
    assert_eq!(board.languages, ["de", "en"]);
    assert_eq!(board.countries, ["DE", "AT", "CH"]);
    let account = Account {
        organization_id: board.options["organization_id"].clone(),
        order_id: board.options["order_id"].clone(),
    };
    let mut compared = 0;
    let mut refused = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !board
                .languages
                .iter()
                .any(|l| l == primary_language(locale))
            {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let posting = context(&job, ad, &reference, locale);
            let mut countries: Vec<&str> = Vec::new();
            for location in &job.locations {
                if !countries.contains(&location.country.as_str()) {
                    countries.push(&location.country);
                }
            }
            if !countries.iter().any(|c| ["DE", "AT", "CH"].contains(c)) {
                let error = render(&posting, &account).expect_err(&format!("{stem}.{locale}"));
                assert_eq!(error.class, ErrorClass::Rejected);
                assert_eq!(
                    error.message,
                    format!(
                        "XING publishes jobs in DE, AT, CH; this job is in {}",
                        countries.join(", ")
                    )
                );
                refused += 1;
                continue;
            }
            let request =
                render(&posting, &account).unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            let rendered = serde_json::to_string_pretty(&request).unwrap() + "\n";
            crate::support::golden(ID, &format!("{stem}.publish.{locale}.json"), &rendered);
            compared += 1;
            if compared == 1 {
                // Every other operation, once: method, path and body.
                for (operation, method, path, body) in
                    operations(&request, "7654321").into_iter().skip(1)
                {
                    let text = serde_json::to_string_pretty(
                        &serde_json::json!({"method": method, "path": path, "body": body}),
                    )
                    .unwrap()
                        + "\n";
                    crate::support::golden(ID, &format!("{stem}.{operation}.{locale}.json"), &text);
                }
            }
        }
    }
    assert!(compared >= 2, "de and en of a DACH sample render");
    assert!(refused >= 1, "no sample is outside DE/AT/CH");
}

fn northwind(locale: &str) -> (Job, String) {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, locale);
    (job, reference)
}

#[test]
fn one_exact_city_the_first_in_dach() {
    let (mut job, reference) = northwind("de");
    let mut zurich = job.locations[1].clone();
    zurich.city = "Zürich".into();
    zurich.region = None;
    zurich.postal_code = Some("8001".into());
    zurich.country = "CH".into();
    job.locations.insert(0, zurich);
    let request = render(&context(&job, &job.ads["de"], &reference, "de"), &account()).unwrap();
    assert_eq!(
        (request.city.as_str(), request.country.as_str()),
        ("Zürich", "CH")
    );
    assert_eq!(request.zipcode.as_deref(), Some("8001"));
    assert_eq!(request.region, None);
    assert_eq!(request.language, "de");
    assert_eq!(request.job_code, reference);
}

#[test]
fn salary_is_a_range_a_fixed_amount_or_absent() {
    let (mut job, reference) = northwind("en");
    let request = render(&context(&job, &job.ads["en"], &reference, "en"), &account()).unwrap();
    let body = serde_json::to_value(&request).unwrap();
    assert_eq!(body["salary_range_start"], json!(48000));
    assert_eq!(body["salary_range_end"], json!(72000));
    assert_eq!(body["currency"], "EUR");
    assert_eq!(body["salary_interval"], "YEAR");
    assert!(body.get("salary").is_none());

    job.salary = Some(Salary {
        currency: "CHF".into(),
        min: 31.5,
        max: 31.5,
        period: PayPeriod::Hour,
    });
    let body = serde_json::to_value(
        render(&context(&job, &job.ads["en"], &reference, "en"), &account()).unwrap(),
    )
    .unwrap();
    assert_eq!(body["salary"], json!(31.5));
    assert_eq!(body["salary_interval"], "HOUR");
    assert!(body.get("salary_range_start").is_none());

    // No salary: nothing is sent, and XING shows its own estimate.
    job.salary = None;
    let body = serde_json::to_value(
        render(&context(&job, &job.ads["en"], &reference, "en"), &account()).unwrap(),
    )
    .unwrap();
    for field in [
        "salary",
        "salary_range_start",
        "salary_range_end",
        "salary_interval",
        "currency",
    ] {
        assert!(body.get(field).is_none(), "{field} sent without a salary");
    }
}

#[test]
fn descriptions_use_only_xing_tags() {
    let (job, reference) = northwind("de");
    let request = render(&context(&job, &job.ads["de"], &reference, "de"), &account()).unwrap();
    assert!(request.description.starts_with("<p>"));
    assert!(
        request
            .description
            .contains("<h3>Ihre Aufgaben</h3><ul><li>")
    );
    assert_eq!(reduce_html(&request.description), request.description);
    assert_eq!(
        reduce_html(
            "<div class=\"x\"><p style=\"color:red\">a</p><script>x()</script><img src=y></div>"
        ),
        "<p>a</p>"
    );
}

// ---------------------------------------------------------------------------
// Against the twin.

async fn twin() -> BoardTwin {
    BoardTwin::start(ID).await
}

/// The adapter against `twin` with some `[boards.xing.options]` replaced.
fn adapter_with_options(twin: &BoardTwin, options: &[(&str, &str)]) -> Arc<dyn Board> {
    let mut settings = settings();
    let board = settings.boards.get_mut("xing").expect("[boards.xing]");
    board.base_url = twin.board_url("");
    board.request_timeout_ms = Some(5_000);
    for (name, value) in &twin.sandbox.credentials()[ID] {
        board
            .credentials
            .insert(name.clone(), SecretString::from(value.clone()));
    }
    for (name, value) in options {
        board
            .options
            .insert((*name).to_owned(), (*value).to_owned());
    }
    boardcast::boards::build_one(&settings, ID).expect("the xing adapter builds")
}

/// Reads the posting state until XING decides (each read counts; no sleeps).
async fn settle(twin: &BoardTwin, posting: &PostingContext<'_>, task: &str) -> Receipt {
    settle_with(twin.board.as_ref(), posting, task)
        .await
        .unwrap_or_else(|e| panic!("confirm failed: {e:?}"))
}

async fn settle_with(
    board: &dyn Board,
    posting: &PostingContext<'_>,
    task: &str,
) -> Result<Receipt, BoardError> {
    for _ in 0..5 {
        match board
            .confirm(posting, task, &mut CallLog::default())
            .await?
        {
            Receipt::Pending => continue,
            other => return Ok(other),
        }
    }
    panic!("posting {task} still pending after five state reads");
}

fn task_of(receipt: &Receipt) -> String {
    match receipt {
        Receipt::Accepted {
            task,
            external_id: Some(id),
        } => {
            assert_eq!(task, id, "the task is XING's posting id");
            task.clone()
        }
        other => panic!("expected Accepted with the posting id, got {other:?}"),
    }
}

#[tokio::test]
async fn publish_confirm_update_withdraw() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let ad = &job.ads["de"];
    let first = context(&job, ad, &reference, "de");

    let receipt = twin.publish(&first).await.unwrap();
    let id = task_of(&receipt);
    let held = twin.only();
    assert_eq!(held.external_id, id);
    assert_eq!(held.reference, reference);
    assert!(!held.live, "created inactive, activated, not yet checked");
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));
    assert_eq!(held.content["city"], "Berlin");
    assert_eq!(held.content["country"], "DE");
    assert_eq!(held.content["order_id"], 1_087_615);
    assert_eq!(held.content["organization_id"], 5160);
    assert_eq!(held.content["job_code"], reference.as_str());

    // The contract check takes one state read: pending, then live.
    assert_eq!(twin.confirm(&first, &id).await.unwrap(), Receipt::Pending);
    let Receipt::Live { external_id, url } = twin.confirm(&first, &id).await.unwrap() else {
        panic!("not live after the check");
    };
    let held = twin.only();
    assert_eq!(external_id, id);
    assert_eq!(url.as_deref(), Some(held.url.as_str()));
    assert!(held.live);

    let mut revised = job.clone();
    revised.revision = 2;
    revised.ads.get_mut("de").unwrap().title = "Senior Account Executive (m/w/d)".into();
    let mut posting = context(&revised, &revised.ads["de"], &reference, "de");
    posting.external_id = Some(&id);
    posting.live_at_board = true;
    let receipt = twin.update(&posting).await.unwrap();
    assert_eq!(task_of(&receipt), id);
    assert!(matches!(
        settle(&twin, &posting, &id).await,
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!(held.title, "Senior Account Executive (m/w/d)");
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 0));

    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let held = twin.only();
    assert!(!held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 1));

    // Withdrawing again, or what XING never had, is done already.
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let never = context(&job, ad, "bcneverpublished", "de");
    assert_eq!(twin.withdraw(&never).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.only().withdrawals, 1);

    // An update after the withdrawal re-activates the archived posting.
    posting.live_at_board = false;
    let receipt = twin.update(&posting).await.unwrap();
    assert_eq!(task_of(&receipt), id);
    assert!(matches!(
        settle(&twin, &posting, &id).await,
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 2, 1));
    assert_eq!(twin.live_copies(&reference), 1);
}

#[tokio::test]
async fn a_twin_that_checks_at_once_is_live_on_the_first_read() {
    let twin = twin().await;
    twin_knobs::set_reads_before_visible(&twin.sandbox, 0);
    let (job, reference) = northwind("en");
    let posting = context(&job, &job.ads["en"], &reference, "en");
    let id = task_of(&twin.publish(&posting).await.unwrap());
    assert!(twin.only().live);
    assert!(matches!(
        twin.confirm(&posting, &id).await.unwrap(),
        Receipt::Live { .. }
    ));
}

#[tokio::test]
async fn an_activation_that_failed_after_the_create_is_finished_not_repeated() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let ad = &job.ads["de"];
    twin_knobs::fail_activations(&twin.sandbox, 1, 503);

    let error = twin
        .publish(&context(&job, ad, &reference, "de"))
        .await
        .unwrap_err();
    // The create landed: ambiguous, so the next attempt looks before creating.
    assert_eq!(error.class, ErrorClass::Ambiguous, "{error:?}");
    assert_eq!(error.http_status, Some(503));
    assert!(
        error.message.contains("created posting"),
        "{}",
        error.message
    );
    let held = twin.only();
    assert!(!held.live);
    assert_eq!(held.creates, 1);

    let mut again = context(&job, ad, &reference, "de");
    again.may_exist = true;
    let id = task_of(&twin.publish(&again).await.unwrap());
    assert_eq!(
        id, held.external_id,
        "the inactive posting is the one activated"
    );
    assert!(matches!(
        settle(&twin, &again, &id).await,
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates), (1, 1));
}

#[tokio::test]
async fn a_publish_that_may_have_landed_makes_no_second_copy() {
    let twin = twin().await;
    let (job, reference) = northwind("en");
    let ad = &job.ads["en"];
    let first = task_of(
        &twin
            .publish(&context(&job, ad, &reference, "en"))
            .await
            .unwrap(),
    );

    // The answer was lost: the re-send finds the posting by job_code.
    let mut again = context(&job, ad, &reference, "en");
    again.may_exist = true;
    let id = task_of(&twin.publish(&again).await.unwrap());
    assert_eq!(id, first);
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 1));

    // A may-exist publish of a posting XING never got creates it once.
    let fresh_reference = "bcfreshxing";
    let mut fresh = context(&job, ad, fresh_reference, "en");
    fresh.may_exist = true;
    task_of(&twin.publish(&fresh).await.unwrap());
    let held = twin.held();
    assert_eq!(held.len(), 2);
    let created = held
        .iter()
        .find(|p| p.reference == fresh_reference)
        .expect("created");
    assert_eq!((created.creates, created.updates), (1, 0));
}

#[tokio::test]
async fn an_update_xing_never_saw_creates_and_activates_it() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let id = task_of(&twin.update(&posting).await.unwrap());
    assert!(matches!(
        settle(&twin, &posting, &id).await,
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 0));
    assert!(held.live);

    // An id XING does not know (deleted there, say) is created anew.
    let mut stale = context(&job, &job.ads["de"], "bcstalexing", "de");
    stale.external_id = Some("99999999");
    stale.live_at_board = true;
    let new_id = task_of(&twin.update(&stale).await.unwrap());
    assert_ne!(new_id, "99999999");
    assert_eq!(twin.held().len(), 2);
}

#[tokio::test]
async fn a_refused_order_is_rejected_with_xing_s_reason() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let posting = context(&job, &job.ads["de"], &reference, "de");

    // The order has no posting left.
    twin_knobs::set_order_capacity(&twin.sandbox, 1_087_615, 0);
    let id = task_of(&twin.publish(&posting).await.unwrap());
    let error = settle_with(twin.board.as_ref(), &posting, &id)
        .await
        .unwrap_err();
    assert_rejected(&error, &["XING refused posting", "order_exhausted"]);
    assert!(!twin.only().live);

    // An order XING does not know passes the create (static check only) and
    // is refused by the contract check.
    let unknown = adapter_with_options(&twin, &[("order_id", "4242")]);
    let other = context(&job, &job.ads["en"], "bcunknownorder", "en");
    let receipt = unknown
        .publish(&other, &mut CallLog::default())
        .await
        .unwrap();
    let id = task_of(&receipt);
    let error = settle_with(unknown.as_ref(), &other, &id)
        .await
        .unwrap_err();
    assert_rejected(&error, &["order_not_found"]);
    assert_eq!(twin.live_copies("bcunknownorder"), 0);
}

#[tokio::test]
async fn the_adapter_refuses_what_breaks_a_rule_before_sending() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let publish = |job: Job, locale: &'static str| {
        let twin = &twin;
        let reference = reference.clone();
        async move {
            twin.publish(&context(&job, &job.ads[locale], &reference, locale))
                .await
                .unwrap_err()
        }
    };

    let mut long_title = job.clone();
    long_title.ads.get_mut("de").unwrap().title = "A".repeat(256);
    let error = publish(long_title, "de").await;
    assert_rejected(
        &error,
        &["function (title) is 256 characters; XING allows 255"],
    );
    assert_eq!(error.http_status, None);

    let mut long_company = job.clone();
    long_company.company.name = "C".repeat(256);
    assert_rejected(
        &publish(long_company, "de").await,
        &["company_name is 256 characters; XING allows 255"],
    );

    let mut long_description = job.clone();
    long_description.ads.get_mut("de").unwrap().responsibilities =
        vec!["Verantwortung für Kunden und Umsatz übernehmen".repeat(4); 60];
    assert_rejected(
        &publish(long_description, "de").await,
        &["description is", "characters; XING allows 10000"],
    );

    let mut long_tags = job.clone();
    long_tags.category = Some("vertrieb, ".repeat(51));
    assert_rejected(
        &publish(long_tags, "de").await,
        &["tags is 510 characters; XING allows 500"],
    );

    let mut zloty = job.clone();
    zloty.salary.as_mut().unwrap().currency = "PLN".into();
    assert_rejected(
        &publish(zloty, "de").await,
        &["salary currency is PLN; XING takes EUR, USD, GBP, CHF"],
    );

    assert_rejected(
        &publish(job.clone(), "es").await,
        &["XING takes ads in de, en; this one is in es"],
    );

    let (_, outside) = sample("sales-account-executive");
    assert_rejected(
        &publish(outside, "en").await,
        &["XING publishes jobs in DE, AT, CH; this job is in PT"],
    );

    let not_an_order = adapter_with_options(&twin, &[("order_id", "basic-order")]);
    let error = not_an_order
        .publish(
            &context(&job, &job.ads["de"], &reference, "de"),
            &mut CallLog::default(),
        )
        .await
        .unwrap_err();
    assert_rejected(&error, &["order_id \"basic-order\" is not an integer"]);

    assert_eq!(twin.requests(), 0, "nothing was sent");
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn an_order_cannot_change_at_xing() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let mut posting = context(&job, &job.ads["de"], &reference, "de");
    let id = task_of(&twin.publish(&posting).await.unwrap());
    assert_eq!(
        twin.board.fixed_fields(&posting).as_deref(),
        Some("order_id=1087615")
    );

    // Another (valid) order for the same posting: only XING checks this.
    let basic_plus = adapter_with_options(&twin, &[("order_id", "1087614")]);
    posting.external_id = Some(&id);
    posting.live_at_board = true;
    let error = basic_plus
        .update(&posting, &mut CallLog::default())
        .await
        .unwrap_err();
    assert_rejected(&error, &["400", "order_id: IMMUTABLE", "order 1087615"]);
    assert_eq!(error.http_status, Some(400));
    assert_eq!(twin.only().updates, 0);
}

// ---------------------------------------------------------------------------
// The twin on its own: hand-made requests.

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// OAuth parameters to replace (`Some`) or drop (`None`).
type Changes<'a> = Vec<(&'a str, Option<&'a str>)>;

/// `Authorization: OAuth …` for the twin; `changes` replace (Some) or drop
/// (None) single parameters.
fn oauth_header(twin: &BoardTwin, changes: &[(&str, Option<&str>)]) -> String {
    let mut parts: BTreeMap<&str, String> = BTreeMap::from([
        (
            "oauth_consumer_key",
            twin.credential("consumer_key").to_owned(),
        ),
        ("oauth_token", twin.credential("access_token").to_owned()),
        ("oauth_signature_method", "PLAINTEXT".to_owned()),
        (
            "oauth_signature",
            format!(
                "{}%26{}",
                twin.credential("consumer_secret"),
                twin.credential("token_secret")
            ),
        ),
        ("oauth_timestamp", now().to_string()),
        ("oauth_nonce", uuid::Uuid::new_v4().simple().to_string()),
        ("oauth_version", "1.0".to_owned()),
    ]);
    for (name, value) in changes {
        match value {
            Some(value) => parts.insert(name, (*value).to_owned()),
            None => parts.remove(name),
        };
    }
    let text: Vec<String> = parts
        .iter()
        .map(|(name, value)| format!("{name}=\"{value}\""))
        .collect();
    format!("OAuth {}", text.join(", "))
}

#[tokio::test]
async fn the_twin_checks_every_part_of_the_oauth_signature() {
    let twin = twin().await;
    let client = reqwest::Client::new();
    let url = twin.board_url("/vendor/jobs/postings");
    let old = (now() - 2 * 24 * 3600).to_string();
    let wrong_signature = format!("{}%26wrong", twin.credential("consumer_secret"));
    let cases: Vec<(&str, Changes)> = vec![
        (
            "INVALID_OAUTH_CONSUMER",
            vec![("oauth_consumer_key", Some("someone"))],
        ),
        ("INVALID_OAUTH_TOKEN", vec![("oauth_token", Some("stolen"))]),
        (
            "UNSUPPORTED_OAUTH_SIGNATURE_METHOD",
            vec![("oauth_signature_method", Some("HMAC-SHA1"))],
        ),
        (
            "INVALID_OAUTH_SIGNATURE",
            vec![("oauth_signature", Some(wrong_signature.as_str()))],
        ),
        ("INVALID_OAUTH_SIGNATURE", vec![("oauth_signature", None)]),
        (
            "INVALID_OAUTH_VERSION",
            vec![("oauth_version", Some("2.0"))],
        ),
        ("INVALID_OAUTH_VERSION", vec![("oauth_version", None)]),
        (
            "INVALID_OAUTH_TIMESTAMP",
            vec![("oauth_timestamp", Some(old.as_str()))],
        ),
        (
            "INVALID_OAUTH_TIMESTAMP",
            vec![("oauth_timestamp", Some("soon"))],
        ),
        ("INVALID_OAUTH_NONCE", vec![("oauth_nonce", None)]),
    ];
    for (expected, changes) in cases {
        let response = client
            .get(&url)
            .header("authorization", oauth_header(&twin, &changes))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{expected}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error_name"], expected, "{changes:?}");
    }
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);

    // A good header passes once; its nonce cannot be replayed.
    let header = oauth_header(&twin, &[]);
    let response = client
        .get(&url)
        .header("authorization", &header)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = client
        .get(&url)
        .header("authorization", &header)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_name"], "INVALID_OAUTH_NONCE");
}

async fn post_body(twin: &BoardTwin, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(twin.board_url("/vendor/jobs/postings.json"))
        .header("authorization", oauth_header(twin, &[]))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn fields(answer: &Value) -> Vec<(String, String)> {
    answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_owned(),
                        e["reason"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn rendered_body(locale: &str) -> Value {
    let (job, reference) = northwind(locale);
    serde_json::to_value(
        render(
            &context(&job, &job.ads[locale], &reference, locale),
            &account(),
        )
        .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_twin_checks_its_rules_on_its_own() {
    let twin = twin().await;

    // organization_id and order_id: only present and integer (400).
    let mut body = rendered_body("de");
    body.as_object_mut().unwrap().remove("order_id");
    body["organization_id"] = json!("Northwind");
    let (status, answer) = post_body(&twin, &body).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error_name"], "INVALID_PARAMETERS");
    assert_eq!(
        fields(&answer),
        [
            ("organization_id".to_owned(), "NOT_AN_INTEGER".to_owned()),
            ("order_id".to_owned(), "MISSING".to_owned())
        ]
    );

    // The documented lengths and the fields that go together.
    let mut body = rendered_body("de");
    body["function"] = json!("F".repeat(256));
    body["company_name"] = json!("");
    body["description"] = json!("<p>".to_owned() + &"x".repeat(10_000) + "</p>");
    body["country"] = json!("Deutschland");
    body["reply_setting"] = json!("fax");
    body["tags"] = json!("t".repeat(501));
    body["skills"] = json!("s".repeat(256));
    body["salary"] = json!(50000);
    body["currency"] = json!("PLN");
    let (status, answer) = post_body(&twin, &body).await;
    assert_eq!(status, 400);
    let reasons = fields(&answer);
    for expected in [
        ("function", "TOO_LONG"),
        ("company_name", "MISSING"),
        ("description", "TOO_LONG"),
        ("country", "INVALID"),
        ("reply_setting", "INVALID"),
        ("tags", "TOO_LONG"),
        ("skills", "TOO_LONG"),
        ("salary", "CONFLICT"),
        ("currency", "INVALID"),
    ] {
        assert!(
            reasons
                .iter()
                .any(|(f, r)| (f.as_str(), r.as_str()) == expected),
            "{expected:?} not in {reasons:?}"
        );
    }

    // A range needs both ends, in order; a url reply needs its URL.
    let mut body = rendered_body("en");
    body["salary_range_start"] = json!("90000");
    body.as_object_mut().unwrap().remove("reply_url");
    let (status, answer) = post_body(&twin, &body).await;
    assert_eq!(status, 400);
    assert_eq!(
        fields(&answer),
        [
            ("reply_url".to_owned(), "INVALID".to_owned()),
            ("salary_range_start".to_owned(), "INVALID".to_owned())
        ]
    );
    assert!(twin.held().is_empty());

    // Disallowed tags, attributes and inline CSS are stripped, not refused.
    let mut body = rendered_body("en");
    body["description"] = json!(
        "<div style=\"font-size:40px\"><h1>Join us</h1><p class=\"lead\" style=\"color:red\">Sell.</p>\
         <style>p{color:red}</style><script>track()</script>\
         <a href=\"https://northwind.example\" onclick=\"x()\">More</a><img src=\"x.png\"></div>"
    );
    let (status, answer) = post_body(&twin, &body).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer["posting_id"].as_u64().is_some());
    let held = twin.only();
    assert_eq!(
        held.content["description"],
        "Join us<p>Sell.</p><a href=\"https://northwind.example\">More</a>"
    );
    assert!(!held.live, "a new posting is inactive");
}

#[tokio::test]
async fn transient_ambiguous_and_throttled_answers() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let posting = context(&job, &job.ads["de"], &reference, "de");

    twin.assert_transient_signals(&posting).await;

    // The faults changed nothing; healed, XING takes it once.
    assert!(twin.held().is_empty());
    let id = task_of(&twin.publish(&posting).await.unwrap());
    assert!(matches!(
        settle(&twin, &posting, &id).await,
        Receipt::Live { .. }
    ));
    assert_eq!(twin.only().creates, 1);
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_failure() {
    for (name, value) in [
        ("token_secret", "not-the-secret"),
        ("consumer_secret", "not-the-secret"),
        ("consumer_key", "not-the-key"),
        ("access_token", "not-the-token"),
    ] {
        let twin = BoardTwin::start_with(ID, &[(name, value)]).await;
        let (job, reference) = northwind("de");
        let mut posting = context(&job, &job.ads["de"], &reference, "de");
        let error = twin.publish(&posting).await.unwrap_err();
        assert_eq!(error.class, ErrorClass::Auth, "{name}: {error:?}");
        assert_eq!(error.http_status, Some(401));
        for secret in ["consumer_secret", "token_secret"] {
            assert!(!error.message.contains(twin.credential(secret)));
        }
        posting.external_id = Some("30000001");
        let error = twin.withdraw(&posting).await.unwrap_err();
        assert_eq!(error.class, ErrorClass::Auth, "{name}: {error:?}");
        assert!(twin.held().is_empty());
    }
}

/// A 404 on archiving counts as "gone" only once the lookup by `job_code`
/// agrees: with a stale posting id, the open posting is found and archived.
#[tokio::test]
async fn a_404_on_withdraw_is_gone_only_when_the_lookup_agrees() {
    let twin = twin().await;
    let (job, reference) = northwind("en");
    let ad = &job.ads["en"];
    let task = task_of(
        &twin
            .publish(&context(&job, ad, &reference, "en"))
            .await
            .unwrap(),
    );
    settle(&twin, &context(&job, ad, &reference, "en"), &task).await;
    assert!(twin.only().live);
    let mut stale = context(&job, ad, &reference, "en");
    stale.external_id = Some("999999999");
    stale.live_at_board = true;
    assert_eq!(twin.withdraw(&stale).await.unwrap(), Receipt::Withdrawn);
    assert!(!twin.only().live, "the open posting was archived");
    assert_eq!(twin.only().withdrawals, 1);
    // Nothing open left: the 404 is "gone".
    assert_eq!(twin.withdraw(&stale).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.only().withdrawals, 1);
}
