//! Monster Real Time Posting: the adapter's pure render against golden files
//! (the Windows-1252 bytes as sent, compared as decoded text), and the adapter
//! against its SOAP twin over real HTTP. No database or broker.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::{BoardTwin, assert_rejected, context, publish_samples, sample, settings};
use boardcast::boards::monster::{
    Account, COUNTRIES, JobAction, LANGUAGES, MonsterHeader, MonsterJob, ResponseEnvelope, encode,
    envelope, render, to_xml,
};
use boardcast::boards::{ErrorClass, Receipt};
use boardcast::intake::message::primary_language;
use boardcast::intake::message::{EmploymentType, Job, PayPeriod, Salary, Target, Targets};
use boardcast::plan::{plan, posting_reference};
use boardcast::sandbox::Faults;
use encoding_rs::WINDOWS_1252;

const ID: &str = boardcast::boards::monster::ID;

/// The account settings from `[boards.monster.options]`.
fn account() -> Account {
    let settings = settings();
    let options = &settings.board(ID).expect("[boards.monster]").options;
    let id = |name: &str| options[name].parse().unwrap();
    Account {
        recruiter_username: options["recruiter_username"].clone(),
        job_level: id("job_level"),
        job_category: id("job_category"),
        job_occupation: id("job_occupation"),
        board: id("board_id"),
    }
}

/// A fixed header, so golden files do not move with the clock.
fn golden_header() -> MonsterHeader {
    MonsterHeader::new("boardcast golden", "2026-01-01T00:00:00Z")
}

// ---------------------------------------------------------------------------
// Configuration and golden requests.

#[test]
fn config_section_declares_languages_countries_and_options() {
    let settings = settings();
    let board = settings.board(ID).expect("[boards.monster]");
    assert!(board.enabled);
    assert_eq!(board.base_url, "http://127.0.0.1:8650/monster");
    assert_eq!(board.languages, LANGUAGES);
    assert_eq!(board.countries, COUNTRIES);
    assert!(!board.languages.iter().any(|l| l == "el"));
    for option in [
        "recruiter_username",
        "job_level",
        "job_category",
        "job_occupation",
        "board_id",
    ] {
        assert!(board.options.contains_key(option), "option {option}");
    }
    assert!(
        boardcast::sandbox::TWINS
            .iter()
            .any(|twin| twin.board == ID && twin.credentials == ["username", "password"])
    );
    assert!(boardcast::boards::mechanism(ID).is_some());
}

/// Every sample × every ad language: the variants Monster takes render to
/// their golden files; the others are refused by the rule that stops them.
#[test]
fn golden_requests() {
    let settings = settings();
    let board = settings.board(ID).unwrap();
    let account = account();
    let mut compared = 0;
    let mut refused_language = 0;
    let mut refused_country = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            let reference = posting_reference(&tenant, &job.id, locale);
            let posting = context(&job, ad, &reference, locale);
            let language = primary_language(locale);
            let result = render(&posting, &account, JobAction::AddOrUpdate);
            if !board.languages.iter().any(|l| l == language) {
                let error = result.expect_err(&format!("{stem}.{locale} is refused"));
                assert_eq!(
                    error.message,
                    format!("Monster publishes in en, de, fr, es; this ad is in {language}")
                );
                refused_language += 1;
                continue;
            }
            if !job
                .locations
                .iter()
                .any(|l| board.countries.contains(&l.country))
            {
                let error = result.expect_err(&format!("{stem}.{locale} is refused"));
                assert_eq!(
                    error.message,
                    "Monster publishes jobs in US, GB, DE, AT, CH, FR, ES; this job is in PT"
                );
                refused_country += 1;
                continue;
            }
            let request = result.unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            let bytes =
                encode(&envelope(&request, golden_header(), "username", "password")).unwrap();
            let (text, malformed) = WINDOWS_1252.decode_without_bom_handling(&bytes);
            assert!(!malformed);
            crate::support::golden(ID, &format!("{stem}.publish.{locale}.xml"), &text);
            // The withdrawal of the same posting: the reference alone.
            let delete = render(&posting, &account, JobAction::Delete).unwrap();
            let bytes =
                encode(&envelope(&delete, golden_header(), "username", "password")).unwrap();
            let (text, malformed) = WINDOWS_1252.decode_without_bom_handling(&bytes);
            assert!(!malformed);
            crate::support::golden(ID, &format!("{stem}.withdraw.{locale}.xml"), &text);
            compared += 1;
        }
    }
    // account-executive en/es/de/fr and account-manager en/es.
    assert_eq!(compared, 6);
    // el and pt of account-executive, pt of sales-account-executive.
    assert_eq!(refused_language, 3);
    // sales-account-executive in English: Porto only.
    assert_eq!(refused_country, 1);
}

