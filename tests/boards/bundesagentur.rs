//! Bundesagentur für Arbeit: the adapter's pure render against golden files,
//! and the adapter against its sandbox twin over real HTTPS with client
//! certificates (upload accepted → error file read later). No database or
//! broker.

use std::sync::Arc;
use std::time::Duration;

use crate::support::{BoardTwin, context, publish_samples, sample, settings};
use boardcast::boards::bundesagentur::{
    Account, DELETE_MARK, ID, MAX_OBJECTIVE, MAX_TITLE, error_file_name, file_name, form_body,
    render, render_withdrawal,
};
use boardcast::boards::{Board, BoardError, ErrorClass, PostingContext, Receipt};
use boardcast::intake::message::{EmploymentType, Job, primary_language};
use boardcast::plan::posting_reference;
use boardcast::sandbox::{Faults, bundesagentur as twin_knobs, tls};
use secrecy::SecretString;
use time::OffsetDateTime;
use time::macros::datetime;

const AT: OffsetDateTime = datetime!(2026-03-02 09:30:05 UTC);

fn account() -> Account {
    let settings = settings();
    let board = settings.board(ID).expect("[boards.bundesagentur]");
    Account {
        supplier_id: board.options["supplier_id"].clone(),
        hiring_org_id: board.options.get("hiring_org_id").cloned(),
        title_code: board.options.get("title_code").cloned(),
    }
}

fn northwind(locale: &str) -> (Job, String) {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, locale);
    (job, reference)
}

// ---------------------------------------------------------------------------
// Golden requests and the rules render enforces.

#[test]
fn config_section_points_at_the_sandbox_https_desk() {
    let settings = settings();
    let board = settings.board(ID).expect("[boards.bundesagentur]");
    assert!(board.enabled);
    assert_eq!(board.base_url, "https://127.0.0.1:8652/bundesagentur");
    assert_eq!(settings.sandbox.tls_listen, "127.0.0.1:8652");
    for option in ["supplier_id", "partner_id"] {
        assert!(board.options.contains_key(option), "option {option}");
    }
    assert_eq!(boardcast::sandbox::TLS_DESK, ID);
    assert!(boardcast::sandbox::TWINS.iter().any(|twin| twin.board == ID
        && twin.credentials == ["client_cert_pem", "client_key_pem", "server_ca_pem"]));
    assert!(boardcast::boards::mechanism(ID).is_some());
}

#[test]
fn golden_requests() {
    let settings = settings();
    let board = settings.board(ID).expect("[boards.bundesagentur]");
    assert_eq!(board.languages, ["de"]);
    assert_eq!(board.countries, ["DE"]);
    let account = account();
    let mut compared = Vec::new();
    let mut refused = 0;
    for (stem, tenant, job) in publish_samples() {
        let in_germany = job.locations.iter().any(|l| l.country == "DE");
        for (locale, ad) in &job.ads {
            let reference = posting_reference(&tenant, &job.id, locale);
            let posting = context(&job, ad, &reference, locale);
            let language = primary_language(locale);
            if language != "de" || !in_germany {
                let error = render(&posting, &account, AT).expect_err(&format!("{stem}.{locale}"));
                assert_eq!(error.class, ErrorClass::Rejected);
                let expected = if language != "de" {
                    format!(
                        "Bundesagentur für Arbeit takes ads in German (de); this one is in {language}"
                    )
                } else {
                    "Bundesagentur für Arbeit publishes jobs in DE".to_owned()
                };
                assert!(error.message.starts_with(&expected), "{}", error.message);
                refused += 1;
                continue;
            }
            let upload = render(&posting, &account, AT).unwrap_or_else(|e| panic!("{stem}: {e}"));
            assert_eq!(
                upload.file_name,
                "DSP000012345_2026-03-02_09-30-05_F001E.xml"
            );
            crate::support::golden(
                ID,
                &format!("{stem}.publish.{locale}.xml"),
                &upload.document,
            );
            // The form upload around the file, as it goes on the wire.
            let form = form_body(&upload).expect("frames");
            crate::support::golden(
                ID,
                &format!("{stem}.publish.{locale}.form.txt"),
                &String::from_utf8(form).unwrap(),
            );
            // An update uploads the same kind of file.
            let mut revised = job.clone();
            revised.revision += 1;
            let update = render(
                &context(&revised, &revised.ads[locale.as_str()], &reference, locale),
                &account,
                AT,
            )
            .unwrap();
            crate::support::golden(ID, &format!("{stem}.update.{locale}.xml"), &update.document);
            let withdrawal = render_withdrawal(&reference, &account, AT);
            crate::support::golden(
                ID,
                &format!("{stem}.withdraw.{locale}.xml"),
                &withdrawal.document,
            );
            compared.push(format!("{stem}.{locale}"));
        }
    }
    // Only the Northwind job has a German ad and a place of work in Germany.
    assert_eq!(compared, ["account-executive.de"]);
    assert_eq!(refused, 9);
}

