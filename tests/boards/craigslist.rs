//! Craigslist bulk RSS: the adapter's pure render against golden files, and
//! the adapter against its sandbox twin over real HTTP. No database or broker.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::support::{BoardTwin, assert_rejected, context, publish_samples, sample, settings};
use boardcast::boards::craigslist::{
    Auth, CONTENT_TYPE, ID, Item, Options, PostedStatus, REDACTED, ResponseDocument, document,
    render, render_item, to_xml,
};
use boardcast::boards::{ErrorClass, Receipt};
use boardcast::intake::message::{Job, primary_language};
use boardcast::plan::posting_reference;

/// Placeholder credentials for golden files; never real ones.
const DUMMY: Auth<'static> = Auth {
    username: "bulk-poster@example.com",
    password: "dummy-password",
    account_id: "1234567",
};

fn options() -> Options {
    Options::from_map(&settings().board(ID).expect("[boards.craigslist]").options)
}

#[test]
fn config_section_points_at_the_sandbox() {
    let settings = settings();
    let board = settings.board(ID).expect("[boards.craigslist]");
    assert!(board.enabled);
    assert_eq!(board.base_url, "http://127.0.0.1:8650/craigslist");
    assert_eq!(board.languages, ["en"]);
    assert_eq!(board.countries, ["US"]);
    assert!(board.options.contains_key("account_id"));
    assert!(board.credentials.is_empty(),);
    assert!(
        boardcast::sandbox::TWINS
            .iter()
            .any(|twin| twin.board == ID)
    );
    assert!(boardcast::boards::mechanism(ID).is_some());
}

// ---------------------------------------------------------------------------
// Golden requests.

#[test]
fn golden_requests() {
    let settings = settings();
    let languages = &settings.board(ID).expect("[boards.craigslist]").languages;
    let options = options();
    let mut compared = 0;
    let mut refused = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let posting = context(&job, ad, &reference, locale);
            if !job.locations.iter().any(|l| l.country == "US") {
                let mut countries: Vec<&str> = Vec::new();
                for location in &job.locations {
                    if !countries.contains(&location.country.as_str()) {
                        countries.push(&location.country);
                    }
                }
                let error = render(&posting, &options, &DUMMY)
                    .expect_err(&format!("{stem}.{locale} is refused"));
                assert_eq!(error.class, ErrorClass::Rejected);
                assert_eq!(
                    error.message,
                    format!(
                        "Craigslist publishes jobs in US; this job is in {}",
                        countries.join(", ")
                    )
                );
                refused += 1;
                continue;
            }
            let document = render(&posting, &options, &DUMMY)
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            crate::support::golden(ID, &format!("{stem}.publish.{locale}.xml"), &document);
            compared += 1;
        }
    }
    assert!(compared >= 1, "no sample renders for Craigslist");
    assert!(refused >= 1, "no sample is outside the US");
}

#[test]
fn a_job_with_only_an_apply_url_replies_through_the_account() {
    let (_, mut job) = sample("account-manager");
    job.apply.email = None;
    let posting = context(&job, &job.ads["en"], "bcurlonly", "en");
    let options = options();
    let item = render_item(&posting, &options).unwrap();
    let reply = item.reply_email.unwrap();
    assert_eq!(Some(reply.address), options.reply_email);
    assert_eq!(reply.privacy.as_deref(), Some("A"));
    assert_eq!(
        reply.other_contact_info.as_deref(),
        Some("https://contoso.example/jobs/AM-118")
    );
    assert!(
        item.description
            .unwrap()
            .ends_with("Apply online: https://contoso.example/jobs/AM-118")
    );

    // Without the account's reply address there is nothing to put in cl:replyEmail.
    let error = render_item(&posting, &Options::default()).unwrap_err();
    assert_rejected(
        &error,
        &[
            "Craigslist needs a reply email (cl:replyEmail); this job takes applications by URL only",
        ],
    );
}