#[test]
fn accented_words_travel_as_single_windows_1252_bytes() {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "fr");
    let request = render(
        &context(&job, &job.ads["fr"], &reference, "fr"),
        &account(),
        JobAction::AddOrUpdate,
    )
    .unwrap();
    let bytes = encode(&envelope(&request, golden_header(), "username", "password")).unwrap();
    assert!(bytes.starts_with(b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>"));
    let title = b"<JobTitle>Charg\xE9(e) d'affaires</JobTitle>";
    assert!(
        bytes.windows(title.len()).any(|w| w == title),
        "'\u{e9}' is the single byte 0xE9"
    );
    // Île-de-France: 'Î' is 0xCE.
    let state = b"<State>\xCEle-de-France</State>";
    assert!(bytes.windows(state.len()).any(|w| w == state));
    // No UTF-8 sequence anywhere: 0xC3 would start 'é' or 'Î' in UTF-8.
    assert!(!bytes.contains(&0xC3));
}

#[test]
fn the_location_follows_the_ad_s_language() {
    let (tenant, job) = sample("account-executive");
    let account = account();
    let channel_and_city = |locale: &str| {
        let reference = posting_reference(&tenant, &job.id, locale);
        let request = render(
            &context(&job, &job.ads[locale], &reference, locale),
            &account,
            JobAction::AddOrUpdate,
        )
        .unwrap();
        let address = request.job_information.unwrap().physical_address;
        (request.channel.map(|c| c.monster_id), address.city)
    };
    assert_eq!(channel_and_city("de"), (Some(419), "Berlin".to_owned()));
    assert_eq!(channel_and_city("fr"), (Some(120), "Paris".to_owned()));
    assert_eq!(channel_and_city("es"), (Some(437), "Madrid".to_owned()));
    // No Monster site takes English ads in Spain, Germany or France: the
    // first served location goes to the account's default channel.
    assert_eq!(channel_and_city("en"), (None, "Madrid".to_owned()));
}

#[test]
fn greek_is_skipped_by_planning_and_refused_by_rule() {
    let settings = settings();
    let (tenant, job) = sample("account-executive");
    let planned = plan(
        &settings,
        &tenant,
        &job,
        &Targets::Boards(vec![Target {
            board: ID.to_owned(),
            locales: None,
        }]),
        &BTreeSet::new(),
    );
    let greek = planned.iter().find(|p| p.locale == "el").unwrap();
    assert_eq!(
        greek.skip_reason.as_deref(),
        Some("monster publishes in en, de, fr, es; it does not take the \"el\" ad")
    );
    let english = planned.iter().find(|p| p.locale == "en").unwrap();
    assert_eq!(english.skip_reason, None);

    // The adapter refuses the Greek ad by its own rule too...
    let error = render(
        &context(&job, &job.ads["el"], "bcgreek", "el"),
        &account(),
        JobAction::AddOrUpdate,
    )
    .unwrap_err();
    assert_rejected(
        &error,
        &["Monster publishes in en, de, fr, es; this ad is in el"],
    );

    // ...and Greek text in an English ad by the character set.
    let mut mixed = job.clone();
    mixed.ads.get_mut("en").unwrap().title = "Account Executive (Στέλεχος)".into();
    let error = render(
        &context(&mixed, &mixed.ads["en"], "bcmixed", "en"),
        &account(),
        JobAction::AddOrUpdate,
    )
    .unwrap_err();
    assert_eq!(
        error.message,
        "title contains 'Σ', which Windows-1252 cannot carry; Monster takes Windows-1252 only"
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
    assert!(held.url.ends_with(&format!("jobid={external_id}")));
    assert!(held.live);
    assert_eq!(held.language, "en");
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));
    let information = &held.content["JobInformation"];
    assert_eq!(information["JobTitle"], "Account Manager");
    assert_eq!(information["JobType"]["@monsterId"], "1");
    assert_eq!(information["JobStatus"]["@monsterId"], "4");
    assert_eq!(information["Salary"]["Currency"]["@monsterId"], "1");
    assert_eq!(information["Salary"]["SalaryMin"], "85000");
    assert_eq!(information["PhysicalAddress"]["State"], "MA");
    assert_eq!(held.content["Channel"]["@monsterId"], "58");
    assert_eq!(
        held.content["RecruiterReference"]["UserName"],
        account().recruiter_username
    );

    let mut revised = job.clone();
    revised.revision = 2;
    revised.ads.get_mut("en").unwrap().title = "Senior Account Manager".into();
    let mut posting = context(&revised, &revised.ads["en"], &reference, "en");
    posting.external_id = Some(&external_id);
    posting.live_at_board = true;
    let receipt = twin.update(&posting).await.unwrap();
    assert_eq!(
        receipt,
        Receipt::Live {
            external_id: external_id.clone(),
            url: url.clone()
        }
    );
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
    assert_eq!(twin.live_copies(&reference), 1);
}