#[test]
fn the_document_carries_the_documented_elements() {
    let (job, reference) = northwind("de");
    let upload = render(
        &context(&job, &job.ads["de"], &reference, "de"),
        &account(),
        AT,
    )
    .unwrap();
    let doc = &upload.document;
    for element in [
        "<HRBAXMLJobPositionPosting>",
        "<SupplierId>P000012345</SupplierId>",
        "<Timestamp>2026-03-02T09:30:05Z</Timestamp>",
        "<Amount>1</Amount>",
        "<TypeOfLoad>D</TypeOfLoad>",
        &format!("<JobPositionPostingId>{reference}</JobPositionPostingId>"),
        "<HiringOrgName>Northwind Traders</HiringOrgName>",
        "<StartDate>2026-03-02</StartDate>",
        "<EndDate>2027-01-31</EndDate>",
        "<TitleCode>27446</TitleCode>",
        "<JobPositionTitleDescription>Account Executive (m/w/d)</JobPositionTitleDescription>",
        "<Municipality>Berlin</Municipality>",
        "<KindOfApplication>3</KindOfApplication>",
        "<Salary>48.000 – 72.000 EUR pro Jahr</Salary>",
    ] {
        assert!(doc.contains(element), "{element} missing in\n{doc}");
    }
    // Only the place of work in Germany goes to the BA.
    assert_eq!(doc.matches("<Location>").count(), 1);
    assert!(!doc.contains("Madrid"));
    assert!(!doc.contains("<DeleteEntry>"));

    let withdrawal = render_withdrawal(&reference, &account(), AT);
    assert!(withdrawal.document.contains(&format!(
        "<DeleteEntry>\n      <EntryId>{reference}</EntryId>"
    )));
    assert!(!withdrawal.document.contains("<JobPositionPosting>"));
    assert_eq!(withdrawal.file_name, upload.file_name);
    assert_eq!(
        error_file_name(&upload.file_name),
        "ESP000012345_2026-03-02_09-30-05_F001E.xml"
    );
    assert_eq!(
        file_name("A000000001", datetime!(2026-12-31 23:59:59 UTC)),
        "DSA000000001_2026-12-31_23-59-59_F001E.xml"
    );
}

#[test]
fn the_occupation_code_comes_from_the_category_or_the_option() {
    let (mut job, reference) = northwind("de");
    let render_with = |job: &Job, account: &Account| {
        render(&context(job, &job.ads["de"], &reference, "de"), account, AT)
    };
    job.category = Some("Marketing".into());
    let doc = render_with(&job, &account()).unwrap().document;
    assert!(doc.contains("<TitleCode>27432</TitleCode>"));

    job.category = Some("astrology".into());
    let error = render_with(&job, &account()).unwrap_err();
    assert_eq!(
        error.message,
        "Bundesagentur für Arbeit needs an occupation code (TitleCode) for every job: the category \
         \"astrology\" maps to none, and [boards.bundesagentur.options] title_code is not set"
    );
    job.category = None;
    let error = render_with(&job, &account()).unwrap_err();
    assert!(error.message.contains("the job has no category"), "{error}");

    let with_option = Account {
        title_code: Some("271".into()),
        ..account()
    };
    let doc = render_with(&job, &with_option).unwrap().document;
    assert!(doc.contains("<TitleCode>271</TitleCode>"));
}

// ---------------------------------------------------------------------------
// Against the twin, over HTTPS with the sandbox's client certificate.

