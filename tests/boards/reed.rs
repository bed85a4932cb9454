//! Reed: the adapter's pure render against golden files, the request
//! signature against a vector computed outside this code base, and the
//! adapter against its sandbox twin over real HTTP. No database or broker.

use crate::support::{BoardTwin, assert_rejected, context, publish_samples, sample, settings};
use base64::Engine;
use boardcast::boards::reed::{Account, ID, JOBS_PATH, JobRequest, operations, render, signature};
use boardcast::boards::{Board, CallLog, ErrorClass, Receipt};
use boardcast::intake::message::{EmploymentType, Job, Location, PayPeriod, Salary};
use boardcast::plan::posting_reference;
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use serde_json::{Value, json};
use sha1::Sha1;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

/// The clock the golden requests are rendered at (it only moves `expiryInDays`).
const GOLDEN_NOW: OffsetDateTime = datetime!(2026-12-20 09:00:00 UTC);

/// The account from `config/default.toml`, as the adapter reads it.
fn account() -> Account {
    let settings = settings();
    let options = &settings.board(ID).expect("[boards.reed]").options;
    Account {
        username: options["username"].clone(),
        product_id: None,
        is_demo: options.get("is_demo").is_some_and(|d| d == "true"),
    }
}

/// The job moved to London, with its salary (if any) in pounds: none of the
/// samples is in Great Britain, so this is how a sample reaches Reed.
fn in_london(job: &Job) -> Job {
    let mut job = job.clone();
    job.locations = vec![Location {
        city: "London".into(),
        region: Some("Greater London".into()),
        country: "GB".into(),
        postal_code: Some("EC1A 1BB".into()),
    }];
    if let Some(salary) = &mut job.salary {
        salary.currency = "GBP".into();
    }
    job
}

fn countries(job: &Job) -> String {
    let mut countries: Vec<&str> = Vec::new();
    for location in &job.locations {
        if !countries.contains(&location.country.as_str()) {
            countries.push(&location.country);
        }
    }
    countries.join(", ")
}

// ---------------------------------------------------------------------------
// Golden requests.

#[test]
fn golden_requests() {
    let settings = settings();
    let board = settings.board(ID).expect("[boards.reed]");
    assert_eq!(board.languages, ["en"]);
    assert_eq!(board.countries, ["GB"]);
    let account = account();
    let mut compared = 0;
    let mut refused = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            let reference = posting_reference(&tenant, &job.id, locale);
            if locale != "en" {
                // Reed is English only; the dispatcher never sends these.
                let error = render(&context(&job, ad, &reference, locale), &account, GOLDEN_NOW)
                    .expect_err("not English");
                assert_eq!(
                    error.message,
                    format!("Reed takes ads in en; this one is in {locale}")
                );
                continue;
            }
            // The samples themselves are outside Great Britain: refused by name.
            if !job.locations.iter().any(|l| l.country == "GB") {
                let error = render(&context(&job, ad, &reference, locale), &account, GOLDEN_NOW)
                    .expect_err(&format!("{stem}.{locale} is outside GB"));
                assert_eq!(error.class, ErrorClass::Rejected);
                assert_eq!(
                    error.message,
                    format!(
                        "Reed publishes jobs in GB only; this job is in {}",
                        countries(&job)
                    )
                );
                refused += 1;
            }
            // The same ad in London is what the golden file holds
            // (`<stem>-gb.publish.en.json`): no sample qualifies as it is.
            let british = in_london(&job);
            let posting = context(&british, &british.ads[locale], &reference, locale);
            let request = render(&posting, &account, GOLDEN_NOW)
                .unwrap_or_else(|e| panic!("{stem}-gb.{locale}: {e}"));
            let rendered = serde_json::to_string_pretty(&request).unwrap() + "\n";
            crate::support::golden(ID, &format!("{stem}-gb.publish.{locale}.json"), &rendered);
            compared += 1;
            if stem == "account-manager" {
                // Every other operation, once: method, path and body.
                let others = operations(&request, &account, "50000001");
                for (operation, method, path, body) in others.into_iter().skip(1) {
                    let text = serde_json::to_string_pretty(
                        &json!({"method": method, "path": path, "body": body}),
                    )
                    .unwrap()
                        + "\n";
                    crate::support::golden(
                        ID,
                        &format!("{stem}-gb.{operation}.{locale}.json"),
                        &text,
                    );
                }
            }
        }
    }
    assert!(compared >= 1, "no sample renders for Reed");
    assert!(refused >= 1, "no sample is outside GB");
}

