//! Kariera.gr by e-mail: golden messages for the samples, and the adapter
//! against the sandbox's SMTP desk over a real SMTP session. No database or
//! broker.

use crate::support::{BoardTwin, context, publish_samples, sample};
use boardcast::boards::ErrorClass;
use boardcast::boards::kariera::{ID, Operation, render};
use boardcast::plan::posting_reference;
use boardcast::sandbox::Faults;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[test]
fn golden_messages() {
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !["el", "en"].contains(&locale.as_str()) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let mail = render(&context(&job, ad, &reference, locale), Operation::New)
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            let text = format!(
                "Subject: {}\nMessage-ID: {}\nReply-To: {}\n\n{}",
                mail.subject,
                mail.message_id,
                mail.reply_to.as_deref().unwrap_or("-"),
                mail.body
            );
            crate::support::golden(ID, &format!("{stem}.publish.{locale}.txt"), &text);
            compared += 1;
        }
    }
    assert!(compared >= 4, "{compared}");

    // One golden per further operation.
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "el");
    for (operation, name) in [
        (Operation::Update, "update"),
        (Operation::Withdraw, "withdraw"),
    ] {
        let mail = render(&context(&job, &job.ads["el"], &reference, "el"), operation).unwrap();
        let text = format!(
            "Subject: {}\nMessage-ID: {}\nReply-To: {}\n\n{}",
            mail.subject,
            mail.message_id,
            mail.reply_to.as_deref().unwrap_or("-"),
            mail.body
        );
        crate::support::golden(ID, &format!("account-executive.{name}.el.txt"), &text);
    }
}

#[test]
fn titles_over_the_limit_and_no_way_to_apply_are_refused() {
    let (tenant, mut job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "el");
    job.ads.get_mut("el").unwrap().title = "Α".repeat(101);
    let error = render(
        &context(&job, &job.ads["el"], &reference, "el"),
        Operation::New,
    )
    .unwrap_err();
    assert_eq!(
        error.message,
        "title is 101 characters; Kariera.gr allows 100"
    );

    let (_, mut job) = sample("account-executive");
    job.apply.url = None;
    job.apply.email = None;
    let error = render(
        &context(&job, &job.ads["el"], &reference, "el"),
        Operation::New,
    )
    .unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert!(error.message.contains("apply"), "{}", error.message);
}

#[tokio::test]
async fn greek_arrives_intact_through_publish_update_withdraw() {
    let twin = BoardTwin::start(ID).await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "el");
    let ad = &job.ads["el"];
    let mut posting = context(&job, ad, &reference, "el");
    posting.idempotency_key = uuid::Uuid::new_v4();

    let receipt = twin.publish(&posting).await.unwrap();
    assert!(
        matches!(receipt, boardcast::boards::Receipt::Live { .. }),
        "{receipt:?}"
    );
    let held = twin.only();
    assert_eq!(held.title, ad.title, "the Greek title, byte for byte");
    let expected = render(&posting, Operation::New).unwrap();
    assert_eq!(held.content["subject"], expected.subject);
    assert_eq!(
        held.content["body"], expected.body,
        "the Greek body, byte for byte"
    );
    assert_eq!(held.content["charset"], "utf-8");

    // The answer was lost and the same message goes again: the desk drops it.
    twin.publish(&posting).await.unwrap();
    assert_eq!((twin.only().creates, twin.only().updates), (1, 0));

    let mut revised = job.clone();
    revised.ads.get_mut("el").unwrap().title = "Ανώτερο Στέλεχος Λογαριασμών".into();
    let mut update = context(&revised, &revised.ads["el"], &reference, "el");
    update.idempotency_key = uuid::Uuid::new_v4();
    update.live_at_board = true;
    twin.update(&update).await.unwrap();
    let held = twin.only();
    assert_eq!(held.title, "Ανώτερο Στέλεχος Λογαριασμών");
    assert_eq!((held.creates, held.updates), (1, 1));

    let mut withdraw = update;
    withdraw.idempotency_key = uuid::Uuid::new_v4();
    assert_eq!(
        twin.withdraw(&withdraw).await.unwrap(),
        boardcast::boards::Receipt::Withdrawn
    );
    let held = twin.only();
    assert!(!held.live);
    assert_eq!(held.withdrawals, 1);
}

#[tokio::test]
async fn smtp_signals_are_classified() {
    let twin = BoardTwin::start(ID).await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "en");
    let mut posting = context(&job, &job.ads["en"], &reference, "en");
    posting.idempotency_key = uuid::Uuid::new_v4();

    twin.faults(Faults {
        fail_times: 1,
        ..Faults::default()
    });
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(
        (error.class, error.http_status),
        (ErrorClass::Transient, Some(451))
    );

    twin.faults(Faults {
        throttle_times: 1,
        ..Faults::default()
    });
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(
        (error.class, error.http_status),
        (ErrorClass::Throttled, Some(421))
    );
    assert!(twin.held().is_empty(), "refused messages change nothing");

    let wrong = twin.adapter_with(&[("smtp_password", "not-it")]);
    let error = wrong
        .publish(&posting, &mut Default::default())
        .await
        .unwrap_err();
    assert_eq!(
        (error.class, error.http_status),
        (ErrorClass::Auth, Some(535))
    );
    assert!(!error.message.contains("not-it"), "{}", error.message);

    twin.publish(&posting).await.unwrap();
    assert_eq!(twin.only().creates, 1);
}