async fn twin() -> BoardTwin {
    BoardTwin::start(ID).await
}

/// The adapter against `twin` with some options and credentials replaced.
fn adapter_with(
    twin: &BoardTwin,
    options: &[(&str, &str)],
    credentials: &[(&str, &str)],
) -> Arc<dyn Board> {
    let mut settings = settings();
    let board = settings.boards.get_mut(ID).expect("[boards.bundesagentur]");
    board.base_url = twin.adapter_url.clone();
    board.request_timeout_ms = Some(5_000);
    for (name, value) in &twin.sandbox.credentials()[ID] {
        board
            .credentials
            .insert(name.clone(), SecretString::from(value.clone()));
    }
    for (name, value) in credentials {
        board
            .credentials
            .insert((*name).to_owned(), SecretString::from(*value));
    }
    for (name, value) in options {
        board
            .options
            .insert((*name).to_owned(), (*value).to_owned());
    }
    boardcast::boards::build_one(&settings, ID).expect("the bundesagentur adapter builds")
}

fn task_of(receipt: &Receipt, reference: &str) -> String {
    match receipt {
        Receipt::Accepted {
            task,
            external_id: Some(id),
        } => {
            assert_eq!(id, reference, "the BA knows the posting by our reference");
            assert!(task.starts_with("DSP000012345_"), "{task}");
            task.clone()
        }
        other => panic!("expected Accepted with the file name, got {other:?}"),
    }
}

async fn confirm_on(
    board: &dyn Board,
    posting: &PostingContext<'_>,
    task: &str,
) -> Result<Receipt, BoardError> {
    board
        .confirm(posting, task, &mut boardcast::boards::CallLog::default())
        .await
}

/// Reads the error file until it is there (each read counts; no sleeps).
async fn settle(twin: &BoardTwin, posting: &PostingContext<'_>, task: &str) -> Receipt {
    for _ in 0..5 {
        match twin.confirm(posting, task).await.unwrap() {
            Receipt::Pending => continue,
            other => return other,
        }
    }
    panic!("{task}: no error file after five reads");
}

#[tokio::test]
async fn upload_is_submitted_then_the_error_file_makes_it_posted() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let posting = context(&job, &job.ads["de"], &reference, "de");

    let task = task_of(&twin.publish(&posting).await.unwrap(), &reference);
    assert!(task.ends_with("_F001E.xml"), "{task}");
    let held = twin.only();
    assert_eq!(held.reference, reference);
    assert_eq!(held.title, "Account Executive (m/w/d)");
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));
    assert_eq!(
        held.content["JobPositionInformation"]["JobPositionTitle"]["TitleCode"],
        "27446"
    );

    // The BA has not written the error file yet: pending, then posted.
    assert_eq!(
        twin.confirm(&posting, &task).await.unwrap(),
        Receipt::Pending
    );
    assert_eq!(
        twin.confirm(&posting, &task).await.unwrap(),
        Receipt::Live {
            external_id: reference.clone(),
            url: None
        }
    );
    assert_eq!(twin.requests(), 3, "one upload, two reads");
}

#[tokio::test]
async fn a_board_that_processes_at_once_has_the_file_on_the_first_read() {
    let twin = twin().await;
    twin_knobs::set_polls_before_result(&twin.sandbox, 0);
    let (job, reference) = northwind("de");
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let task = task_of(&twin.publish(&posting).await.unwrap(), &reference);
    assert!(matches!(
        twin.confirm(&posting, &task).await.unwrap(),
        Receipt::Live { .. }
    ));
}