#[test]
fn the_area_comes_from_the_first_us_city_we_can_place() {
    let (_, mut job) = sample("account-manager");
    let mut madrid = job.locations[0].clone();
    madrid.city = "Madrid".into();
    madrid.region = None;
    madrid.country = "ES".into();
    let mut springfield = job.locations[0].clone();
    springfield.city = "Springfield".into();
    springfield.region = Some("IL".into());
    let mut portland_me = job.locations[0].clone();
    portland_me.city = "Portland".into();
    portland_me.region = Some("ME".into());
    let mut seattle = job.locations[0].clone();
    seattle.city = "Seattle".into();
    seattle.region = Some("WA".into());

    job.locations = vec![madrid.clone(), springfield.clone(), seattle];
    let item = render_item(&context(&job, &job.ads["en"], "bcarea", "en"), &options()).unwrap();
    assert_eq!(item.area.as_deref(), Some("sea"));

    // An unknown city (and Portland, Maine, which is not Portland, Oregon) is named.
    job.locations = vec![madrid, springfield, portland_me];
    let error =
        render_item(&context(&job, &job.ads["en"], "bcarea", "en"), &options()).unwrap_err();
    assert_rejected(
        &error,
        &["Craigslist posts by area and no area is known for Springfield, IL; Portland, ME"],
    );
}

#[test]
fn the_category_is_mapped_or_taken_from_the_options() {
    let (_, mut job) = sample("account-manager");
    job.category = Some("Software".into());
    let posting = context(&job, &job.ads["en"], "bccat", "en");
    assert_eq!(
        render_item(&posting, &options())
            .unwrap()
            .category
            .as_deref(),
        Some("sof")
    );

    job.category = Some("astrology".into());
    let posting = context(&job, &job.ads["en"], "bccat", "en");
    let error = render_item(&posting, &Options::default()).unwrap_err();
    assert_rejected(
        &error,
        &["Craigslist needs a jobs category and \"astrology\" maps to none"],
    );
    let fallback = Options {
        category: Some("etc".into()),
        ..Options::default()
    };
    assert_eq!(
        render_item(&posting, &fallback)
            .unwrap()
            .category
            .as_deref(),
        Some("etc")
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
async fn publish_validates_then_posts() {
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
    assert!(held.url.starts_with("https://boston.craigslist.org/sls/"));
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));
    assert_eq!(held.content["cl:area"], "bos");
    assert_eq!(held.content["cl:category"], "sls");
    assert_eq!(
        held.content["cl:replyEmail"]["$text"],
        "jobs@contoso.example"
    );
    // Validate, then post.
    assert_eq!(twin.requests(), 2);
}

/// The bulk interface documents posting only: an update or a withdrawal of
/// an ad Craigslist holds sends nothing and tells ops what to do instead.
/// (The old adapter sent an invented `cl:action="update"` / `"delete"` item.)
#[tokio::test]
async fn update_and_withdraw_of_a_posted_ad_send_nothing_and_say_why() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let Receipt::Live { external_id, .. } = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap()
    else {
        panic!("not live");
    };
    let sent = twin.requests();

    let mut revised = job.clone();
    revised.revision = 2;
    revised.ads.get_mut("en").unwrap().title = "Senior Account Manager".into();
    let mut posting = context(&revised, &revised.ads["en"], &reference, "en");
    posting.external_id = Some(&external_id);
    posting.live_at_board = true;

    let error = twin.update(&posting).await.unwrap_err();
    assert_rejected(
        &error,
        &[
            "Craigslist cannot update a posted ad: its bulk posting interface only posts new ads.",
            &format!("Change posting {external_id} by hand in the Craigslist account"),
        ],
    );
    assert_eq!(error.http_status, None);

    let error = twin.withdraw(&posting).await.unwrap_err();
    assert_rejected(
        &error,
        &[
            "Craigslist cannot take down a posted ad",
            &format!("Delete posting {external_id} by hand in the Craigslist account"),
        ],
    );

    // A publish whose answer was lost may have posted it: same answer.
    let mut unsure = context(&job, &job.ads["en"], &reference, "en");
    unsure.may_exist = true;
    let error = twin.withdraw(&unsure).await.unwrap_err();
    assert_rejected(&error, &["Craigslist cannot take down a posted ad"]);

    assert_eq!(twin.requests(), sent, "nothing was sent");
    let held = twin.only();
    assert_eq!(held.title, "Account Manager");
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));
}