#[tokio::test]
async fn an_update_the_board_never_saw_creates_it() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let mut posting = context(&job, &job.ads["en"], &reference, "en");
    posting.external_id = Some("300000999");
    assert!(matches!(
        twin.update(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 0));
}

#[tokio::test]
async fn a_publish_that_may_have_landed_makes_one_copy() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let ad = &job.ads["en"];
    let first = twin
        .publish(&context(&job, ad, &reference, "en"))
        .await
        .unwrap();

    // The answer was lost: the re-send is addOrUpdate on the same jobRefCode.
    let mut again = context(&job, ad, &reference, "en");
    again.may_exist = true;
    let second = twin.publish(&again).await.unwrap();
    assert_eq!(first, second, "the same posting id and page");
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates), (1, 1));
    assert_eq!(twin.live_copies(&reference), 1);

    // A lost answer the twin really acted on: it hangs after applying.
    twin.faults(Faults {
        hang_times: 1,
        ..Faults::default()
    });
    let adapter = twin.adapter_with(&[]);
    let (other_tenant, other) = sample("account-executive");
    let other_reference = posting_reference(&other_tenant, &other.id, "de");
    let posting = context(&other, &other.ads["de"], &other_reference, "de");
    let mut log = boardcast::boards::CallLog::default();
    let lost = tokio::time::timeout(Duration::from_secs(10), adapter.publish(&posting, &mut log))
        .await
        .expect("the adapter's own timeout answers");
    let error = lost.unwrap_err();
    assert_eq!(error.class, ErrorClass::Ambiguous, "{error:?}");
    let mut resend = posting;
    resend.may_exist = true;
    assert!(matches!(
        twin.publish(&resend).await.unwrap(),
        Receipt::Live { .. }
    ));
    assert_eq!(twin.live_copies(&other_reference), 1);
    let held = twin
        .held()
        .into_iter()
        .find(|p| p.reference == other_reference)
        .unwrap();
    assert_eq!((held.creates, held.updates), (1, 1));
    assert_eq!(held.language, "de");
}