#[test]
fn the_first_british_location_is_sent_by_postcode_or_town() {
    let (_, job) = sample("account-manager");
    let mut job = in_london(&job);
    let mut leeds = job.locations[0].clone();
    leeds.city = "Leeds".into();
    leeds.postal_code = None;
    let mut boston = job.locations[0].clone();
    boston.city = "Boston".into();
    boston.country = "US".into();
    job.locations = vec![boston, leeds, job.locations[0].clone()];
    let request = render(
        &context(&job, &job.ads["en"], "bcfirst", "en"),
        &account(),
        GOLDEN_NOW,
    )
    .unwrap();
    assert_eq!(request.town_name, "Leeds");
    job.locations.remove(1);
    let request = render(
        &context(&job, &job.ads["en"], "bcfirst", "en"),
        &account(),
        GOLDEN_NOW,
    )
    .unwrap();
    assert_eq!(request.town_name, "EC1A 1BB");
}

#[test]
fn expiry_counts_the_days_left_up_to_42() {
    let (_, job) = sample("account-manager");
    let mut job = in_london(&job);
    let days = |job: &Job| {
        render(
            &context(job, &job.ads["en"], "bcexpiry", "en"),
            &account(),
            GOLDEN_NOW,
        )
        .map(|r| r.expiry_in_days)
    };
    job.valid_through = Some(GOLDEN_NOW + time::Duration::hours(10 * 24 + 12));
    assert_eq!(days(&job).unwrap(), Some(11));
    job.valid_through = Some(GOLDEN_NOW + time::Duration::days(42));
    assert_eq!(days(&job).unwrap(), Some(42));
    job.valid_through = Some(GOLDEN_NOW + time::Duration::days(100));
    assert_eq!(days(&job).unwrap(), Some(42));
    job.valid_through = None;
    assert_eq!(days(&job).unwrap(), None);
    job.valid_through = Some(GOLDEN_NOW - time::Duration::minutes(1));
    assert_eq!(
        days(&job).unwrap_err().message,
        "valid_through 2026-12-20 has passed; Reed needs expiryInDays of 1 to 42"
    );
}

#[test]
fn job_types_hours_and_salaries_map_to_reeds_codes() {
    let (_, job) = sample("account-manager");
    let mut job = in_london(&job);
    let render_job = |job: &Job| {
        render(
            &context(job, &job.ads["en"], "bcmap", "en"),
            &account(),
            GOLDEN_NOW,
        )
    };
    for (kind, codes) in [
        (EmploymentType::FullTime, (1, 1)),
        (EmploymentType::PartTime, (1, 2)),
        (EmploymentType::Contract, (2, 1)),
        (EmploymentType::Temporary, (4, 1)),
        (EmploymentType::Internship, (4, 1)),
    ] {
        job.employment_type = kind;
        let request = render_job(&job).unwrap();
        assert_eq!((request.job_type, request.working_hours), codes, "{kind:?}");
    }
    job.employment_type = EmploymentType::Volunteer;
    assert_eq!(
        render_job(&job).unwrap_err().message,
        "Reed takes permanent, contract and temporary jobs; employment type volunteer has no Reed jobType"
    );

    job.employment_type = EmploymentType::FullTime;
    job.salary = Some(Salary {
        currency: "GBP".into(),
        min: 3_000.0,
        max: 3_500.0,
        period: PayPeriod::Month,
    });
    // Reed's codes: 5 per annum, 2 per day, 1 per hour; 1 is pounds.
    let request = render_job(&job).unwrap();
    assert_eq!(
        (
            request.min_salary,
            request.max_salary,
            request.salary_type,
            request.currency
        ),
        (Some(36_000.0), Some(42_000.0), Some(5), Some(1))
    );
    job.salary.as_mut().unwrap().period = PayPeriod::Year;
    assert_eq!(render_job(&job).unwrap().salary_type, Some(5));
    job.salary.as_mut().unwrap().period = PayPeriod::Day;
    assert_eq!(render_job(&job).unwrap().salary_type, Some(2));
    job.salary.as_mut().unwrap().period = PayPeriod::Hour;
    assert_eq!(render_job(&job).unwrap().salary_type, Some(1));
    let body = serde_json::to_value(render_job(&job).unwrap()).unwrap();
    assert_eq!(body["minSalary"], 3_000.0);
    assert_eq!(body["maxSalary"], 3_500.0);
    assert!(body.get("minimumSalary").is_none());
    job.salary.as_mut().unwrap().currency = "EUR".into();
    assert_eq!(
        render_job(&job).unwrap_err().message,
        "Reed takes salaries in GBP; this one is in EUR"
    );
}

