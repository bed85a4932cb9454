//! Welcome to the Jungle: the adapter's pure render against golden files,
//! and the adapter against its sandbox twin over real HTTP.

use crate::support::{BoardTwin, assert_rejected, context, publish_samples, sample, settings};
use boardcast::boards::welcome_to_the_jungle::{Account, ID, JOBS_PATH, operations, render};
use boardcast::boards::{CallLog, Receipt};
use boardcast::intake::message::{EmploymentType, Job, PayPeriod, Salary, primary_language};
use boardcast::plan::posting_reference;
use secrecy::SecretString;
use serde_json::{Value, json};

/// The account from `config/default.toml`, as the adapter reads it.
fn account() -> Account {
    let settings = settings();
    let options = &settings
        .board(ID)
        .expect("[boards.welcome_to_the_jungle]")
        .options;
    Account {
        organization_reference: options["organization_reference"].clone(),
        cms_sites_references: options["cms_sites_references"].clone(),
        company_description: options.get("company_description").cloned(),
        profession_reference: options.get("profession_reference").cloned(),
    }
}

// ---------------------------------------------------------------------------
// Golden requests.

#[test]
fn golden_requests() {
    let settings = settings();
    let languages = &settings
        .board(ID)
        .expect("[boards.welcome_to_the_jungle]")
        .languages;
    let account = account();
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let posting = context(&job, ad, &reference, locale);
            let request =
                render(&posting, &account).unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            let rendered = serde_json::to_string_pretty(&request).unwrap() + "\n";
            crate::support::golden(ID, &format!("{stem}.publish.{locale}.json"), &rendered);
            compared += 1;
            if compared == 1 {
                // Every other operation, once: method, path and body.
                for (operation, method, path, body) in
                    operations(&request, "WTTJ_0000001").into_iter().skip(1)
                {
                    let text = serde_json::to_string_pretty(
                        &json!({"method": method, "path": path, "body": body}),
                    )
                    .unwrap()
                        + "\n";
                    crate::support::golden(ID, &format!("{stem}.{operation}.{locale}.json"), &text);
                }
            }
        }
    }
    assert!(compared >= 1, "no sample renders for Welcome to the Jungle");
}

#[test]
fn salaries_are_integers_in_a_documented_period() {
    let (tenant, mut job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "fr");
    let render_job =
        |job: &Job| render(&context(job, &job.ads["fr"], &reference, "fr"), &account());
    job.salary = Some(Salary {
        currency: "EUR".into(),
        min: 3_000.4,
        max: 3_499.6,
        period: PayPeriod::Month,
    });
    let body = serde_json::to_value(render_job(&job).unwrap()).unwrap();
    assert_eq!(body["salary_min"], json!(3_000));
    assert_eq!(body["salary_max"], json!(3_500));
    assert!(body["salary_min"].is_i64(), "an integer, not 3000.0");
    assert_eq!(body["salary_period"], "monthly");
    job.salary.as_mut().unwrap().period = PayPeriod::Week;
    let body = serde_json::to_value(render_job(&job).unwrap()).unwrap();
    assert_eq!(
        (body["salary_min"].clone(), body["salary_period"].clone()),
        (json!(156_021), json!("yearly"))
    );
    job.salary.as_mut().unwrap().period = PayPeriod::Hour;
    assert_rejected(
        &render_job(&job).unwrap_err(),
        &["takes yearly, monthly or daily salaries; this one is per hour"],
    );
}

#[test]
fn the_sites_profession_and_office_are_sent() {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "fr");
    let request = render(&context(&job, &job.ads["fr"], &reference, "fr"), &account()).unwrap();
    assert_eq!(request.cms_sites_references, "wttj_fr");
    assert_eq!(request.profession_reference, "sales");
    assert_eq!(request.office_city, job.locations[0].city);
    assert_eq!(request.office_country_code, job.locations[0].country);
    assert_eq!(request.company_description, job.company.name);
    let mut other = job.clone();
    other.employment_type = EmploymentType::Volunteer;
    assert_rejected(
        &render(
            &context(&other, &other.ads["fr"], &reference, "fr"),
            &account(),
        )
        .unwrap_err(),
        &["has no contract type for employment type volunteer"],
    );
    other.employment_type = EmploymentType::FullTime;
    other.category = None;
    assert_rejected(
        &render(
            &context(&other, &other.ads["fr"], &reference, "fr"),
            &account(),
        )
        .unwrap_err(),
        &["requires a profession_reference"],
    );
}