#[tokio::test]
async fn the_adapter_refuses_what_breaks_a_rule_before_sending() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let refuse = |job: Job, locale: &'static str, reference: String| {
        let twin = &twin;
        async move {
            twin.publish(&context(&job, &job.ads[locale], &reference, locale))
                .await
                .unwrap_err()
        }
    };

    let mut long = job.clone();
    long.ads.get_mut("en").unwrap().title = "A".repeat(101);
    let error = refuse(long, "en", reference.clone()).await;
    assert_rejected(&error, &["title is 101 characters; Monster allows 100"]);
    assert_eq!(error.http_status, None);

    let mut omega = job.clone();
    omega.ads.get_mut("en").unwrap().title = "Account Manager Ω".into();
    let error = refuse(omega, "en", reference.clone()).await;
    assert_eq!(
        error.message,
        "title contains 'Ω', which Windows-1252 cannot carry; Monster takes Windows-1252 only"
    );

    let mut arrow = job.clone();
    arrow.ads.get_mut("en").unwrap().requirements = vec!["CRM → pipeline".into()];
    let error = refuse(arrow, "en", reference.clone()).await;
    assert_rejected(&error, &["description contains '→'", "Windows-1252"]);

    let mut short = job.clone();
    let ad = short.ads.get_mut("en").unwrap();
    ad.summary = "Sell.".into();
    ad.responsibilities.clear();
    ad.requirements.clear();
    ad.benefits.clear();
    let error = refuse(short, "en", reference.clone()).await;
    assert_rejected(
        &error,
        &["description is 12 characters; Monster needs at least 25"],
    );

    let error = refuse(job.clone(), "en", "x".repeat(51)).await;
    assert_rejected(&error, &["jobRefCode is 51 characters; Monster allows 50"]);

    let mut yen = job.clone();
    yen.salary = Some(Salary {
        currency: "JPY".into(),
        min: 1.0,
        max: 2.0,
        period: PayPeriod::Year,
    });
    let error = refuse(yen, "en", reference.clone()).await;
    assert_rejected(&error, &["salary currency JPY", "USD, EUR, CHF, GBP"]);

    let mut other = job.clone();
    other.employment_type = EmploymentType::Other;
    let error = refuse(other, "en", reference.clone()).await;
    assert_rejected(
        &error,
        &["employment type \"other\" has no Monster JobType"],
    );

    let (_, porto) = sample("sales-account-executive");
    let error = refuse(porto, "en", reference.clone()).await;
    assert_rejected(
        &error,
        &["Monster publishes jobs in US, GB, DE, AT, CH, FR, ES; this job is in PT"],
    );

    let (_, europe) = sample("account-executive");
    let error = refuse(europe, "pt", reference.clone()).await;
    assert_rejected(
        &error,
        &["Monster publishes in en, de, fr, es; this ad is in pt"],
    );

    assert_eq!(twin.requests(), 0, "nothing was sent");
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn the_twin_refuses_what_only_the_board_checks() {
    let twin = twin().await;
    let (mut job, reference) = contoso();
    // The contract never lets an empty city through; Monster requires one.
    job.locations[0].city = String::new();
    let error = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &[
            "Monster refused the job (SOAP-ENV:Client)",
            "PhysicalAddress/City is required",
            "JobPosting/Location/City is required",
        ],
    );
    assert_eq!(error.http_status, Some(500));
    assert!(twin.held().is_empty());
}

// ---------------------------------------------------------------------------
// Hand-made bodies straight to the twin.

struct Raw {
    status: u16,
    fault: Option<(String, String)>,
}