// ---------------------------------------------------------------------------
// The signature.

/// Computed outside this code base, with OpenSSL:
/// `printf 'POSTboardcast/0.1.0https://www.reed.co.uk/recruiter/api/1.0/jobswww.reed.co.uk2026-11-23T09:30:00Z'
///  | openssl dgst -sha1 -hmac '7f3c2a9e-1b4d-4e8f-9a6c-0d5e2b7f1a3c' -binary | base64`
/// (Python's `hmac` module gives the same).
#[test]
fn the_signature_matches_a_known_vector() {
    assert_eq!(
        signature(
            "7f3c2a9e-1b4d-4e8f-9a6c-0d5e2b7f1a3c",
            "POST",
            "boardcast/0.1.0",
            "https://www.reed.co.uk/recruiter/api/1.0/jobs",
            "www.reed.co.uk",
            "2026-11-23T09:30:00Z",
        ),
        "LAeNRhzudJPzD8ceUCr/ZIkr83k="
    );
}

/// A request signed here, with the HMAC crates directly (not the adapter's code).
struct Signer<'a> {
    twin: &'a BoardTwin,
    api_key: String,
    user_agent: &'static str,
    signed_user_agent: &'static str,
    at: OffsetDateTime,
}

impl<'a> Signer<'a> {
    fn new(twin: &'a BoardTwin) -> Self {
        Self {
            twin,
            api_key: twin.credential("api_key").to_owned(),
            user_agent: "reed-test/1",
            signed_user_agent: "reed-test/1",
            at: OffsetDateTime::now_utc(),
        }
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let timestamp = self
            .at
            .replace_nanosecond(0)
            .unwrap()
            .format(&Rfc3339)
            .unwrap();
        let mut mac = Hmac::<Sha1>::new_from_slice(self.api_key.as_bytes()).unwrap();
        let text = format!(
            "{}{}{url}www.reed.co.uk{timestamp}",
            method.as_str(),
            self.signed_user_agent
        );
        mac.update(text.as_bytes());
        let signed = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        reqwest::Client::new()
            .request(method, url)
            .header("user-agent", self.user_agent)
            .header("X-ApiClientId", self.twin.credential("client_id"))
            .header("X-ApiSignature", signed)
            .header("X-Timestamp", timestamp)
    }
}

fn jobs_url(twin: &BoardTwin) -> String {
    twin.board_url(&format!("/{JOBS_PATH}"))
}

fn lookup_url(twin: &BoardTwin) -> String {
    format!(
        "{}?username=recruiter%40boardcast.example&postingKey={}",
        jobs_url(twin),
        twin.credential("posting_key")
    )
}