// ---------------------------------------------------------------------------
// Against the twin.

async fn twin() -> BoardTwin {
    BoardTwin::start(ID).await
}

fn posting_of(job: &Job, tenant: &str) -> String {
    posting_reference(tenant, &job.id, "fr")
}

#[tokio::test]
async fn publish_update_withdraw() {
    let twin = twin().await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_of(&job, &tenant);
    let ad = &job.ads["fr"];

    let receipt = twin
        .publish(&context(&job, ad, &reference, "fr"))
        .await
        .unwrap();
    let Receipt::Live { external_id, url } = receipt else {
        panic!("publish answered {receipt:?}");
    };
    // The answer is the job object, its `reference` and no public URL;
    // the URL is the site's, read with `websites=true`.
    assert!(external_id.starts_with("WTTJ_"), "{external_id}");
    assert!(
        url.as_deref()
            .is_some_and(|u| u.starts_with("https://www.welcometothejungle.com/")),
        "{url:?}"
    );
    let held = twin.only();
    assert!(held.live, "published on wttj_fr");
    assert_eq!(held.reference, reference);

    let mut revised = job.clone();
    revised.ads.get_mut("fr").unwrap().title = "Chargé de comptes senior".into();
    let mut posting = context(&revised, &revised.ads["fr"], &reference, "fr");
    posting.external_id = Some(&external_id);
    posting.live_at_board = true;
    assert!(matches!(
        twin.update(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!(held.title, "Chargé de comptes senior");
    assert!(held.live);

    // Archived through `…/:reference/update_status`: really taken down.
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let held = twin.only();
    assert!(!held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 1));

    // An update after a withdrawal publishes the one copy again.
    posting.live_at_board = false;
    twin.update(&posting).await.unwrap();
    assert!(twin.only().live);
    assert_eq!(twin.live_copies(&reference), 1);
}

/// Today's `/status` path does not exist at Welcome Kit: the twin answers
/// 404 there, as the board would, and only `update_status` archives.
#[tokio::test]
async fn the_status_endpoint_is_update_status() {
    let twin = twin().await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_of(&job, &tenant);
    let Receipt::Live { external_id, .. } = twin
        .publish(&context(&job, &job.ads["fr"], &reference, "fr"))
        .await
        .unwrap()
    else {
        panic!()
    };
    let client = reqwest::Client::new();
    let base = twin.board_url(&format!("/{JOBS_PATH}/{external_id}"));
    let old = client
        .put(format!("{base}/status"))
        .bearer_auth(twin.credential("api_key"))
        .json(&json!({"status": "archived"}))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);
    assert!(twin.only().live);
    let new = client
        .put(format!("{base}/update_status"))
        .bearer_auth(twin.credential("api_key"))
        .json(&json!({"status": "archived"}))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);
    let body: Value = new.json().await.unwrap();
    assert_eq!(body["status"], "archived");
    assert!(body.get("public_url").is_none());
    assert!(!twin.only().live);
}