async fn post_raw(twin: &BoardTwin, content_type: &str, body: Vec<u8>) -> Raw {
    let response = reqwest::Client::new()
        .post(twin.board_url("/bgwBroker"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let document: ResponseEnvelope =
        quick_xml::de::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    Raw {
        status,
        fault: document.body.fault.map(|f| (f.faultcode, f.faultstring)),
    }
}

/// A valid request as text, with the twin's credentials, to be spoilt.
fn valid_request(twin: &BoardTwin, edit: impl FnOnce(&mut MonsterJob)) -> String {
    let (job, reference) = contoso();
    let mut request = render(
        &context(&job, &job.ads["en"], &reference, "en"),
        &account(),
        JobAction::AddOrUpdate,
    )
    .unwrap();
    edit(&mut request);
    to_xml(&envelope(
        &request,
        MonsterHeader::new("by hand", "2026-01-01T00:00:00Z"),
        twin.credential("username"),
        twin.credential("password"),
    ))
}

fn windows_1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = WINDOWS_1252.encode(text);
    assert!(!unmappable, "the test's own text is Windows-1252");
    bytes.into_owned()
}

const CP1252: &str = "text/xml; charset=windows-1252";
const TITLE: &str = "<JobTitle>Account Manager</JobTitle>";

fn assert_client_fault(raw: &Raw, words: &[&str]) {
    assert_eq!(raw.status, 500);
    let (code, reason) = raw.fault.as_ref().expect("a SOAP fault");
    assert_eq!(code, "SOAP-ENV:Client");
    for word in words {
        assert!(reason.contains(word), "{reason:?} does not name {word:?}");
    }
}

#[tokio::test]
async fn the_twin_checks_lengths_and_required_elements_on_its_own() {
    let twin = twin().await;

    let body = valid_request(&twin, |job| {
        job.job_information.as_mut().unwrap().job_title = "A".repeat(101);
        job.job_ref_code = "r".repeat(51);
    });
    let raw = post_raw(&twin, CP1252, windows_1252(&body)).await;
    assert_client_fault(
        &raw,
        &[
            "jobRefCode is 51 characters; the limit is 50",
            "JobTitle is 101 characters; the limit is 100",
        ],
    );

    let body = valid_request(&twin, |_| {}).replace("<JobStatus monsterId=\"4\"/>", "");
    let raw = post_raw(&twin, CP1252, windows_1252(&body)).await;
    assert_client_fault(&raw, &["JobStatus@monsterId is required"]);

    let body = valid_request(&twin, |job| {
        let information = job.job_information.as_mut().unwrap();
        information.job_type.monster_id = 9;
        information.job_body = "<p>Sell <blink>now</blink> to everyone</p>".into();
        job.recruiter_reference.user_name.clear();
    });
    let raw = post_raw(&twin, CP1252, windows_1252(&body)).await;
    assert_client_fault(
        &raw,
        &[
            "RecruiterReference/UserName is required",
            "JobType@monsterId 9 is not a valid JobType",
            "it holds <blink>",
        ],
    );

    // Two jobs in one request, or the batch wrapper: one job per request.
    let one = valid_request(&twin, |_| {});
    let start = one.find("<Job ").unwrap();
    let end = one.find("</Job>").unwrap() + "</Job>".len();
    let two = format!("{}{}{}", &one[..end], &one[start..end], &one[end..]);
    let raw = post_raw(&twin, CP1252, windows_1252(&two)).await;
    assert_client_fault(&raw, &["one Job per request; this one has 2"]);

    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn the_twin_checks_the_character_set_on_its_own() {
    let twin = twin().await;
    let valid = valid_request(&twin, |_| {});

    // A byte Windows-1252 leaves undefined.
    let mut bytes =
        windows_1252(&valid.replace(TITLE, "<JobTitle>Account Manager\u{1}</JobTitle>"));
    let at = bytes.iter().position(|b| *b == 0x01).unwrap();
    bytes[at] = 0x81;
    let raw = post_raw(&twin, CP1252, bytes).await;
    assert_client_fault(
        &raw,
        &[&format!(
            "byte 0x81 at offset {at} is not a Windows-1252 character"
        )],
    );

    // A character reference to a character outside Windows-1252.
    let smuggled = valid.replace(TITLE, "<JobTitle>Account Manager &#937;</JobTitle>");
    let raw = post_raw(&twin, CP1252, windows_1252(&smuggled)).await;
    assert_client_fault(
        &raw,
        &["JobTitle contains 'Ω', which is not a Windows-1252 character"],
    );

    // UTF-8 is accepted, limited to the Windows-1252 characters.
    let utf8 = valid
        .replace("encoding=\"windows-1252\"", "encoding=\"utf-8\"")
        .replace(TITLE, "<JobTitle>Account Manager Ω</JobTitle>");
    let raw = post_raw(&twin, "text/xml; charset=utf-8", utf8.clone().into_bytes()).await;
    assert_client_fault(
        &raw,
        &["limited to the Windows-1252 characters; 'Ω' is not one"],
    );

    // The Content-Type and the declaration must agree.
    let raw = post_raw(&twin, "text/xml; charset=utf-8", windows_1252(&valid)).await;
    assert_client_fault(&raw, &["charset utf-8", "declaration says windows-1252"]);

    // And UTF-8 within the repertoire goes through: 'é' as two bytes.
    let fine = valid
        .replace("encoding=\"windows-1252\"", "encoding=\"utf-8\"")
        .replace(TITLE, "<JobTitle>Account Manager (café)</JobTitle>");
    let raw = post_raw(&twin, "text/xml; charset=utf-8", fine.into_bytes()).await;
    assert_eq!(raw.status, 200, "{:?}", raw.fault);
    assert_eq!(twin.only().title, "Account Manager (café)");
}

#[tokio::test]
async fn the_twin_checks_the_envelope_and_the_credentials_on_its_own() {
    let twin = twin().await;
    let valid = valid_request(&twin, |_| {});

    let wrong = valid.replace(twin.credential("password"), "not-the-password");
    let raw = post_raw(&twin, CP1252, windows_1252(&wrong)).await;
    assert_eq!(raw.status, 500);
    assert_eq!(raw.fault.unwrap().0, "wsse:FailedAuthentication");

    let start = valid.find("<wsse:Security").unwrap();
    let end = valid.find("</wsse:Security>").unwrap() + "</wsse:Security>".len();
    let anonymous = format!("{}{}", &valid[..start], &valid[end..]);
    let raw = post_raw(&twin, CP1252, windows_1252(&anonymous)).await;
    assert_eq!(raw.fault.unwrap().0, "wsse:FailedAuthentication");

    let soap12 = valid.replace(
        "http://schemas.xmlsoap.org/soap/envelope/",
        "http://www.w3.org/2003/05/soap-envelope",
    );
    let raw = post_raw(&twin, CP1252, windows_1252(&soap12)).await;
    assert_eq!(raw.status, 500);
    assert_eq!(raw.fault.unwrap().0, "SOAP-ENV:VersionMismatch");

    let outside = valid.replace(
        "xmlns=\"http://schemas.monster.com/Monster\"",
        "xmlns=\"urn:elsewhere\"",
    );
    let raw = post_raw(&twin, CP1252, windows_1252(&outside)).await;
    assert_client_fault(
        &raw,
        &["Job must be in the namespace http://schemas.monster.com/Monster"],
    );

    let raw = post_raw(&twin, "application/json", windows_1252(&valid)).await;
    assert_client_fault(&raw, &["SOAP 1.1 requests are text/xml"]);

    assert!(twin.held().is_empty());
    assert_eq!(twin.requests(), 0, "refused before the gate");
}

// ---------------------------------------------------------------------------
// Transport and account signals.

#[tokio::test]
async fn transient_ambiguous_and_throttled_answers() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["en"], &reference, "en");

    twin.faults(Faults {
        fail_times: 1,
        fail_status: 503,
        ..Faults::default()
    });
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Transient, "{error:?}");
    assert_eq!(error.http_status, Some(503));

    // A 500 without a SOAP fault (a proxy, a crash) may have acted.
    twin.faults(Faults {
        fail_times: 1,
        fail_status: 500,
        ..Faults::default()
    });
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Ambiguous, "{error:?}");
    assert_eq!(error.http_status, Some(500));

    twin.faults(Faults {
        throttle_times: 1,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Throttled, "{error:?}");
    assert_eq!(error.http_status, Some(429));
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));

    // The faults changed nothing; healed, the board takes it once.
    assert!(twin.held().is_empty());
    twin.publish(&posting).await.unwrap();
    assert_eq!(twin.only().creates, 1);
    assert_eq!(twin.requests(), 4);
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_failure() {
    let twin = BoardTwin::start_with(ID, &[("password", "wrong")]).await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["en"], &reference, "en");
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    // Read from the fault code: SOAP 1.1 sends every fault with 500.
    assert_eq!(error.http_status, Some(500));
    assert!(error.message.contains("wsse:FailedAuthentication"));
    assert!(!error.message.contains("wrong"));
    let error = twin.withdraw(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");

    let impostor = twin.adapter_with(&[("username", "someone-else")]);
    let error = impostor
        .publish(&posting, &mut boardcast::boards::CallLog::default())
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert!(twin.held().is_empty());
}