async fn status_and_body(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_twin_recomputes_every_signature() {
    let twin = twin().await;
    let url = lookup_url(&twin);
    let signer = Signer::new(&twin);

    let (status, body) = status_and_body(signer.request(reqwest::Method::GET, &url)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!([]));

    // Six minutes old, or six ahead.
    for minutes in [-6, 6] {
        let stale = Signer {
            at: OffsetDateTime::now_utc() + time::Duration::minutes(minutes),
            ..Signer::new(&twin)
        };
        let (status, body) = status_and_body(stale.request(reqwest::Method::GET, &url)).await;
        assert_eq!(status, 401);
        assert!(
            body["message"].as_str().unwrap().contains("5 minutes"),
            "{body}"
        );
    }
    // Four minutes off is within the window.
    let late = Signer {
        at: OffsetDateTime::now_utc() - time::Duration::minutes(4),
        ..Signer::new(&twin)
    };
    assert_eq!(
        status_and_body(late.request(reqwest::Method::GET, &url))
            .await
            .0,
        200
    );

    // Another key, another User-Agent than the one signed, another method.
    let wrong_key = Signer {
        api_key: "not-the-key".into(),
        ..Signer::new(&twin)
    };
    assert_eq!(
        status_and_body(wrong_key.request(reqwest::Method::GET, &url))
            .await
            .0,
        401
    );
    let other_agent = Signer {
        signed_user_agent: "someone-else/2",
        ..Signer::new(&twin)
    };
    assert_eq!(
        status_and_body(other_agent.request(reqwest::Method::GET, &url))
            .await
            .0,
        401
    );
    // The URL is signed too: a changed query fails.
    let request = signer.request(reqwest::Method::GET, &url);
    let tampered = request
        .build()
        .map(|mut r| {
            r.url_mut().query_pairs_mut().append_pair("ownerRef", "x");
            r
        })
        .unwrap();
    let response = reqwest::Client::new().execute(tampered).await.unwrap();
    assert_eq!(response.status(), 401);

    // A missing header.
    let response = reqwest::Client::new()
        .get(&url)
        .header("X-ApiClientId", twin.credential("client_id"))
        .header("X-Timestamp", "2026-11-23T09:30:00Z")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // Refused requests never reached the board's counter.
    assert_eq!(twin.requests(), 2);
}

// ---------------------------------------------------------------------------
// Against the twin.

async fn twin() -> BoardTwin {
    BoardTwin::start(ID).await
}

/// A job in London whose validity does not depend on the day the test runs.
fn london() -> (Job, String) {
    let (tenant, job) = sample("account-manager");
    let mut job = in_london(&job);
    job.valid_through = Some(OffsetDateTime::now_utc() + time::Duration::days(30));
    let reference = posting_reference(&tenant, &job.id, "en");
    (job, reference)
}

#[tokio::test]
async fn publish_update_withdraw() {
    let twin = twin().await;
    let (job, reference) = london();
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
    assert_eq!(held.content["ownerRef"], reference.as_str());
    // Reed's answer carries the job id only.
    assert_eq!(url, None);
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));
    assert_eq!(held.content["townName"], "EC1A 1BB");
    assert_eq!(held.content["expiryInDays"], 30);
    assert_eq!(held.content["isDemo"], false);
    assert_eq!(held.content["username"], "recruiter@boardcast.example");
    assert!(held.content.get("postingKey").is_none());

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
    // isDemo is for creates only.
    assert!(held.content.get("isDemo").is_none());

    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let held = twin.only();
    assert!(!held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 1));

    // Withdrawing again, or what the board never had, is done already.
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let never = context(&job, ad, "bcneverpublished", "en");
    assert_eq!(twin.withdraw(&never).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.only().withdrawals, 1);

    // An update after a withdrawal relists the one copy, then edits it.
    posting.live_at_board = false;
    assert_eq!(
        twin.update(&posting).await.unwrap(),
        Receipt::Live {
            external_id: external_id.clone(),
            url: None,
        }
    );
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 2, 1));
}