#[tokio::test]
async fn publish_update_withdraw_and_back() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let first = context(&job, &job.ads["de"], &reference, "de");
    let task = task_of(&twin.publish(&first).await.unwrap(), &reference);
    assert!(matches!(
        settle(&twin, &first, &task).await,
        Receipt::Live { .. }
    ));

    let mut revised = job.clone();
    revised.revision = 2;
    revised.ads.get_mut("de").unwrap().title = "Senior Account Executive (m/w/d)".into();
    let mut posting = context(&revised, &revised.ads["de"], &reference, "de");
    posting.external_id = Some(&reference);
    posting.live_at_board = true;
    let update = task_of(&twin.update(&posting).await.unwrap(), &reference);
    assert_ne!(update, task, "every upload has a file name of its own");
    assert!(matches!(
        settle(&twin, &posting, &update).await,
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!(held.title, "Senior Account Executive (m/w/d)");
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 0));

    // DeleteEntry: accepted, then withdrawn once the error file shows no error.
    let withdrawal = twin.withdraw(&posting).await.unwrap();
    let delete = task_of(&withdrawal, &reference);
    assert!(delete.ends_with(DELETE_MARK), "{delete}");
    assert_eq!(
        twin.confirm(&posting, &delete).await.unwrap(),
        Receipt::Pending
    );
    assert_eq!(
        twin.confirm(&posting, &delete).await.unwrap(),
        Receipt::Withdrawn
    );
    let held = twin.only();
    assert!(!held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 1));

    // Deleting again: the BA no longer holds it (E201), which is withdrawn too.
    let again = task_of(&twin.withdraw(&posting).await.unwrap(), &reference);
    assert_eq!(settle(&twin, &posting, &again).await, Receipt::Withdrawn);
    assert_eq!(twin.only().withdrawals, 1);

    // An update after the withdrawal puts the offer back online.
    posting.live_at_board = false;
    let back = task_of(&twin.update(&posting).await.unwrap(), &reference);
    assert!(matches!(
        settle(&twin, &posting, &back).await,
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 2, 1));
    assert_eq!(twin.live_copies(&reference), 1);
}

#[tokio::test]
async fn withdrawing_what_the_ba_never_had_is_withdrawn() {
    let twin = twin().await;
    let (job, _) = northwind("de");
    let never = context(&job, &job.ads["de"], "bcneverpublished0000", "de");
    let task = task_of(
        &twin.withdraw(&never).await.unwrap(),
        "bcneverpublished0000",
    );
    assert_eq!(settle(&twin, &never, &task).await, Receipt::Withdrawn);
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn a_publish_that_may_have_landed_makes_no_second_copy() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let mut posting = context(&job, &job.ads["de"], &reference, "de");
    task_of(&twin.publish(&posting).await.unwrap(), &reference);
    posting.may_exist = true;
    let task = task_of(&twin.publish(&posting).await.unwrap(), &reference);
    assert!(matches!(
        settle(&twin, &posting, &task).await,
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 1));
    assert_eq!(twin.live_copies(&reference), 1);
}