/// Issue 13: the ad carries apply routing, so candidates reach the
/// employer's apply page or inbox (Odoo's RTP integration: `Contact/E-mail`,
/// `CustomApplyOnlineURL`).
#[tokio::test]
async fn the_ad_routes_candidates_to_the_employer() {
    let twin = twin().await;
    let (mut job, reference) = contoso();
    twin.publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap();
    let information = &twin.only().content["JobInformation"];
    assert_eq!(
        information["CustomApplyOnlineURL"],
        "https://contoso.example/jobs/AM-118"
    );
    assert_eq!(information["Contact"]["E-mail"], "jobs@contoso.example");
    assert_eq!(
        information["Contact"]["CompanyName"],
        job.company.name.as_str()
    );

    // E-mail only: no apply page is invented.
    job.apply.url = None;
    let request = render(
        &context(&job, &job.ads["en"], &reference, "en"),
        &account(),
        JobAction::AddOrUpdate,
    )
    .unwrap();
    let information = request.job_information.unwrap();
    assert_eq!(information.custom_apply_online_url, None);
    assert_eq!(
        information.contact.email.as_deref(),
        Some("jobs@contoso.example")
    );

    // Neither: refused by name before sending.
    job.apply.email = None;
    let error = render(
        &context(&job, &job.ads["en"], &reference, "en"),
        &account(),
        JobAction::AddOrUpdate,
    )
    .unwrap_err();
    assert_rejected(&error, &["apply URL or e-mail"]);
}

