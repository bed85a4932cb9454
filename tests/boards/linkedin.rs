//! LinkedIn Job Posting API: golden requests for every operation, the
//! June 2025 poster rule, `listingType: BASIC`, and the adapter against its
//! twin, which reads requests with its own types (docs/boards/linkedin.md).
//!
//! `UPDATE_GOLDEN=1 cargo test --test boards linkedin::` rewrites the golden files.

use crate::support::{BoardTwin, context, publish_samples, sample};
use boardcast::boards::linkedin::{Operation, render};
use boardcast::boards::{ErrorClass, Receipt};
use boardcast::intake::message::{Job, Poster};
use boardcast::plan::posting_reference;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

const ORGANIZATION: &str = "2414183";
/// The fixed clock of the golden files.
const LISTED_AT: OffsetDateTime = datetime!(2026-11-23 09:00:00 UTC);

fn tenant_default() -> Poster {
    Poster {
        name: Some("Ana Pérez".into()),
        email: "ana.perez@contoso.example".into(),
    }
}

fn pretty(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap();
    text.push('\n');
    text
}

#[test]
fn golden_requests() {
    let poster = tenant_default();
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            let reference = posting_reference(&tenant, &job.id, locale);
            let posting = context(&job, ad, &reference, locale);
            let element = render(
                &posting,
                ORGANIZATION,
                Some(&poster),
                Operation::Create,
                LISTED_AT,
            )
            .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            let body = json!({ "elements": [element] });
            crate::support::golden(
                "linkedin",
                &format!("{stem}.publish.{locale}.json"),
                &pretty(&body),
            );
            compared += 1;
        }
    }
    assert!(compared >= 10, "{compared}");
    // Update and close of one variant: the same element, another operation.
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "en");
    let posting = context(&job, &job.ads["en"], &reference, "en");
    for (name, operation) in [("update", Operation::Update), ("close", Operation::Close)] {
        let element = render(&posting, ORGANIZATION, Some(&poster), operation, LISTED_AT).unwrap();
        let body = json!({ "elements": [element] });
        crate::support::golden(
            "linkedin",
            &format!("account-executive.{name}.en.json"),
            &pretty(&body),
        );
    }
}

/// Free jobs are `listingType: BASIC`, and every job names its poster.
#[test]
fn a_free_job_is_basic_and_names_its_poster() {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "en");
    let posting = context(&job, &job.ads["en"], &reference, "en");
    let element = render(
        &posting,
        ORGANIZATION,
        Some(&tenant_default()),
        Operation::Create,
        LISTED_AT,
    )
    .unwrap();
    let sent = serde_json::to_value(&element).unwrap();
    assert_eq!(sent["listingType"], "BASIC");
    assert_eq!(sent["posterEmail"], "ana.perez@contoso.example");
    assert_eq!(sent["integrationContext"], "urn:li:organization:2414183");
    assert_eq!(sent["location"], "Madrid, Spain", "CITY, COUNTRY");
}

/// LinkedIn requires the poster's e-mail (June 2025): the job's own poster
/// wins, the tenant's default stands in, and with neither nothing is sent.
/// A close goes out without one, so an ad can always be taken down.
#[test]
fn the_poster_comes_from_the_job_or_the_tenant_or_the_job_is_refused() {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "en");
    let email_of = |job: &Job, default: Option<&Poster>, operation| {
        let posting = context(job, &job.ads["en"], &reference, "en");
        render(&posting, ORGANIZATION, default, operation, LISTED_AT)
            .map(|element| serde_json::to_value(&element).unwrap()["posterEmail"].clone())
    };
    let default = tenant_default();
    assert_eq!(
        email_of(&job, Some(&default), Operation::Create).unwrap(),
        "ana.perez@contoso.example"
    );
    let mut own = job.clone();
    own.poster = Some(Poster {
        name: None,
        email: "li.wei@northwind.example".into(),
    });
    assert_eq!(
        email_of(&own, Some(&default), Operation::Update).unwrap(),
        "li.wei@northwind.example"
    );
    assert_eq!(
        email_of(&own, None, Operation::Create).unwrap(),
        "li.wei@northwind.example"
    );

    for operation in [Operation::Create, Operation::Update] {
        let error = email_of(&job, None, operation).unwrap_err();
        assert_eq!(error.class, ErrorClass::Rejected);
        assert_eq!(
            error.message,
            "LinkedIn requires the job poster's e-mail (posterEmail) on every job: the message has no job.poster and tenant \"contoso\" has no default (set poster_email in [tenants.contoso])"
        );
    }
    assert_eq!(email_of(&job, None, Operation::Close).unwrap(), Value::Null);
}

