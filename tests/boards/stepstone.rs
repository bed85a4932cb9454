//! StepStone JobFeed: golden requests per operation (INSERT, UPDATE,
//! OFFLINE), and the adapter against its twin over real HTTP. No database or
//! broker.

use crate::support::{BoardTwin, assert_rejected, context, publish_samples, sample, settings};
use boardcast::boards::stepstone::{
    Action, FeedResponse, ID, JobFeed, REDACTED, form, listing_url, render, status_error, to_xml,
};
use boardcast::boards::{CallLog, ErrorClass, Receipt};
use boardcast::intake::message::{Job, primary_language};
use boardcast::plan::posting_reference;
use std::time::Duration;

fn ids() -> (String, String) {
    let settings = settings();
    let options = &settings.board(ID).expect("[boards.stepstone]").options;
    (
        options["sender_id"].clone(),
        options["organisation_id"].clone(),
    )
}

fn document(job: &Job, locale: &str, reference: &str, action: Action) -> String {
    let (sender, organisation) = ids();
    let listing = render(
        &context(job, &job.ads[locale], reference, locale),
        &sender,
        &organisation,
        action,
    )
    .unwrap_or_else(|e| panic!("{reference}.{locale}: {e}"));
    to_xml(&JobFeed {
        joblisting: vec![listing],
    })
}

#[test]
fn golden_requests() {
    let languages = settings()
        .board(ID)
        .expect("[boards.stepstone]")
        .languages
        .clone();
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for locale in job.ads.keys() {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let xml = document(&job, locale, &reference, Action::Insert);
            roxmltree::Document::parse(&xml).expect("well-formed XML 1.0");
            crate::support::golden(ID, &format!("{stem}.publish.{locale}.xml"), &xml);
            compared += 1;
        }
    }
    assert!(compared >= 2, "{compared}");

    // One golden per further operation.
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "de");
    for (action, operation) in [(Action::Update, "update"), (Action::Offline, "withdraw")] {
        let xml = document(&job, "de", &reference, action);
        roxmltree::Document::parse(&xml).expect("well-formed XML 1.0");
        crate::support::golden(ID, &format!("account-executive.{operation}.de.xml"), &xml);
    }
}

#[test]
fn the_documented_response_is_read() {
    // The example of api.stepstone.com/response (xmlresponse=true).
    let example = "<jobfeedresponse>\n\t<senderid>8812</senderid>\n\t<organisationid>12345</organisationid>\n\t<reference>ABC12345</reference>\n\t<listingid>12738</listingid>\n\t<listingexpiration>30/07/2018</listingexpiration>\n\t<action>INSERT</action>\n\t<status><![CDATA[OK]]></status>\n\t<statuscode>100</statuscode>\n\t<comments/>\n\t<contract>\n\t\t<enddate>30/06/2018</enddate>\n\t\t<credits>1</credits>\n\t</contract>\n</jobfeedresponse>";
    let response = FeedResponse::parse(example).unwrap();
    assert_eq!(response.reference.as_deref(), Some("ABC12345"));
    assert_eq!(response.listing_id.as_deref(), Some("12738"));
    assert_eq!(response.action.as_deref(), Some("INSERT"));
    assert_eq!(response.status.as_deref(), Some("OK"));
    assert_eq!(response.status_code, Some(100));
    assert_eq!(
        listing_url("123456"),
        "https://www.stepstone.de/5/index.cfm?event=offerView.dspOfferInline&offerId=123456"
    );
    // The old adapter's invented answer is not StepStone's.
    assert!(
        FeedResponse::parse("<jobfeed_response><listing status=\"OK\"/></jobfeed_response>")
            .is_err()
    );
}

fn contoso() -> (Job, String) {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "de");
    (job, reference)
}