#[tokio::test]
async fn the_twin_refuses_a_job_candidates_cannot_apply_to() {
    let twin = twin().await;
    let body = valid_request(&twin, |job| {
        let information = job.job_information.as_mut().unwrap();
        information.custom_apply_online_url = None;
        information.contact.email = None;
    });
    let raw = post_raw(&twin, CP1252, windows_1252(&body)).await;
    assert_client_fault(&raw, &["no apply routing"]);

    let body = valid_request(&twin, |job| {
        let information = job.job_information.as_mut().unwrap();
        information.custom_apply_online_url = Some("contoso.example/apply".into());
        information.contact.email = Some("jobs at contoso".into());
    });
    let raw = post_raw(&twin, CP1252, windows_1252(&body)).await;
    assert_client_fault(
        &raw,
        &[
            "CustomApplyOnlineURL contoso.example/apply is not an absolute",
            "Contact/E-mail jobs at contoso is not an e-mail address",
        ],
    );
    assert!(twin.held().is_empty());
}

/// The twin reads requests with a strict XML 1.0 parser: a repeated
/// attribute, which XML 1.0 forbids, is refused rather than read leniently.
#[tokio::test]
async fn the_twin_parses_requests_as_strict_xml() {
    let twin = twin().await;
    let body = valid_request(&twin, |_| {}).replace(
        "jobAction=\"addOrUpdate\"",
        "jobAction=\"addOrUpdate\" jobAction=\"delete\"",
    );
    assert!(body.contains("jobAction=\"delete\""));
    let raw = post_raw(&twin, CP1252, windows_1252(&body)).await;
    assert_client_fault(&raw, &["not well-formed XML 1.0"]);
    assert!(twin.held().is_empty());
}