#[tokio::test]
async fn rules_are_refused_by_the_adapter_before_anything_is_sent() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let check = |job: Job, locale: &'static str, expected: String| {
        let twin = &twin;
        let reference = reference.clone();
        async move {
            let posting = context(&job, &job.ads[locale], &reference, locale);
            let error = twin.publish(&posting).await.unwrap_err();
            assert_eq!(error.class, ErrorClass::Rejected, "{error:?}");
            assert_eq!(error.message, expected);
        }
    };

    let mut no_code = job.clone();
    no_code.category = None;
    check(
        no_code,
        "de",
        "Bundesagentur für Arbeit needs an occupation code (TitleCode) for every job: the job has \
         no category, and [boards.bundesagentur.options] title_code is not set"
            .into(),
    )
    .await;

    let mut long_title = job.clone();
    long_title.ads.get_mut("de").unwrap().title = "Ä".repeat(MAX_TITLE + 1);
    check(
        long_title,
        "de",
        format!("title is 101 characters; Bundesagentur für Arbeit allows {MAX_TITLE}"),
    )
    .await;

    let mut long_text = job.clone();
    long_text.ads.get_mut("de").unwrap().summary = "ü".repeat(MAX_OBJECTIVE);
    let error_text = {
        let posting = context(&long_text, &long_text.ads["de"], &reference, "de");
        twin.publish(&posting).await.unwrap_err().message
    };
    assert!(
        error_text.starts_with("description is ")
            && error_text.ends_with("characters; Bundesagentur für Arbeit allows 4000"),
        "{error_text}"
    );

    check(
        job.clone(),
        "en",
        "Bundesagentur für Arbeit takes ads in German (de); this one is in en".into(),
    )
    .await;

    let mut abroad = job.clone();
    abroad.locations.retain(|l| l.country != "DE");
    check(
        abroad,
        "de",
        "Bundesagentur für Arbeit publishes jobs in DE; this job is in ES, FR, GR, PT, IE".into(),
    )
    .await;

    let mut volunteer = job.clone();
    volunteer.employment_type = EmploymentType::Volunteer;
    check(
        volunteer,
        "de",
        "Bundesagentur für Arbeit takes offers of work, training and internships; a volunteer \
         position has no JobOfferType"
            .into(),
    )
    .await;

    assert_eq!(twin.requests(), 0, "nothing was sent");
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn an_entry_the_ba_refuses_in_its_error_file_is_rejected_with_the_bas_code() {
    let twin = twin().await;
    // A code the BA's catalogue does not have: the file is valid, the entry is not.
    let board = adapter_with(&twin, &[("title_code", "99999")], &[]);
    let (mut job, reference) = northwind("de");
    job.category = Some("astrology".into());
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let mut log = boardcast::boards::CallLog::default();
    let task = task_of(
        &board.publish(&posting, &mut log).await.unwrap(),
        &reference,
    );
    assert_eq!(log.http_status, Some(201));
    assert_eq!(
        confirm_on(board.as_ref(), &posting, &task).await.unwrap(),
        Receipt::Pending
    );
    let error = confirm_on(board.as_ref(), &posting, &task)
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert_eq!(
        error.message,
        format!(
            "Bundesagentur für Arbeit refused {reference} in {}: E101: Der Berufscode (TitleCode) \
             99999 ist im Berufekatalog nicht vorhanden.",
            task
        )
    );
    assert!(twin.held().is_empty(), "the BA holds no refused offer");

    // A rule only the BA checks: the end of the publication before its start.
    let (mut job, reference) = northwind("de");
    job.valid_through = Some(datetime!(2020-01-31 23:59:59 UTC));
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let task = task_of(&twin.publish(&posting).await.unwrap(), &reference);
    assert_eq!(
        twin.confirm(&posting, &task).await.unwrap(),
        Receipt::Pending
    );
    let error = twin.confirm(&posting, &task).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert!(
        error
            .message
            .contains("E103: Das Enddatum 2020-01-31 liegt vor dem Beginn der Veröffentlichung"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn german_text_arrives_byte_for_byte() {
    let twin = twin().await;
    let (mut job, reference) = northwind("de");
    let title = "Kundenberater für Großkunden (m/w/d) – Süd & Österreich";
    {
        let ad = job.ads.get_mut("de").unwrap();
        ad.title = title.into();
        ad.summary =
            "Sie übernehmen Verantwortung: Geschäftsführung, Änderungen, \"Maß\" <und> Qualität."
                .into();
    }
    job.company.name = "Müller & Söhne GmbH".into();
    job.locations[1].city = "München".into();
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let upload = render(&posting, &account(), AT).unwrap();
    // UTF-8 as is: only XML's own characters are escaped.
    assert!(
        upload
            .document
            .contains("Großkunden (m/w/d) – Süd &amp; Österreich")
    );
    assert!(upload.document.contains("\"Maß\" &lt;und&gt; Qualität"));
    assert!(!upload.document.contains("&#"));

    let task = task_of(&twin.publish(&posting).await.unwrap(), &reference);
    assert!(matches!(
        settle(&twin, &posting, &task).await,
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!(held.title.as_bytes(), title.as_bytes());
    let info = &held.content["JobPositionInformation"];
    let objective = info["Objective"].as_str().unwrap();
    assert!(objective.starts_with(
        "Sie übernehmen Verantwortung: Geschäftsführung, Änderungen, \"Maß\" <und> Qualität.\n\nIhre Aufgaben:\n- Geschäftspläne"
    ), "{objective}");
    assert_eq!(
        held.content["HiringOrg"]["HiringOrgName"],
        "Müller & Söhne GmbH"
    );
    assert_eq!(
        info["JobPositionDescription"]["JobPositionLocation"]["Location"][0]["Municipality"],
        "München"
    );
}

#[tokio::test]
async fn throttling_and_failures_are_classified_and_healing_takes_it_once() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let posting = context(&job, &job.ads["de"], &reference, "de");

    twin.faults(Faults {
        fail_times: 1,
        fail_status: 503,
        ..Faults::default()
    });
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Transient, "{error:?}");
    assert_eq!(error.http_status, Some(503));

    twin.faults(Faults {
        fail_times: 1,
        fail_status: 500,
        ..Faults::default()
    });
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Ambiguous, "{error:?}");

    twin.faults(Faults {
        throttle_times: 1,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Throttled, "{error:?}");
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
    assert!(twin.held().is_empty(), "a refused upload changes nothing");

    // Reading the error file is throttled the same way; the task stays.
    twin.faults(Faults::default());
    let task = task_of(&twin.publish(&posting).await.unwrap(), &reference);
    twin.faults(Faults {
        fail_times: 1,
        fail_status: 503,
        ..Faults::default()
    });
    let error = twin.confirm(&posting, &task).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Transient);
    assert!(matches!(
        settle(&twin, &posting, &task).await,
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 0));
}

#[tokio::test]
async fn a_timeout_after_the_upload_is_ambiguous() {
    let twin = twin().await;
    let board = {
        let mut settings = settings();
        let b = settings.boards.get_mut(ID).unwrap();
        b.base_url = twin.adapter_url.clone();
        b.request_timeout_ms = Some(300);
        for (name, value) in &twin.sandbox.credentials()[ID] {
            b.credentials
                .insert(name.clone(), SecretString::from(value.clone()));
        }
        boardcast::boards::build_one(&settings, ID).unwrap()
    };
    twin.faults(Faults {
        hang_times: 1,
        ..Faults::default()
    });
    let (job, reference) = northwind("de");
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let error = board
        .publish(&posting, &mut boardcast::boards::CallLog::default())
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Ambiguous, "{error:?}");
    // The BA took it: the retry (may_exist) replaces, never duplicates.
    assert_eq!(twin.only().creates, 1);
}

#[tokio::test]
async fn a_wrong_client_certificate_is_an_auth_failure() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let posting = context(&job, &job.ads["de"], &reference, "de");

    // A certificate from another CA: the handshake fails, nothing arrives.
    let stranger = tls::issue("somebody else");
    let board = adapter_with(
        &twin,
        &[],
        &[
            (tls::CLIENT_CERT, stranger[tls::CLIENT_CERT].as_str()),
            (tls::CLIENT_KEY, stranger[tls::CLIENT_KEY].as_str()),
        ],
    );
    let mut log = boardcast::boards::CallLog::default();
    let error = board.publish(&posting, &mut log).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert!(
        error.message.contains("refused our client certificate"),
        "{}",
        error.message
    );
    let error = confirm_on(
        board.as_ref(),
        &posting,
        "DSP000012345_2026-03-02_09-30-05_F001E.xml",
    )
    .await
    .unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");

    // A server we cannot verify (its CA is not the one configured).
    let board = adapter_with(
        &twin,
        &[],
        &[(tls::SERVER_CA, stranger[tls::SERVER_CA].as_str())],
    );
    let error = board
        .publish(&posting, &mut boardcast::boards::CallLog::default())
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert!(
        error.message.contains("server certificate"),
        "{}",
        error.message
    );

    assert_eq!(twin.requests(), 0);
    assert!(twin.held().is_empty());

    // The right certificate still works.
    assert!(twin.publish(&posting).await.is_ok());
}