/// The desk's own rules, on messages made by hand.
#[tokio::test]
async fn the_desk_checks_on_its_own() {
    let twin = BoardTwin::start(ID).await;
    let address = twin.adapter_url.trim_start_matches("smtp://").to_owned();
    let (host, port) = address.split_once(':').unwrap();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port.parse().unwrap())
        .credentials(Credentials::new(
            twin.credential("smtp_username").to_owned(),
            twin.credential("smtp_password").to_owned(),
        ))
        .build();
    let send = |subject: &str, to: &str, body: &str| {
        Message::builder()
            .from("ats@example.com".parse().unwrap())
            .to(to.parse().unwrap())
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .unwrap()
    };
    let desk = boardcast::sandbox::kariera::POSTING_ADDRESS;
    let cases = [
        (
            send("Hello", desk, "apply: https://x.example"),
            550,
            "is not NEW|UPDATE|WITHDRAW",
        ),
        (
            send(
                "NEW bcabc: Chef | X | Athens",
                "someone@kariera.example",
                "https://x",
            ),
            550,
            "no such mailbox",
        ),
        (
            send("NEW bcabc: Chef | X | Athens", desk, "call us"),
            550,
            "no way to apply",
        ),
        (
            send("UPDATE bcnothing: Chef | X | Athens", desk, "https://x"),
            550,
            "no ad with reference",
        ),
        (
            send(
                "NEW bcabc: Chef | X | Athens",
                desk,
                "Position: Chef\r\nApply: https://x\r\nReference: bcabc\r\nReference: forged\r\n\r\nAd.",
            ),
            550,
            "names Reference twice",
        ),
        (
            send(
                "NEW bcabc: Chef | X | Athens",
                desk,
                "Position: Chef\r\nApply: https://x\r\nReference: bcother\r\n\r\nAd.",
            ),
            550,
            "the reference line says bcother",
        ),
    ];
    for (message, code, words) in cases {
        let error = transport.send(message).await.unwrap_err();
        assert_eq!(error.status().map(u16::from), Some(code), "{error}");
        assert!(error.to_string().contains(words), "{error}");
    }
    assert!(twin.held().is_empty());
}

/// Issue 12 finding 18: an apply URL (or any other value) with CR/LF must
/// not forge a labelled line or a header. The old render copied values
/// verbatim, so the body held a second `Reference:` line of the sender's.
#[test]
fn line_breaks_in_values_cannot_forge_a_labelled_line() {
    let (tenant, mut job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "en");
    job.apply.url = Some("https://contoso.example/jobs/1\r\nReference: forged\nSalary: 1M".into());
    job.company.name = "Contoso\r\nApply: https://evil.example".into();
    let ad = job.ads.get_mut("en").unwrap();
    ad.title = "Account Executive\r\nBcc: victim@example.com".into();
    ad.summary = "First paragraph.\r\n\r\nSecond\u{0}\u{1b} paragraph.\rThird.".into();
    ad.requirements = vec!["Greek\nReference: forged too".into()];
    let mail = render(
        &context(&job, &job.ads["en"], &reference, "en"),
        Operation::New,
    )
    .unwrap();

    assert!(!mail.subject.contains(['\r', '\n']), "{:?}", mail.subject);
    let lines: Vec<&str> = mail.body.split("\r\n").collect();
    let labelled = |label: &str| lines.iter().filter(|l| l.starts_with(label)).count();
    assert_eq!(labelled("Reference:"), 1, "{lines:#?}");
    assert_eq!(labelled("Salary:"), 1, "the job's own: {lines:#?}");
    assert_eq!(labelled("Apply:"), 1, "{lines:#?}");
    assert_eq!(labelled("Bcc:"), 0, "{lines:#?}");
    assert!(lines.contains(&format!("Reference: {reference}").as_str()));
    assert!(lines.contains(&"Apply: https://contoso.example/jobs/1  Reference: forged Salary: 1M"));
    // No bare CR or LF anywhere: every line ends in CRLF.
    assert!(!mail.body.replace("\r\n", "").contains(['\r', '\n']));
    // The ad's own paragraphs survive, without the other control characters.
    assert!(lines.contains(&"Second paragraph."), "{lines:#?}");
    assert!(lines.contains(&"Third."), "{lines:#?}");
    assert!(
        lines.contains(&"- Greek Reference: forged too"),
        "{lines:#?}"
    );
}

/// The desk (its own reading of the labelled block) takes an ad whose
/// apply URL carried CR/LF once the adapter keeps every value on its line;
/// the old adapter's message named `Reference` twice and was refused.
#[tokio::test]
async fn the_desk_takes_an_ad_whose_values_carried_line_breaks() {
    let twin = BoardTwin::start(ID).await;
    let (tenant, mut job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "el");
    job.apply.url = Some("https://contoso.example/jobs/1\r\nReference: forged".into());
    twin.publish(&context(&job, &job.ads["el"], &reference, "el"))
        .await
        .unwrap();
    assert_eq!(twin.only().reference, reference);
}