/// The adapter as `config/default.toml` builds it, against the twin: a job
/// with no poster anywhere never reaches LinkedIn; one with a poster is
/// taken, confirmed after a poll, updated and closed.
#[tokio::test]
async fn the_adapter_publishes_updates_and_closes_against_the_twin() {
    let twin = BoardTwin::start("linkedin").await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "en");

    let refused = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert!(refused.message.contains("posterEmail"), "{refused:?}");
    assert_eq!(twin.requests(), 0, "refused before sending");

    let mut job = job;
    job.poster = Some(Poster {
        name: Some("Li Wei".into()),
        email: "li.wei@northwind.example".into(),
    });
    let posting = context(&job, &job.ads["en"], &reference, "en");
    let Receipt::Accepted { task, .. } = twin.publish(&posting).await.unwrap() else {
        panic!("LinkedIn answers a task");
    };
    assert_eq!(
        twin.confirm(&posting, &task).await.unwrap(),
        Receipt::Pending
    );
    let Receipt::Live { external_id, url } = twin.confirm(&posting, &task).await.unwrap() else {
        panic!("the task succeeded");
    };
    assert!(
        external_id.starts_with("urn:li:jobPosting:"),
        "{external_id}"
    );
    assert_eq!(url, Some(twin.only().url));
    let held = twin.only();
    assert_eq!(held.content["listingType"], "BASIC");
    assert_eq!(held.content["posterEmail"], "li.wei@northwind.example");

    // An update carries the first publication as listedAt, not its own time.
    let first = datetime!(2026-11-02 08:30:00 UTC);
    let update = boardcast::boards::PostingContext {
        first_published_at: Some(first),
        ..posting
    };
    assert!(matches!(
        twin.update(&update).await.unwrap(),
        Receipt::Accepted { .. }
    ));
    assert_eq!(twin.only().updates, 1);
    assert_eq!(
        twin.only().content["listedAt"],
        json!((first.unix_timestamp_nanos() / 1_000_000) as i64),
        "listedAt is \"the initial date\" [S1]"
    );
    assert!(matches!(
        twin.withdraw(&posting).await.unwrap(),
        Receipt::Accepted { .. }
    ));
    assert!(!twin.only().live);
}