#[tokio::test]
async fn an_ad_craigslist_never_got_is_posted_by_an_update_and_withdrawn_already() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["en"], &reference, "en");
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.requests(), 0);
    assert!(matches!(
        twin.update(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 0));
}

/// The attempt's hash must not be a way to test guesses of the account's
/// password (issue 12 finding 14): it covers the document with the
/// credentials redacted. The old adapter hashed the body as sent.
#[tokio::test]
async fn the_request_hash_covers_the_document_without_the_credentials() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["en"], &reference, "en");
    let mut call = boardcast::boards::CallLog::default();
    twin.board.publish(&posting, &mut call).await.unwrap();

    let item = render_item(&posting, &options()).unwrap();
    let account_id = settings().board(ID).unwrap().options["account_id"].clone();
    let sent = to_xml(&document(
        item.clone(),
        &Auth {
            username: twin.credential("username"),
            password: twin.credential("password"),
            account_id: &account_id,
        },
    ));
    let redacted = to_xml(&document(
        item,
        &Auth {
            username: REDACTED,
            password: REDACTED,
            account_id: &account_id,
        },
    ));
    let hash = call.request_hash.expect("a hash of what was sent");
    assert_eq!(hash, boardcast::boards::http::hash(redacted.as_bytes()));
    assert_ne!(hash, boardcast::boards::http::hash(sent.as_bytes()));
}

#[tokio::test]
async fn a_publish_that_may_have_landed_answers_with_the_copy() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let ad = &job.ads["en"];

    // The first send landed but its answer was lost: post the same document
    // straight to the twin, as the adapter would have.
    let auth = Auth {
        username: twin.credential("username"),
        password: twin.credential("password"),
        account_id: "1234567",
    };
    let body = render(&context(&job, ad, &reference, "en"), &options(), &auth).unwrap();
    let response = reqwest::Client::new()
        .post(twin.board_url("/bulk-rss/post"))
        .header("content-type", CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let landed = twin.only();
    assert_eq!(landed.creates, 1);

    // The re-send is recognised at validation [I] and answers with that copy.
    let mut again = context(&job, ad, &reference, "en");
    again.may_exist = true;
    let receipt = twin.publish(&again).await.unwrap();
    assert_eq!(
        receipt,
        Receipt::Live {
            external_id: landed.external_id.clone(),
            url: Some(landed.url.clone())
        }
    );
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates), (1, 0));
    assert_eq!(twin.live_copies(&reference), 1);

    // And a may-exist publish of a posting the board never got creates it once.
    let (_, mut other) = sample("account-manager");
    other.ads.get_mut("en").unwrap().title = "Key Account Manager".into();
    let fresh_reference = "bcfresh";
    let mut fresh = context(&other, &other.ads["en"], fresh_reference, "en");
    fresh.may_exist = true;
    twin.publish(&fresh).await.unwrap();
    let held = twin.held();
    let created = held
        .iter()
        .find(|p| p.reference == fresh_reference)
        .expect("created");
    assert_eq!((created.creates, created.updates), (1, 0));
    assert_eq!(held.len(), 2);
}

