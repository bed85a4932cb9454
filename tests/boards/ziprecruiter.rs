//! ZipRecruiter: the adapter's pure render against golden files, and the
//! adapter against its sandbox twin over real HTTP. No database or broker.

use crate::support::{BoardTwin, assert_rejected, context, publish_samples, sample, settings};
use boardcast::boards::ziprecruiter::{ID, operations, render};
use boardcast::boards::{ErrorClass, Receipt};
use boardcast::intake::message::{Job, primary_language};
use boardcast::plan::posting_reference;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Golden requests.

#[test]
fn golden_requests() {
    let settings = settings();
    let languages = &settings.board(ID).expect("[boards.ziprecruiter]").languages;
    let mut compared = 0;
    let mut refused = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let posting = context(&job, ad, &reference, locale);
            let name = format!("{stem}.publish.{locale}.json");
            let served: Vec<&str> = job.locations.iter().map(|l| l.country.as_str()).collect();
            if !served.iter().any(|c| ["US", "CA", "AU"].contains(c)) {
                let mut countries: Vec<&str> = Vec::new();
                for country in served {
                    if !countries.contains(&country) {
                        countries.push(country);
                    }
                }
                let error = render(&posting).expect_err(&format!("{stem}.{locale} is refused"));
                assert_eq!(error.class, ErrorClass::Rejected);
                assert_eq!(
                    error.message,
                    format!(
                        "ZipRecruiter publishes jobs in US, CA, AU; this job is in {}",
                        countries.join(", ")
                    )
                );
                refused += 1;
                continue;
            }
            let request = render(&posting).unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            let rendered = serde_json::to_string_pretty(&request).unwrap() + "\n";
            crate::support::golden(ID, &name, &rendered);
            compared += 1;
            if compared == 1 {
                // Every other operation, once: method, path and body.
                for (operation, method, path, body) in
                    operations(&request, &reference).into_iter().skip(1)
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
    assert!(compared >= 1, "no sample renders for ZipRecruiter");
    assert!(refused >= 1, "no sample is outside US/CA/AU");
}

#[test]
fn jobs_outside_us_ca_au_are_refused_by_name() {
    let (_, job) = sample("account-executive");
    let reference = "bcoutside";
    let error = render(&context(&job, &job.ads["en"], reference, "en")).unwrap_err();
    assert_eq!(
        error.message,
        "ZipRecruiter publishes jobs in US, CA, AU; this job is in ES, DE, FR, GR, PT, IE"
    );
}

#[test]
fn the_first_served_location_is_the_one_sent() {
    let (_, mut job) = sample("account-manager");
    let mut madrid = job.locations[0].clone();
    madrid.city = "Madrid".into();
    madrid.country = "ES".into();
    let mut toronto = job.locations[0].clone();
    toronto.city = "Toronto".into();
    toronto.region = Some("ON".into());
    toronto.country = "CA".into();
    job.locations = vec![madrid, toronto, job.locations[0].clone()];
    let request = render(&context(&job, &job.ads["en"], "bcfirst", "en")).unwrap();
    assert_eq!(
        (request.city.as_str(), request.country.as_str()),
        ("Toronto", "CA")
    );
}

// ---------------------------------------------------------------------------
// Against the twin.

async fn twin() -> BoardTwin {
    BoardTwin::start(ID).await
}

fn contoso() -> (Job, String) {
    let (tenant, job) = sample("account-manager");
    let reference = posting_reference(&tenant, &job.id, "en");
    (job, reference)
}

#[tokio::test]
async fn publish_update_withdraw() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let ad = &job.ads["en"];

    let receipt = twin
        .publish(&context(&job, ad, &reference, "en"))
        .await
        .unwrap();
    let Receipt::Live { external_id, url } = receipt else {
        panic!("publish answered {receipt:?}");
    };
    let held = twin.only();
    assert_eq!(external_id, held.external_id);
    assert_eq!(held.reference, reference);
    assert_eq!(url.as_deref(), Some(held.url.as_str()));
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));
    assert_eq!(held.content["city"], "Boston");
    assert_eq!(held.content["state"], "MA");

    let mut revised = job.clone();
    revised.revision = 2;
    revised.ads.get_mut("en").unwrap().title = "Senior Account Manager".into();
    let mut posting = context(&revised, &revised.ads["en"], &reference, "en");
    posting.external_id = Some(&external_id);
    posting.live_at_board = true;
    let receipt = twin.update(&posting).await.unwrap();
    assert!(matches!(receipt, Receipt::Live { .. }), "{receipt:?}");
    let held = twin.only();
    assert_eq!(held.title, "Senior Account Manager");
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 0));

    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let held = twin.only();
    assert!(!held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 1));

    // Withdrawing again, or what the board never had, is done already.
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let never = context(&job, ad, "bcneverpublished", "en");
    assert_eq!(twin.withdraw(&never).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.only().withdrawals, 1);

    // An update after a withdrawal puts the one copy back online.
    posting.live_at_board = false;
    assert!(matches!(
        twin.update(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 2, 1));
}

#[tokio::test]
async fn an_update_the_board_never_saw_creates_it() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let mut posting = context(&job, &job.ads["en"], &reference, "en");
    posting.external_id = Some(&reference);
    assert!(matches!(
        twin.update(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 0));
}