#[test]
fn unreadable_certificates_fail_the_build_naming_the_credential() {
    let mut settings = settings();
    let board = settings.boards.get_mut(ID).unwrap();
    board.credentials.insert(
        "client_cert_pem".into(),
        SecretString::from("not a certificate"),
    );
    board
        .credentials
        .insert("client_key_pem".into(), SecretString::from("nor a key"));
    let error = boardcast::boards::build_one(&settings, ID)
        .err()
        .expect("the build fails");
    let text = error.to_string();
    assert!(
        text.starts_with("board \"bundesagentur\" needs credential \"client_cert_pem\""),
        "{text}"
    );

    let mut settings = crate::support::settings();
    let board = settings.boards.get_mut(ID).unwrap();
    board.credentials.clear();
    let error = boardcast::boards::build_one(&settings, ID)
        .err()
        .expect("the build fails");
    assert!(error.to_string().contains("client_cert_pem"), "{error}");
}

// ---------------------------------------------------------------------------
// Hand-made files straight to the twin.

/// A client with the sandbox's certificate (or none).
fn raw_client(twin: &BoardTwin, with_certificate: bool) -> reqwest::Client {
    let credentials = &twin.sandbox.credentials()[ID];
    let ca = reqwest::Certificate::from_pem_bundle(credentials[tls::SERVER_CA].as_bytes()).unwrap();
    let mut builder = reqwest::Client::builder().tls_certs_only(ca);
    if with_certificate {
        let pem = format!(
            "{}\n{}",
            credentials[tls::CLIENT_CERT],
            credentials[tls::CLIENT_KEY]
        );
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

/// A form upload as a browser sends it (RFC 7578), framed here, not by the adapter.
fn form(name: &str, body: &str) -> (String, String) {
    let boundary = "----browserform4711";
    (
        format!("multipart/form-data; boundary={boundary}"),
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n{body}\r\n--{boundary}--\r\n"
        ),
    )
}

async fn put_file(twin: &BoardTwin, name: &str, body: &str) -> (u16, String) {
    let (content_type, form) = form(name, body);
    let response = raw_client(twin, true)
        .post(format!("{}/in/", twin.adapter_url))
        .header("content-type", content_type)
        .body(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Real clients submit the portal's HTML form at `/in/` (pludoni/ba_upload);
/// the old adapter's `PUT /in/<file>` is no route of the BA's. The adapter's
/// own uploads reach the form under the account's Partner ID path.
#[tokio::test]
async fn the_upload_is_the_form_post_not_a_put() {
    let twin = twin().await;
    let (name, document) = valid_file();
    let response = raw_client(&twin, true)
        .put(format!("{}/in/{name}", twin.adapter_url))
        .header("content-type", "application/xml; charset=utf-8")
        .body(document.clone())
        .send()
        .await
        .unwrap();
    assert!(
        matches!(response.status().as_u16(), 404 | 405),
        "{}",
        response.status()
    );
    // Not a form upload: the XML posted bare.
    let response = raw_client(&twin, true)
        .post(format!("{}/in/", twin.adapter_url))
        .header("content-type", "application/xml; charset=utf-8")
        .body(document.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("multipart/form-data")
    );
    assert!(twin.held().is_empty());

    // The adapter's upload: a form post under daten/<partner id>/, taken.
    let (job, reference) = northwind("de");
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let task = task_of(&twin.publish(&posting).await.unwrap(), &reference);
    assert!(task.starts_with("DSP000012345_"), "{task}");
    assert!(matches!(
        settle(&twin, &posting, &task).await,
        Receipt::Live { .. }
    ));
    assert_eq!(twin.only().creates, 1);
}

/// Issue 12 finding 2: a far-future `valid_through` panicked in
/// `to_offset(UTC)` (10000-01-01 UTC is past what `time` holds). Now it is
/// a rule failure naming the date, and nothing is sent.
#[tokio::test]
async fn a_far_future_end_date_is_refused_not_a_panic() {
    let (mut job, reference) = northwind("de");
    job.valid_through = Some(datetime!(9999-12-31 23:00:00 -05:00));
    let posting = context(&job, &job.ads["de"], &reference, "de");
    let error = render(&posting, &account(), AT).unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert!(
        error.message.contains("takes dates up to 9999-12-31 (UTC)"),
        "{}",
        error.message
    );
    let twin = twin().await;
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert_eq!(twin.requests(), 0);

    // The last day that fits is still fine.
    job.valid_through = Some(datetime!(9999-12-31 12:00:00 UTC));
    let posting = context(&job, &job.ads["de"], &reference, "de");
    assert!(render(&posting, &account(), AT).is_ok());
}

fn valid_file() -> (String, String) {
    let (job, reference) = northwind("de");
    let upload = render(
        &context(&job, &job.ads["de"], &reference, "de"),
        &account(),
        AT,
    )
    .unwrap();
    (upload.file_name, upload.document)
}

#[tokio::test]
async fn the_twin_refuses_files_that_break_the_schema() {
    let twin = twin().await;
    let (name, document) = valid_file();

    let (status, body) = put_file(&twin, "jobs.xml", &document).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("entspricht nicht der Konvention DS{SupplierId}"),
        "{body}"
    );

    let (status, body) = put_file(&twin, &name, "<HRBAXMLJobPositionPosting><Header>").await;
    assert_eq!(status, 400);
    assert!(body.contains("kein wohlgeformtes XML"), "{body}");

    // A control character XML 1.0 cannot carry: a strict parser refuses it.
    let control = document.replace(
        "Account Executive (m/w/d)<",
        "Account Executive (m/w/d)\u{b}<",
    );
    assert_ne!(control, document);
    let (status, body) = put_file(&twin, &name, &control).await;
    assert_eq!(status, 400);
    assert!(body.contains("kein wohlgeformtes XML"), "{body}");

    let (status, body) = put_file(&twin, &name, "<jobs/>").await;
    assert_eq!(status, 400);
    assert!(body.contains("cvc-elt.1.a"), "{body}");

    let no_code = document.replace("<TitleCode>27446</TitleCode>", "");
    let (status, body) = put_file(&twin, &name, &no_code).await;
    assert_eq!(status, 400);
    assert!(
        body.contains(
            "cvc-complex-type.2.4.b: The content of element 'JobPositionTitle' is not complete. One of '{TitleCode}' is expected."
        ),
        "{body}"
    );

    let long = document.replace(
        "Account Executive (m/w/d)</JobPositionTitleDescription>",
        &format!("{}</JobPositionTitleDescription>", "ß".repeat(101)),
    );
    let (status, body) = put_file(&twin, &name, &long).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("maxLength '100' for element 'JobPositionTitleDescription'"),
        "{body}"
    );

    let other_supplier = name.replace("DSP000012345", "DSP000099999");
    let (status, body) = put_file(&twin, &other_supplier, &document).await;
    assert_eq!(status, 400);
    assert!(body.contains("stimmt nicht mit dem Dateinamen"), "{body}");

    let wrong_amount = document.replace("<Amount>1</Amount>", "<Amount>2</Amount>");
    let (status, body) = put_file(&twin, &name, &wrong_amount).await;
    assert_eq!(status, 400);
    assert!(body.contains("Amount '2'"), "{body}");

    // Nothing refused counted as a file; the valid one is taken once.
    assert!(twin.held().is_empty());
    assert_eq!(put_file(&twin, &name, &document).await.0, 201);
    let (status, body) = put_file(&twin, &name, &document).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(twin.only().creates, 1);
}

#[tokio::test]
async fn a_full_load_takes_down_what_it_leaves_out() {
    let twin = twin().await;
    let (job, reference) = northwind("de");
    let posting = context(&job, &job.ads["de"], &reference, "de");
    task_of(&twin.publish(&posting).await.unwrap(), &reference);
    assert!(twin.only().live);

    // A full load with one other offer: ours goes offline.
    let other = context(&job, &job.ads["de"], "bcanotherposting0000", "de");
    let upload = render(&other, &account(), datetime!(2026-03-02 10:00:00 UTC)).unwrap();
    let full = upload
        .document
        .replace("<TypeOfLoad>D</TypeOfLoad>", "<TypeOfLoad>F</TypeOfLoad>");
    assert_eq!(put_file(&twin, &upload.file_name, &full).await.0, 201);
    let held = twin.held();
    assert_eq!(held.len(), 2);
    let ours = held.iter().find(|p| p.reference == reference).unwrap();
    assert!(!ours.live);
    assert_eq!(ours.withdrawals, 1);
    assert_eq!(twin.live_copies("bcanotherposting0000"), 1);
}

#[tokio::test]
async fn the_desk_wants_https_with_the_certificate() {
    let twin = twin().await;
    let (name, document) = valid_file();

    // No client certificate: the handshake fails.
    let (content_type, body) = form(&name, &document);
    let result = raw_client(&twin, false)
        .post(format!("{}/in/", twin.adapter_url))
        .header("content-type", content_type.clone())
        .body(body.clone())
        .send()
        .await;
    assert!(result.is_err(), "{result:?}");

    // Plain HTTP on the sandbox's other listener: refused.
    let response = reqwest::Client::new()
        .post(twin.board_url("/in/"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(twin.requests(), 0);
    assert!(twin.held().is_empty());
}