#[tokio::test]
async fn the_adapter_refuses_what_breaks_a_rule_before_sending() {
    let twin = twin().await;
    let (mut job, reference) = contoso();

    // Title limit.
    job.ads.get_mut("en").unwrap().title = "A".repeat(71);
    let error = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(&error, &["title is 71 characters; Craigslist allows 70"]);
    assert_eq!(error.http_status, None);

    // Description required.
    let (mut job, _) = contoso();
    job.ads.get_mut("en").unwrap().summary = "  ".into();
    let error = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &["description is 0 characters; Craigslist needs at least 1"],
    );

    // English only.
    let (job, _) = contoso();
    let error = twin
        .publish(&context(&job, &job.ads["es"], &reference, "es"))
        .await
        .unwrap_err();
    assert_rejected(&error, &["Craigslist takes ads in en; this one is in es"]);

    // US only.
    let (_, outside) = sample("sales-account-executive");
    let error = twin
        .publish(&context(&outside, &outside.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &["Craigslist publishes jobs in US; this job is in PT"],
    );

    // A city the area table does not know.
    let (mut job, _) = contoso();
    job.locations[0].city = "Springfield".into();
    job.locations[0].region = Some("IL".into());
    let error = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &["Craigslist posts by area and no area is known for Springfield, IL"],
    );

    // A category that maps to no jobs category (config sets no fallback).
    let (mut job, _) = contoso();
    job.category = Some("astrology".into());
    let error = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(&error, &["\"astrology\" maps to none"]);

    assert_eq!(twin.requests(), 0, "nothing was sent");
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn a_validation_failure_is_rejected_with_craigslists_reason_and_nothing_is_posted() {
    let twin = twin().await;
    let (mut job, reference) = contoso();
    // The intake lets this typo through; Craigslist does not.
    job.apply.email = Some("jobs@@contoso.example".into());
    let error = twin
        .publish(&context(&job, &job.ads["en"], &reference, "en"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &[
            "Craigslist refused the posting",
            "replyEmail \"jobs@@contoso.example\" is not a valid email address",
        ],
    );
    assert_eq!(error.http_status, Some(200));
    assert_eq!(twin.requests(), 1, "validate only: the post was never sent");
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn the_twin_refuses_a_second_posting_of_the_same_ad() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let ad = &job.ads["en"];
    twin.publish(&context(&job, ad, &reference, "en"))
        .await
        .unwrap();
    let first = twin.only();
    let error = twin
        .publish(&context(&job, ad, "bcsamead", "en"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &[&format!(
            "this posting appears to be a duplicate of posting {}",
            first.external_id
        )],
    );
    assert_eq!(twin.held().len(), 1);
}

#[tokio::test]
async fn the_twin_checks_its_rules_on_its_own() {
    let twin = twin().await;
    let (job, reference) = contoso();
    let client = reqwest::Client::new();
    let url = twin.board_url("/bulk-rss/validate");
    let good = Auth {
        username: twin.credential("username"),
        password: twin.credential("password"),
        account_id: "1234567",
    };
    let item = render_item(&context(&job, &job.ads["en"], &reference, "en"), &options()).unwrap();
    let send = |body: String, content_type: &'static str| {
        client
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    // 415: not RSS, or not sent as XML.
    let response = send("<rdf:RDF><channel>".into(), CONTENT_TYPE)
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .starts_with("Failed to parse RSS")
    );
    let body = to_xml(&document(item.clone(), &good));
    let response = send(body, "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(response.status(), 415);

    // 403: the documented auth messages, then refused credentials.
    for (auth, message) in [
        (
            Auth {
                username: "",
                ..good
            },
            "Must supply username",
        ),
        (
            Auth {
                password: "",
                ..good
            },
            "Must supply password",
        ),
        (
            Auth {
                account_id: "",
                ..good
            },
            "AccountID required",
        ),
        (
            Auth {
                password: "wrong",
                ..good
            },
            "Invalid username or password",
        ),
    ] {
        let response = send(to_xml(&document(item.clone(), &auth)), CONTENT_TYPE)
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        assert_eq!(response.text().await.unwrap(), message);
    }

    // 415: what a strict XML 1.0 parser refuses (a control character), and
    // what the interface does not document (the old adapter's invented
    // update and delete items).
    let good_body = to_xml(&document(item.clone(), &good));
    let response = send(
        good_body.replace("Account Manager", "Account Manager\u{b}"),
        CONTENT_TYPE,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 415);
    for (invented, what) in [
        (
            format!("<item rdf:about=\"{reference}\" cl:action=\"delete\">"),
            "unknown attribute cl:action on <item>",
        ),
        (
            format!(
                "<item rdf:about=\"{reference}\">\n    <cl:postingID>7700000001</cl:postingID>"
            ),
            "unknown element cl:postingID in <item>",
        ),
    ] {
        let body = good_body.replace(&format!("<item rdf:about=\"{reference}\">"), &invented);
        assert_ne!(body, good_body);
        let response = send(body, CONTENT_TYPE).await.unwrap();
        assert_eq!(response.status(), 415);
        let words = response.text().await.unwrap();
        assert!(words.contains(what), "{words}");
    }

    // 403 "Location required": an item without cl:mapLocation.
    let mut nowhere = item.clone();
    nowhere.map_location = None;
    let response = send(to_xml(&document(nowhere, &good)), CONTENT_TYPE)
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.text().await.unwrap(), "Location required");

    // 200 with the item invalid: each content rule once.
    let mut cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|i| i.title = Some("A".repeat(71))),
            "title is too long (71 characters; the limit is 70)",
        ),
        (
            Box::new(|i| i.description = None),
            "description is required",
        ),
        (
            Box::new(|i| i.category = Some("jjj".into())),
            "category \"jjj\" is not a jobs category abbreviation",
        ),
        (
            Box::new(|i| i.area = Some("xyz".into())),
            "area \"xyz\" is not a valid area abbreviation",
        ),
        (Box::new(|i| i.reply_email = None), "replyEmail is required"),
        (
            Box::new(|i| {
                if let Some(r) = i.reply_email.as_mut() {
                    r.privacy = Some("X".into())
                }
            }),
            "replyEmail privacy must be A, C or P",
        ),
    ];
    for (edit, reason) in cases.drain(..) {
        let mut broken = item.clone();
        edit(&mut broken);
        let response = send(to_xml(&document(broken, &good)), CONTENT_TYPE)
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let answer: ResponseDocument =
            quick_xml::de::from_str(&response.text().await.unwrap()).unwrap();
        let result = &answer.item[0];
        assert_eq!(result.about, reference);
        assert_eq!(result.status, PostedStatus::Invalid, "{reason}");
        assert_eq!(result.explanation.as_deref(), Some(reason));
        assert_eq!(result.posting_id, None);
    }

    // The valid item validates, and validating holds nothing.
    let response = send(to_xml(&document(item, &good)), CONTENT_TYPE)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("<cl:postedStatus>valid</cl:postedStatus>")
    );
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
    let password = "wrong-password-4711";
    let twin = BoardTwin::start_with(ID, &[("password", password)]).await;
    let (job, reference) = contoso();
    let posting = context(&job, &job.ads["en"], &reference, "en");
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert_eq!(error.http_status, Some(403));
    assert!(error.message.contains("Invalid username or password"));
    assert!(!error.message.contains(password));
    assert!(twin.held().is_empty());
}