#[tokio::test]
async fn a_publish_that_may_have_landed_updates_the_copy() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let ad = &job.ads["en"];
    twin.publish(&context(&job, ad, &reference, "en"))
        .await
        .unwrap();

    // The answer was lost: the re-send looks the job up and updates it.
    let mut again = context(&job, ad, &reference, "en");
    again.may_exist = true;
    let receipt = twin.publish(&again).await.unwrap();
    assert!(matches!(receipt, Receipt::Live { .. }), "{receipt:?}");
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates), (1, 1));

    // Even without the hint, "job_id exists" turns the create into an update.
    let plain = context(&job, ad, &reference, "en");
    assert!(matches!(
        twin.publish(&plain).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 2));

    // And a may-exist publish of a job the board never got creates it once.
    let fresh_reference = "bcfresh";
    let mut fresh = context(&job, ad, fresh_reference, "en");
    fresh.may_exist = true;
    twin.publish(&fresh).await.unwrap();
    let held = twin.held();
    let created = held
        .iter()
        .find(|p| p.reference == fresh_reference)
        .expect("created");
    assert_eq!((created.creates, created.updates), (1, 0));
}

#[tokio::test]
async fn the_adapter_refuses_what_breaks_a_rule_before_sending() {
    let twin = twin().await;
    let (mut job, reference) = contoso();

    // Title limit.
    job.ads.get_mut("en").unwrap().title = "A".repeat(101);
    let error = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &["title is 101 characters; ZipRecruiter allows 100"],
    );
    assert_eq!(error.http_status, None);

    // English only.
    let (job, _) = contoso();
    let error = twin
        .publish(&context(&job, &job.ads["es"], &reference, "es"))
        .await
        .unwrap_err();
    assert_rejected(&error, &["ZipRecruiter takes ads in en; this one is in es"]);

    // US, CA, AU only.
    let (_, outside) = sample("sales-account-executive");
    let error = twin
        .publish(&context(&outside, &outside.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &["ZipRecruiter publishes jobs in US, CA, AU; this job is in PT"],
    );

    assert_eq!(twin.requests(), 0, "nothing was sent");
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn the_twin_refuses_what_only_the_board_checks() {
    let twin = twin().await;
    let (mut job, reference) = contoso();
    job.locations[0].region = None;
    let error = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &["422", "state", "is required for jobs in US and CA"],
    );
    assert_eq!(error.http_status, Some(422));
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn the_twin_checks_its_rules_on_its_own() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let mut body =
        serde_json::to_value(render(&context(&job, &job.ads["en"], &reference, "en")).unwrap())
            .unwrap();
    body["title"] = json!("A".repeat(101));
    body["country"] = json!("ES");
    body["job_type"] = json!("gig");
    let client = reqwest::Client::new();
    let url = twin.board_url(&format!("/partner/v0/job/{reference}"));
    let key = twin.credential("api_key").to_owned();

    let response = client
        .post(&url)
        .basic_auth(&key, None::<&str>)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"], "validation_failed");
    let fields: Vec<&str> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "country", "job_type"]);

    let response = client
        .post(&url)
        .basic_auth(&key, None::<&str>)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"], "bad_request");
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn transient_ambiguous_and_throttled_answers() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["en"], &reference, "en");

    twin.assert_transient_signals(&posting).await;

    // The faults changed nothing; healed, the board takes it once.
    assert!(twin.held().is_empty());
    twin.publish(&posting).await.unwrap();
    assert_eq!(twin.only().creates, 1);
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_failure() {
    let twin = BoardTwin::start_with(ID, &[("api_key", "not-the-key")]).await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["en"], &reference, "en");
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert_eq!(error.http_status, Some(401));
    let error = twin.withdraw(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert!(twin.held().is_empty());
}

/// The Job API's country codes are the US, Canada and Australia: a job in
/// Great Britain is refused by name (it was sent before issue 13), one in
/// Australia goes out.
#[test]
fn the_job_api_takes_us_ca_and_au_jobs() {
    let (_, mut job) = sample("account-manager");
    let mut london = job.locations[0].clone();
    london.city = "London".into();
    london.region = None;
    london.country = "GB".into();
    job.locations = vec![london];
    let error = render(&context(&job, &job.ads["en"], "bcgb", "en")).unwrap_err();
    assert_eq!(
        error.message,
        "ZipRecruiter publishes jobs in US, CA, AU; this job is in GB"
    );
    job.locations[0].city = "Sydney".into();
    job.locations[0].region = Some("NSW".into());
    job.locations[0].country = "AU".into();
    let request = render(&context(&job, &job.ads["en"], "bcau", "en")).unwrap();
    assert_eq!(request.country, "AU");
}

/// A 404 on closing counts as "gone" only once reading the job agrees.
#[tokio::test]
async fn a_404_on_withdraw_is_gone_only_when_the_board_agrees() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["en"], &reference, "en");
    twin.publish(&posting).await.unwrap();
    // One 404 from the DELETE while the job is still open: not "gone".
    twin.faults(boardcast::sandbox::Faults {
        fail_times: 1,
        fail_status: 404,
        ..Default::default()
    });
    let error = twin.withdraw(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Transient, "{error:?}");
    assert!(twin.only().live);
    // Closed for real, a 404 is "gone".
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    assert!(!twin.only().live);
}
