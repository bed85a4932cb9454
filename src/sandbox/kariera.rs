//! Kariera.gr's mail desk: receives the ads boardcast e-mails (see
//! [`crate::boards::kariera`] for the conventions, all inferred [I]) on the
//! sandbox's SMTP listener and judges them on its own: the relay's
//! credentials, the posting address, a parseable UTF-8 `text/plain` message,
//! the subject `NEW|UPDATE|WITHDRAW <reference>: <title> | …`, a way to
//! apply in the body, a labelled block naming each label once (and our
//! reference as the subject does), and one copy per Message-ID (a re-sent message is
//! dropped). Credentials are checked when the message is handed over (end
//! of DATA), so a refusal arrives as `535` there.

use axum::Router;
use mail_parser::{MessageParser, MimeHeaders};

use super::smtp::Envelope;
use super::{HeldPosting, Sandbox, Twin};

pub const BOARD: &str = "kariera";
/// The desk's address; `boards.kariera.options.posting_address` must match.
pub const POSTING_ADDRESS: &str = "aggelies@kariera.example";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["smtp_username", "smtp_password"],
    routes,
};

fn routes(_: Sandbox) -> Router {
    Router::new()
}

#[derive(Default)]
struct Desk {
    /// Message-IDs already read.
    seen: std::collections::BTreeSet<String>,
}

/// Judges one message; `Ok` carries the desk's id for it.
pub fn receive(sandbox: &Sandbox, envelope: &Envelope) -> Result<String, (u16, String)> {
    let expected = (
        sandbox.credential(BOARD, "smtp_username").to_owned(),
        sandbox.credential(BOARD, "smtp_password").to_owned(),
    );
    if envelope.auth.as_ref() != Some(&expected) {
        return Err((535, "5.7.8 authentication credentials invalid".into()));
    }
    if !envelope.to.iter().any(|to| to == POSTING_ADDRESS) {
        return Err((
            550,
            format!("5.1.1 <{}>: no such mailbox here", envelope.to.join(", ")),
        ));
    }
    let Some(message) = MessageParser::default().parse(&envelope.data) else {
        return Err((554, "5.6.0 the message could not be parsed".into()));
    };
    let content_type = message.content_type();
    let is_text = content_type.is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case("text")
            && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("plain"))
    });
    let charset = content_type
        .and_then(|c| c.attribute("charset"))
        .unwrap_or("us-ascii");
    if !is_text || !charset.eq_ignore_ascii_case("utf-8") {
        return Err((
            554,
            format!("5.6.0 ads are read as text/plain in UTF-8, not {charset}"),
        ));
    }
    let subject = message.subject().unwrap_or_default().to_owned();
    let Some((operation, reference, title)) = parse_subject(&subject) else {
        return Err((
            550,
            format!(
                "5.6.0 subject \"{subject}\" is not NEW|UPDATE|WITHDRAW <reference>: <title> | <company> | <city>"
            ),
        ));
    };
    let body = message.body_text(0).unwrap_or_default().into_owned();
    if operation != "WITHDRAW" && !body.contains("http") && !body.contains('@') {
        return Err((550, "5.6.0 the ad gives no way to apply".into()));
    }
    if let Some(problem) = labelled_block_problem(&body, reference) {
        return Err((550, format!("5.6.0 {problem}")));
    }
    let message_id = message.message_id().unwrap_or_default().to_owned();
    let fresh = sandbox.with_extra::<Desk, _>(BOARD, |desk| desk.seen.insert(message_id.clone()));
    let id = sandbox.next_id(BOARD);
    if !fresh {
        return Ok(format!("{id} (duplicate of {message_id}, dropped)"));
    }
    let content = serde_json::json!({
        "subject": subject,
        "body": body,
        "message_id": message_id,
        "charset": charset,
    });
    sandbox.with_postings(BOARD, |held| match (operation, held.get_mut(reference)) {
        ("NEW", None) => {
            held.insert(
                reference.to_owned(),
                HeldPosting {
                    board: BOARD.into(),
                    reference: reference.into(),
                    external_id: format!("kariera-{id}"),
                    url: format!("https://www.kariera.example/jobs/{id}"),
                    live: true,
                    title: title.into(),
                    language: String::new(),
                    creates: 1,
                    updates: 0,
                    withdrawals: 0,
                    content,
                },
            );
            Ok(id.to_string())
        }
        ("NEW" | "UPDATE", Some(posting)) => {
            posting.updates += 1;
            posting.live = true;
            posting.title = title.into();
            posting.content = content;
            Ok(id.to_string())
        }
        ("UPDATE", None) => Err((550, format!("5.1.0 no ad with reference {reference}"))),
        ("WITHDRAW", Some(posting)) => {
            if posting.live {
                posting.live = false;
                posting.withdrawals += 1;
            }
            Ok(id.to_string())
        }
        _ => Ok(id.to_string()),
    })
}

/// The labelled lines (up to the first empty line) as the desk reads them:
/// each label once, and the reference line naming the subject's reference.
/// A value carrying a line break would add a line here (issue 12 finding 18).
fn labelled_block_problem(body: &str, reference: &str) -> Option<String> {
    const REFERENCE_LABELS: [&str; 2] = ["Reference", "Κωδικός αγγελίας"];
    let mut seen = std::collections::BTreeSet::new();
    for line in body.lines().take_while(|line| !line.trim().is_empty()) {
        // A line without a label is text the desk does not read as a field.
        let Some((label, value)) = line.split_once(": ") else {
            continue;
        };
        if !seen.insert(label.to_owned()) {
            return Some(format!("the labelled block names {label} twice"));
        }
        if REFERENCE_LABELS.contains(&label) && value.trim() != reference {
            return Some(format!(
                "the reference line says {} but the subject says {reference}",
                value.trim()
            ));
        }
    }
    None
}

/// `NEW bc123: Title | Company | City` → `("NEW", "bc123", "Title")`.
fn parse_subject(subject: &str) -> Option<(&'static str, &str, &str)> {
    let (operation, rest) = subject.split_once(' ')?;
    let operation = ["NEW", "UPDATE", "WITHDRAW"]
        .into_iter()
        .find(|o| *o == operation)?;
    let (reference, rest) = rest.split_once(": ")?;
    let valid = !reference.is_empty()
        && reference.len() <= 20
        && reference
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let title = rest.split(" | ").next()?.trim();
    (valid && !title.is_empty()).then_some((operation, reference, title))
}