/// A change that breaks one of the twin's rules.
type Edit = Box<dyn Fn(&mut Item)>;

/// Log lines, collected for one test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn warnings_are_kept_in_the_log_without_the_credentials() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let twin = twin().await;
    let (mut job, reference) = contoso();
    job.ads.get_mut("en").unwrap().summary =
        "Own key accounts. Questions? Write to hiring@contoso.example.".into();
    let mut call = boardcast::boards::CallLog::default();
    let receipt = twin
        .board
        .publish(&context(&job, &job.ads["en"], &reference, "en"), &mut call)
        .await
        .unwrap();
    let Receipt::Live { external_id, .. } = receipt else {
        panic!("a warning does not fail the posting: {receipt:?}");
    };
    assert_eq!(
        call.notes.len(),
        1,
        "kept for the attempt's history: {:?}",
        call.notes
    );
    assert!(call.notes[0].contains("email addresses in the posting body are hidden"));
    assert!(!call.notes[0].contains(twin.credential("password")));

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("Craigslist accepted the posting with a warning."))
        .unwrap_or_else(|| panic!("no warning logged: {log}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains(&reference), "{line}");
    assert!(line.contains(&external_id), "{line}");
    assert!(
        line.contains("email addresses in the posting body are hidden"),
        "{line}"
    );
    assert!(!log.contains(twin.credential("password")), "{log}");
}