#[tokio::test]
async fn insert_update_offline_and_back() {
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let Receipt::Live { external_id, url } = twin.publish(&posting).await.unwrap() else {
        panic!("not live");
    };
    assert_eq!(url.as_deref(), Some(listing_url(&external_id).as_str()));
    let held = twin.only();
    assert_eq!(held.external_id, external_id);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));

    let mut revised = job.clone();
    revised.ads.get_mut("de").unwrap().title = "Senior Account Executive (m/w/d)".into();
    let mut posting = context(&revised, &revised.ads["de"], &reference, "de");
    posting.external_id = Some(&external_id);
    posting.live_at_board = true;
    assert!(matches!(
        twin.update(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    assert_eq!(twin.only().title, "Senior Account Executive (m/w/d)");

    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    assert!(!twin.only().live);
    // An UPDATE puts an OFFLINE listing back online; no second credit.
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
async fn a_publish_that_may_have_landed_spends_no_second_credit() {
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["de"], &reference, "de");
    twin.publish(&posting).await.unwrap();
    // The answer was lost; the re-send is an INSERT of a reference in use [I].
    assert!(matches!(
        twin.publish(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 1));
    assert_eq!(twin.live_copies(&reference), 1);
}

#[tokio::test]
async fn the_form_carries_the_credentials_and_the_hash_does_not() {
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let mut call = CallLog::default();
    twin.board.publish(&posting, &mut call).await.unwrap();
    let xml = document(&job, "de", &reference, Action::Insert);
    let encode = |password: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form(twin.credential("username"), password, &xml))
            .finish()
    };
    let hash = call.request_hash.unwrap();
    assert_eq!(
        hash,
        boardcast::boards::http::hash(encode(REDACTED).as_bytes())
    );
    assert_ne!(
        hash,
        boardcast::boards::http::hash(encode(twin.credential("password")).as_bytes())
    );
}

#[tokio::test]
async fn status_codes_are_classified_as_the_table_says() {
    // Wrong credentials: status code 220 in a 200 answer.
    let twin = BoardTwin::start_with(ID, &[("password", "not-it")]).await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert!(
        error.message.contains("StepStone status 220"),
        "{}",
        error.message
    );
    assert!(!error.message.contains("not-it"));

    // Rules StepStone documents, checked by the twin on its own.
    let twin = BoardTwin::start(ID).await;
    let mut long = job.clone();
    long.ads.get_mut("de").unwrap().title = "T".repeat(140);
    let adapter = twin.board.clone();
    let result = adapter
        .publish(
            &context(&long, &long.ads["de"], &reference, "de"),
            &mut CallLog::default(),
        )
        .await;
    assert!(result.is_ok(), "140 characters fit both limits: {result:?}");

    // The adapter's own rules, before sending.
    let mut too_long = job.clone();
    too_long.ads.get_mut("de").unwrap().title = "T".repeat(151);
    let before = twin.requests();
    let error = twin
        .publish(&context(&too_long, &too_long.ads["de"], "bcother", "de"))
        .await
        .unwrap_err();
    assert_rejected(&error, &["title is 151 characters; StepStone allows 150"]);
    let error = twin
        .publish(&context(&job, &job.ads["es"], "bcother", "es"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &["StepStone takes ads in de or en; this one is in es"],
    );
    assert_eq!(twin.requests(), before, "nothing was sent");
}

#[tokio::test]
async fn resend_codes_wait_an_hour_and_http_signals_follow_the_shared_classes() {
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["de"], &reference, "de");
    twin.assert_transient_signals(&posting).await;
    assert!(twin.held().is_empty());
}

#[test]
fn the_status_code_table_decides_the_class() {
    let hour = Some(Duration::from_secs(3600));
    for (code, class, retry_after) in [
        (204, ErrorClass::Rejected, None),
        (207, ErrorClass::Rejected, None),
        (320, ErrorClass::Rejected, None),
        (220, ErrorClass::Auth, None),
        (209, ErrorClass::Transient, hour),
        (210, ErrorClass::Transient, hour),
        (230, ErrorClass::Transient, hour),
        (313, ErrorClass::Transient, hour),
        (408, ErrorClass::Transient, hour),
        (500, ErrorClass::Transient, hour),
        (403, ErrorClass::Rejected, None),
        (777, ErrorClass::Ambiguous, hour),
    ] {
        let response = FeedResponse::parse(&format!(
            "<jobfeedresponse><reference>x</reference><status>words {code}</status><statuscode>{code}</statuscode></jobfeedresponse>"
        ))
        .unwrap();
        let error = status_error(&response);
        assert_eq!(error.class, class, "{code}");
        assert_eq!(error.retry_after, retry_after, "{code}");
        assert!(error.message.contains(&format!("words {code}")));
    }
}

/// A control character in a title made the document ill-formed XML 1.0: a
/// strict parser (StepStone's, and the twin's `roxmltree`) refuses it whole.
#[tokio::test]
async fn a_control_character_in_a_value_does_not_break_the_document() {
    let twin = BoardTwin::start(ID).await;
    let (mut job, reference) = contoso();
    job.ads.get_mut("de").unwrap().title = "Account Executive\u{b} (m/w/d)".into();
    job.ads.get_mut("de").unwrap().summary = "Neukunden\u{1}gewinnen.".into();
    let xml = document(&job, "de", &reference, Action::Insert);
    roxmltree::Document::parse(&xml).expect("well-formed XML 1.0");
    let posting = context(&job, &job.ads["de"], &reference, "de");
    assert!(matches!(
        twin.publish(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    assert_eq!(twin.only().title, "Account Executive (m/w/d)");
}