#[tokio::test]
async fn updates_and_withdrawals_find_the_job_by_our_reference() {
    let twin = twin().await;
    let (job, reference) = london();
    let ad = &job.ads["en"];
    twin.publish(&context(&job, ad, &reference, "en"))
        .await
        .unwrap();

    // The board's id was never recorded: the reference finds it.
    let posting = context(&job, ad, &reference, "en");
    assert!(matches!(
        twin.update(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    assert_eq!((twin.only().creates, twin.only().updates), (1, 1));
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    assert!(!twin.only().live);

    // An update of a job the board never saw creates it.
    let fresh = context(&job, ad, "bcneverseen", "en");
    assert!(matches!(
        twin.update(&fresh).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.held();
    let created = held.iter().find(|p| p.reference == "bcneverseen").unwrap();
    assert_eq!((created.creates, created.updates), (1, 0));

    // A board id Reed does not know: the edit's 404 turns into a create.
    let mut stale = context(&job, ad, "bcstaleid", "en");
    stale.external_id = Some("49999999");
    assert!(matches!(
        twin.update(&stale).await.unwrap(),
        Receipt::Live { .. }
    ));
    assert_eq!(twin.live_copies("bcstaleid"), 1);
}

#[tokio::test]
async fn a_publish_that_may_have_landed_makes_no_second_copy() {
    let twin = twin().await;
    let (job, reference) = london();
    let ad = &job.ads["en"];
    twin.publish(&context(&job, ad, &reference, "en"))
        .await
        .unwrap();

    // The answer was lost: the re-send looks the job up and edits it.
    let mut again = context(&job, ad, &reference, "en");
    again.may_exist = true;
    let receipt = twin.publish(&again).await.unwrap();
    assert!(matches!(receipt, Receipt::Live { .. }), "{receipt:?}");
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates), (1, 1));

    // Without the hint Reed would take a second copy: it does not deduplicate.
    twin.publish(&context(&job, ad, &reference, "en"))
        .await
        .unwrap();
    assert_eq!(twin.live_copies(&reference), 2);

    // A may-exist publish of a job the board never got creates it once.
    let mut fresh = context(&job, ad, "bcfresh", "en");
    fresh.may_exist = true;
    twin.publish(&fresh).await.unwrap();
    let held = twin.held();
    let created = held.iter().find(|p| p.reference == "bcfresh").unwrap();
    assert_eq!((created.creates, created.updates), (1, 0));
}

#[tokio::test]
async fn the_adapter_refuses_what_breaks_a_rule_before_sending() {
    let twin = twin().await;
    let (job, reference) = london();
    let refused = |change: &dyn Fn(&mut Job)| {
        let mut job = job.clone();
        change(&mut job);
        job
    };
    let cases: Vec<(Job, &str, &str)> = vec![
        (
            refused(&|j: &mut Job| j.ads.get_mut("en").unwrap().title = "A".repeat(256)),
            "en",
            "title is 256 characters; Reed allows 255",
        ),
        (
            refused(&|j: &mut Job| {
                j.ads.get_mut("en").unwrap().title = "Sales Lead - www.contoso.example".into()
            }),
            "en",
            "title contains a URL (\"www.contoso.example\"); Reed allows none in the title",
        ),
        (
            refused(&|j: &mut Job| {
                j.ads.get_mut("en").unwrap().title =
                    "Sales Lead, write to jobs@contoso.example".into()
            }),
            "en",
            "title contains an e-mail address (\"jobs@contoso.example\"); Reed allows none in the title",
        ),
        (
            refused(&|j: &mut Job| {
                j.ads.get_mut("en").unwrap().title = "Sales Lead, call 020 7946 0958".into()
            }),
            "en",
            "title contains a phone number (\"020 7946 0958\"); Reed allows none in the title",
        ),
        (
            refused(&|j: &mut Job| j.ads.get_mut("en").unwrap().title = "Sales <b>Lead</b>".into()),
            "en",
            "title contains HTML (\"<b>\"); Reed allows no HTML in the title",
        ),
        (
            refused(&|j: &mut Job| {
                let ad = j.ads.get_mut("en").unwrap();
                ad.summary = "S".repeat(120);
                ad.responsibilities.clear();
                ad.requirements.clear();
                ad.benefits.clear();
            }),
            "en",
            "description is 120 characters; Reed needs at least 150",
        ),
        (
            refused(&|j: &mut Job| {
                let ad = j.ads.get_mut("en").unwrap();
                ad.summary = "S".repeat(6_600);
                ad.responsibilities.clear();
                ad.requirements.clear();
                ad.benefits.clear();
            }),
            "en",
            "description is 6607 characters; Reed allows 6500",
        ),
        (
            refused(&|j: &mut Job| {
                j.ads
                    .get_mut("en")
                    .unwrap()
                    .requirements
                    .push("Questions? hr@contoso.co.uk".into())
            }),
            "en",
            "description contains an e-mail address (\"hr@contoso.co.uk\"); Reed allows none in the description",
        ),
        (
            refused(&|j: &mut Job| {
                j.ads
                    .get_mut("en")
                    .unwrap()
                    .benefits
                    .push("See https://contoso.example/perks".into())
            }),
            "en",
            "description contains a URL (\"https://contoso.example/perks\"); Reed allows none in the description",
        ),
        (
            refused(&|j: &mut Job| {
                j.ads
                    .get_mut("en")
                    .unwrap()
                    .summary
                    .push_str(" Call +44 (0)20 7946 0958.")
            }),
            "en",
            "description contains a phone number (\"+44 (0)20 7946 0958\"); Reed allows none in the description",
        ),
        (
            refused(&|j: &mut Job| j.locations[0].country = "IE".into()),
            "en",
            "Reed publishes jobs in GB only; this job is in IE",
        ),
        (job.clone(), "es", "Reed takes ads in en; this one is in es"),
        (
            refused(&|j: &mut Job| j.employment_type = EmploymentType::Other),
            "en",
            "Reed takes permanent, contract and temporary jobs; employment type other has no Reed jobType",
        ),
        (
            refused(&|j: &mut Job| j.salary.as_mut().unwrap().currency = "USD".into()),
            "en",
            "Reed takes salaries in GBP; this one is in USD",
        ),
        (
            refused(&|j: &mut Job| {
                j.valid_through = Some(OffsetDateTime::now_utc() - time::Duration::days(1))
            }),
            "en",
            "has passed; Reed needs expiryInDays of 1 to 42",
        ),
    ];
    for (job, locale, rule) in &cases {
        let error = twin
            .publish(&context(job, &job.ads[*locale], &reference, locale))
            .await
            .unwrap_err();
        assert_rejected(&error, &[rule]);
        assert_eq!(error.http_status, None);
        // Updates check the same rules.
        let error = twin
            .update(&context(job, &job.ads[*locale], &reference, locale))
            .await
            .unwrap_err();
        assert_rejected(&error, &[rule]);
    }
    assert_eq!(twin.requests(), 0, "nothing was sent");
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn the_twin_refuses_what_only_the_board_checks() {
    let twin = twin().await;
    let (mut job, reference) = london();
    // A British location whose town Reed does not know, and no postcode.
    job.locations[0].city = "Springfield".into();
    job.locations[0].postal_code = None;
    let error = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &[
            "Reed answered 400: The request is invalid.",
            "townName: The townName can only accept postcodes and names of towns within the UK.",
        ],
    );
    assert_eq!(error.http_status, Some(400));
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn the_twin_checks_its_rules_on_its_own() {
    let twin = twin().await;
    let (job, reference) = london();
    let request: JobRequest = render(
        &context(&job, &job.ads["en"], &reference, "en"),
        &account(),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let mut body = serde_json::to_value(&request).unwrap();
    body["postingKey"] = json!(twin.credential("posting_key"));
    body["title"] = json!("Account Manager - apply at www.contoso.co.uk");
    body["description"] = json!("D".repeat(120));
    body["jobType"] = json!(3);
    body["expiryInDays"] = json!(60);
    body["townName"] = json!("Madrid");
    let url = jobs_url(&twin);
    let signer = Signer::new(&twin);

    let (status, answer) =
        status_and_body(signer.request(reqwest::Method::POST, &url).json(&body)).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["message"], "The request is invalid.");
    let fields: Vec<&str> = answer["modelState"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "description",
            "expiryInDays",
            "jobType",
            "title",
            "townName"
        ]
    );
    assert_eq!(
        answer["modelState"]["title"],
        json!(["The title cannot contain URLs."])
    );

    // Each contact rule, in the description, on its own.
    for (text, kind) in [
        (" Write to jobs@contoso.example today.", "email addresses"),
        (" Details at https://contoso.example/jobs/1.", "URLs"),
        (" Ring 0161 496 0000 for details.", "phone numbers"),
    ] {
        let mut body = serde_json::to_value(&request).unwrap();
        body["postingKey"] = json!(twin.credential("posting_key"));
        body["description"] = json!(format!("{}{text}", request.description));
        let (status, answer) =
            status_and_body(signer.request(reqwest::Method::POST, &url).json(&body)).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(
            answer["modelState"]["description"],
            json!([format!("The job description cannot contain {kind}.")])
        );
    }

    // The posting key must be the account's.
    let mut body = serde_json::to_value(&request).unwrap();
    body["postingKey"] = json!("00000000-0000-0000-0000-000000000000");
    let (status, answer) =
        status_and_body(signer.request(reqwest::Method::POST, &url).json(&body)).await;
    assert_eq!(status, 403);
    assert_eq!(
        answer["message"],
        "The postingKey does not belong to this username."
    );

    // Not JSON.
    let (status, answer) = status_and_body(
        signer
            .request(reqwest::Method::POST, &url)
            .header("content-type", "application/json")
            .body("{\"title\": "),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer["message"], "The request is invalid.");

    // The rendered body itself passes, posting key and all.
    let mut body = serde_json::to_value(&request).unwrap();
    body["postingKey"] = json!(twin.credential("posting_key"));
    let (status, answer) =
        status_and_body(signer.request(reqwest::Method::POST, &url).json(&body)).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(twin.only().reference, reference);

    // And reads back by our reference.
    let job_id = answer["JobId"].as_u64().unwrap();
    let read = format!("{}&ownerRef={reference}", lookup_url(&twin));
    let (status, records) = status_and_body(signer.request(reqwest::Method::GET, &read)).await;
    assert_eq!(status, 200, "{records}");
    assert_eq!(records[0]["JobId"], job_id);
    assert_eq!(records[0]["Status"], "Live");
    assert_eq!(records[0]["OwnerRef"], reference.as_str());
}

/// Reed documents `PUT …/jobs/update/{jobId}` and `PUT …/jobs/end/{jobId}`;
/// the old `PUT` / `DELETE …/jobs/{jobId}` reach nothing.
#[tokio::test]
async fn edits_and_ends_use_reeds_documented_paths() {
    let twin = twin().await;
    let (job, reference) = london();
    let signer = Signer::new(&twin);
    let receipt = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap();
    let Receipt::Live { external_id, .. } = receipt else {
        panic!("{receipt:?}");
    };
    let old = format!("{}/{external_id}", jobs_url(&twin));
    for method in [reqwest::Method::PUT, reqwest::Method::DELETE] {
        let (status, _) = status_and_body(signer.request(method, &old)).await;
        assert_eq!(status, 404);
    }
    let end = format!("{}/end/{external_id}", jobs_url(&twin));
    let body = json!({
        "username": "recruiter@boardcast.example",
        "postingKey": twin.credential("posting_key"),
    });
    let (status, answer) =
        status_and_body(signer.request(reqwest::Method::PUT, &end).json(&body)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["JobId"].to_string(), external_id);
    assert!(!twin.only().live);
}

/// A 404 on ending means "gone" only once the lookup by `ownerRef` agrees:
/// a stale board id must not leave the live copy online.
#[tokio::test]
async fn a_404_on_withdraw_is_gone_only_when_the_lookup_agrees() {
    let twin = twin().await;
    let (job, reference) = london();
    let ad = &job.ads["en"];
    twin.publish(&context(&job, ad, &reference, "en"))
        .await
        .unwrap();
    let mut stale = context(&job, ad, &reference, "en");
    stale.external_id = Some("49999999");
    stale.live_at_board = true;
    assert_eq!(twin.withdraw(&stale).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.live_copies(&reference), 0, "the live copy was ended");
    assert_eq!(twin.only().withdrawals, 1);

    // Nothing left at Reed: the 404 is "gone", with no second end.
    assert_eq!(twin.withdraw(&stale).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.only().withdrawals, 1);
}

#[tokio::test]
async fn transient_ambiguous_and_throttled_answers() {
    let twin = twin().await;
    let (job, reference) = london();
    let posting = context(&job, &job.ads["en"], &reference, "en");

    twin.assert_transient_signals(&posting).await;

    // The faults changed nothing; healed, the board takes it once.
    assert!(twin.held().is_empty());
    twin.publish(&posting).await.unwrap();
    assert_eq!(twin.only().creates, 1);
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_failure() {
    let (job, reference) = london();
    let posting = context(&job, &job.ads["en"], &reference, "en");
    for (name, status) in [("api_key", 401), ("client_id", 401), ("posting_key", 403)] {
        let twin =
            BoardTwin::start_with(ID, &[(name, "00000000-0000-0000-0000-0000000000ff")]).await;
        let error = twin.publish(&posting).await.unwrap_err();
        assert_eq!(error.class, ErrorClass::Auth, "{name}: {error:?}");
        assert_eq!(error.http_status, Some(status), "{name}");
        assert!(
            !error
                .message
                .contains("00000000-0000-0000-0000-0000000000ff"),
            "the secret is not repeated"
        );
        let error = twin.withdraw(&posting).await.unwrap_err();
        assert_eq!(error.class, ErrorClass::Auth, "{name}: {error:?}");
        assert!(twin.held().is_empty());
    }
}

/// The adapter of `twin`'s board with some options changed.
fn adapter_with_options(
    twin: &BoardTwin,
    options: &[(&str, &str)],
) -> Result<std::sync::Arc<dyn Board>, String> {
    let mut settings = settings();
    let board = settings.boards.get_mut("reed").unwrap();
    board.base_url = format!("{}/{ID}", twin.url);
    for (name, value) in options {
        board.options.insert((*name).into(), (*value).into());
    }
    for (name, value) in twin.sandbox.credentials()[ID].clone() {
        board.credentials.insert(name, SecretString::from(value));
    }
    boardcast::boards::build_one(&settings, ID).map_err(|e| e.to_string())
}

#[tokio::test]
async fn demo_mode_posts_drafts() {
    let twin = twin().await;
    let adapter = adapter_with_options(&twin, &[("is_demo", "true")]).unwrap();
    let (job, reference) = london();
    let mut posting = context(&job, &job.ads["en"], &reference, "en");
    let receipt = adapter
        .publish(&posting, &mut CallLog::default())
        .await
        .unwrap();
    let Receipt::Live { external_id, .. } = receipt else {
        panic!("{receipt:?}");
    };
    let held = twin.only();
    assert_eq!(held.content["isDemo"], true);
    assert!(!held.live, "a draft is not on reed.co.uk");

    // An edit leaves it a draft (isDemo is not an edit field).
    posting.external_id = Some(&external_id);
    adapter
        .update(&posting, &mut CallLog::default())
        .await
        .unwrap();
    let held = twin.only();
    assert!(!held.live);
    assert!(held.content.get("isDemo").is_none());
    assert_eq!(held.updates, 1);
}

#[tokio::test]
async fn the_account_options_are_checked_when_the_adapter_is_built() {
    let twin = twin().await;
    let error = adapter_with_options(&twin, &[("product_id", "7")])
        .err()
        .unwrap();
    assert!(error.contains("product_id (1, 2, 3, 4 or 81)"), "{error}");
    let error = adapter_with_options(&twin, &[("is_demo", "yes")])
        .err()
        .unwrap();
    assert!(error.contains("is_demo (true or false)"), "{error}");
    let error = adapter_with_options(&twin, &[("username", "recruiter")])
        .err()
        .unwrap();
    assert!(error.contains("username"), "{error}");

    // A premium credit travels in the create.
    let adapter = adapter_with_options(&twin, &[("product_id", "2")]).unwrap();
    let (job, reference) = london();
    adapter
        .publish(
            &context(&job, &job.ads["en"], &reference, "en"),
            &mut CallLog::default(),
        )
        .await
        .unwrap();
    assert_eq!(twin.only().content["productId"], 2);
}