/// A 404 on archiving counts as "gone" only once the lookup agrees: with a
/// stale reference the open copy is found by our external reference and
/// archived.
#[tokio::test]
async fn a_404_on_withdraw_is_gone_only_when_the_lookup_agrees() {
    let twin = twin().await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_of(&job, &tenant);
    let ad = &job.ads["fr"];
    twin.publish(&context(&job, ad, &reference, "fr"))
        .await
        .unwrap();
    let mut stale = context(&job, ad, &reference, "fr");
    stale.external_id = Some("WTTJ_9999999");
    stale.live_at_board = true;
    assert_eq!(twin.withdraw(&stale).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(
        twin.live_copies(&reference),
        0,
        "the open copy was archived"
    );

    // Nothing open left: the 404 is "gone".
    assert_eq!(twin.withdraw(&stale).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.only().withdrawals, 1);
}

/// Without `cms_sites_references` a published job shows on no site.
#[tokio::test]
async fn a_published_job_shows_only_on_its_sites() {
    let twin = twin().await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_of(&job, &tenant);
    let mut request = render(&context(&job, &job.ads["fr"], &reference, "fr"), &account()).unwrap();
    request.cms_sites_references = String::new();
    let response = reqwest::Client::new()
        .post(twin.board_url(&format!("/{JOBS_PATH}")))
        .bearer_auth(twin.credential("api_key"))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert!(!twin.only().live, "published, but on no site");

    // The adapter always names the account's sites.
    let twin = self::twin().await;
    twin.publish(&context(&job, &job.ads["fr"], &reference, "fr"))
        .await
        .unwrap();
    assert!(twin.only().live);
    assert_eq!(twin.only().content["cms_sites_references"], "wttj_fr");
}

#[tokio::test]
async fn the_twin_checks_documented_fields_on_its_own() {
    let twin = twin().await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_of(&job, &tenant);
    let request = render(&context(&job, &job.ads["fr"], &reference, "fr"), &account()).unwrap();
    let mut body = serde_json::to_value(&request).unwrap();
    body["salary_min"] = json!(30000.5);
    body["salary_period"] = json!("hourly");
    body["contract_type"] = json!("VOLUNTEER");
    body.as_object_mut().unwrap().remove("profession_reference");
    body.as_object_mut().unwrap().remove("company_description");
    let response = reqwest::Client::new()
        .post(twin.board_url(&format!("/{JOBS_PATH}")))
        .bearer_auth(twin.credential("api_key"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    let fields: Vec<&str> = answer["errors"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "company_description",
            "contract_type",
            "profession_reference",
            "salary_min",
            "salary_period"
        ]
    );
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn a_publish_that_may_have_landed_makes_no_second_copy() {
    let twin = twin().await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_of(&job, &tenant);
    let ad = &job.ads["fr"];
    twin.publish(&context(&job, ad, &reference, "fr"))
        .await
        .unwrap();
    let mut again = context(&job, ad, &reference, "fr");
    again.may_exist = true;
    assert!(matches!(
        twin.publish(&again).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 1));
    assert_eq!(twin.live_copies(&reference), 1);
}

#[tokio::test]
async fn transient_ambiguous_and_throttled_answers() {
    let twin = twin().await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_of(&job, &tenant);
    let posting = context(&job, &job.ads["fr"], &reference, "fr");
    twin.assert_transient_signals(&posting).await;
    assert!(twin.held().is_empty());
    twin.publish(&posting).await.unwrap();
    assert_eq!(twin.only().creates, 1);
}

/// The sites are the account's: a tenant's own account names its own.
#[tokio::test]
async fn the_sites_are_configured_per_account() {
    let twin = twin().await;
    let mut settings = settings();
    let board = settings.boards.get_mut("welcome_to_the_jungle").unwrap();
    board.base_url = format!("{}/{ID}", twin.url);
    board
        .options
        .insert("cms_sites_references".into(), "wttj_fr,smgo_fr".into());
    for (name, value) in twin.sandbox.credentials()[ID].clone() {
        board.credentials.insert(name, SecretString::from(value));
    }
    let adapter = boardcast::boards::build_one(&settings, ID).unwrap();
    let (tenant, job) = sample("account-executive");
    let reference = posting_of(&job, &tenant);
    adapter
        .publish(
            &context(&job, &job.ads["fr"], &reference, "fr"),
            &mut CallLog::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        twin.only().content["cms_sites_references"],
        "wttj_fr,smgo_fr"
    );

    board_without_sites_is_refused_at_build(&settings);
}

fn board_without_sites_is_refused_at_build(settings: &boardcast::config::Settings) {
    let mut settings = settings.clone();
    settings
        .boards
        .get_mut("welcome_to_the_jungle")
        .unwrap()
        .options
        .remove("cms_sites_references");
    let error = boardcast::boards::build_one(&settings, ID)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("cms_sites_references"), "{error}");
}