/// The twin reads with its own types: a field LinkedIn does not define, or
/// a job without `posterEmail`, is refused inside the 200 as LinkedIn does.
#[tokio::test]
async fn the_twin_refuses_unknown_fields_and_a_missing_poster() {
    let twin = BoardTwin::start("linkedin").await;
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/linkedin/oauth/v2/accessToken", twin.url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", twin.credential("client_id")),
            ("client_secret", twin.credential("client_secret")),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "en");
    let posting = context(&job, &job.ads["en"], &reference, "en");
    let element = render(
        &posting,
        ORGANIZATION,
        Some(&tenant_default()),
        Operation::Create,
        LISTED_AT,
    )
    .unwrap();
    let good = serde_json::to_value(&element).unwrap();
    let send = |element: Value| {
        let http = http.clone();
        let token = token.clone();
        let url = twin.board_url("/v2/simpleJobPostings");
        async move {
            let answer: Value = http
                .post(url)
                .bearer_auth(token)
                .header("x-restli-method", "batch_create")
                .json(&json!({ "elements": [element] }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answer["elements"][0].clone()
        }
    };
    let mut misspelt = good.clone();
    let email = misspelt
        .as_object_mut()
        .unwrap()
        .remove("posterEmail")
        .unwrap();
    misspelt["jobPosterEmail"] = email;
    assert_eq!(
        send(misspelt).await["error"]["message"],
        "ERROR :: /jobPosterEmail :: unrecognized field found but not allowed"
    );
    let mut no_poster = good.clone();
    no_poster.as_object_mut().unwrap().remove("posterEmail");
    let refused = send(no_poster).await;
    assert_eq!(refused["error"]["status"], 422);
    assert_eq!(
        refused["error"]["message"],
        "ERROR :: /posterEmail :: field is required but not found and has no default value"
    );
    let mut premium = good.clone();
    premium["listingType"] = json!("PREMIUM");
    assert_eq!(
        send(premium).await["error"]["message"],
        "ERROR :: /contract :: field is required but not found and has no default value"
    );
    assert_eq!(send(good).await["status"], 202);
}

/// The token request and the task lookup, the two calls beside `batch_create`.
#[test]
fn golden_token_and_task_requests() {
    use boardcast::boards::linkedin::task_url;
    use boardcast::boards::oauth::token_form;
    let token = format!(
        "POST https://www.linkedin.com/oauth/v2/accessToken\ncontent-type: application/x-www-form-urlencoded\n\n{}\n",
        token_form("CLIENT_ID", "CLIENT_SECRET", &[])
    );
    crate::support::golden("linkedin", "token.http", &token);
    let tasks = url::Url::parse("https://api.linkedin.com/v2/simpleJobPostingTasks").unwrap();
    let lookup = format!(
        "GET {}\n",
        task_url(&tasks, "urn:li:simpleJobPostingTask:0aa8d4f1-sandbox")
    );
    crate::support::golden("linkedin", "confirm.task.http", &lookup);
}

/// Attempts running at the same time share requests: 150 jobs go out in
/// `batch_create`s of at most 100 [S2], their confirmations in lookups of at
/// most 50 tasks (`?ids=…&ids=…`), and each attempt reads only its own
/// element: the job LinkedIn already holds (409 inside the 200) is updated
/// while its neighbours are created.
#[tokio::test]
async fn concurrent_attempts_share_batches_and_each_reads_its_own_element() {
    use boardcast::sandbox::linkedin::batch_sizes;
    use futures_util::future::join_all;

    let twin = BoardTwin::start("linkedin").await;
    let (tenant, mut job) = sample("account-executive");
    job.poster = Some(tenant_default());
    let stem = posting_reference(&tenant, &job.id, "en");
    let references: Vec<String> = (0..150).map(|i| format!("{stem}-{i}")).collect();
    let postings: Vec<_> = references
        .iter()
        .map(|reference| context(&job, &job.ads["en"], reference, "en"))
        .collect();
    // An earlier create of posting 7 reached LinkedIn; its answer was lost.
    twin.publish(&postings[7]).await.unwrap();
    let (earlier, _) = batch_sizes(&twin.sandbox);

    let receipts = join_all(postings.iter().map(|posting| twin.publish(posting))).await;
    let (batches, _) = batch_sizes(&twin.sandbox);
    let batches = &batches[earlier.len()..];
    assert!(batches.iter().all(|jobs| *jobs <= 100), "{batches:?}");
    // 150 creates and the update of posting 7, in a handful of requests.
    assert_eq!(batches.iter().sum::<usize>(), 151, "{batches:?}");
    assert!(batches.len() <= 4, "one request per job: {batches:?}");
    let mut tasks = Vec::new();
    for (i, receipt) in receipts.into_iter().enumerate() {
        let Receipt::Accepted { task, .. } = receipt.unwrap() else {
            panic!("posting {i}: LinkedIn answers a task");
        };
        let operation = if i == 7 { "UPDATE " } else { "CREATE " };
        assert!(task.starts_with(operation), "posting {i}: {task}");
        tasks.push(task);
    }
    let distinct: std::collections::BTreeSet<&String> = tasks.iter().collect();
    assert_eq!(distinct.len(), 150, "every attempt has its own task");

    let confirm_all = || {
        join_all(
            postings
                .iter()
                .zip(&tasks)
                .map(|(posting, task)| twin.confirm(posting, task)),
        )
    };
    for pending in confirm_all().await {
        assert_eq!(pending.unwrap(), Receipt::Pending);
    }
    let mut jobs = std::collections::BTreeSet::new();
    for live in confirm_all().await {
        let Receipt::Live { external_id, .. } = live.unwrap() else {
            panic!("each task succeeded");
        };
        jobs.insert(external_id);
    }
    assert_eq!(jobs.len(), 150, "each attempt read its own task's job");
    let (_, lookups) = batch_sizes(&twin.sandbox);
    assert!(lookups.iter().all(|tasks| *tasks <= 50), "{lookups:?}");
    assert_eq!(lookups.iter().sum::<usize>(), 300);
    assert!(lookups.len() <= 12, "one lookup per task: {lookups:?}");
}

/// The attempt's answer size limit (`dispatch.max_answer_bytes`, a
/// task-local) holds for the batch request sent on the coalescer's task.
#[tokio::test]
async fn a_batched_call_reads_no_more_than_the_attempts_answer_limit() {
    use boardcast::boards::http::MAX_ANSWER_BYTES;

    let twin = BoardTwin::start("linkedin").await;
    let (tenant, mut job) = sample("account-executive");
    job.poster = Some(tenant_default());
    let reference = posting_reference(&tenant, &job.id, "en");
    let posting = context(&job, &job.ads["en"], &reference, "en");
    let error = MAX_ANSWER_BYTES
        .scope(16, twin.publish(&posting))
        .await
        .unwrap_err();
    assert!(
        error.message.contains("more than the 16 bytes"),
        "{error:?}"
    );
}
