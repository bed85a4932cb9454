//! Kariera.gr by e-mail: the archetype of a board without an API
//! (BOARDS.md §2 row 23, §3.18: "no public posting API or feed spec was
//! found … partner XML or email/manual").
//!
//! Everything about the message is inferred [I], after the boards that
//! document an e-mail channel (CareerBuilder's batch e-mail, Broadbean's
//! per-advert messages): one message per ad to the board's posting address,
//! through the deployment's SMTP relay (`base_url = "smtp://host:port"`,
//! credentials `smtp_username`/`smtp_password` when the relay wants AUTH);
//! the subject carries the operation and our reference so the board's desk
//! (or its parser) can match updates and withdrawals:
//! `NEW <ref>: <title> | <company> | <city>`, `UPDATE <ref>: …`,
//! `WITHDRAW <ref>: …`; the body is UTF-8 plain text with labelled lines in
//! the ad's language, then the ad; `Reply-To` is the apply e-mail when
//! there is one. Greek goes as UTF-8 (base64 or quoted-printable as lettre
//! chooses; RFC 2047 in the subject). Titles up to 100 characters (Monster's
//! documented limit; the board's own is unknown).
//! The Message-ID comes from the attempt's idempotency key, so a message
//! re-sent after a lost answer carries the same id and the desk can drop it.
//! Every value set into the subject or a labelled line is one line: control
//! characters (CR and LF above all) become spaces, so no field of the job
//! can forge a labelled line or a header the desk would read as ours (issue
//! 12 finding 18). The ad's text keeps its line breaks, as CRLF, with other
//! control characters dropped; the labelled block ends at the first empty
//! line [I].
//! Success is the relay's `250` after DATA: the board then holds the ad
//! (posted), with the Message-ID as its id; a `4xx` is transient, a `5xx`
//! permanent, a `535` refused credentials.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use sha2::Digest as _;

use super::render::{check_max, employment_type_name, headings};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::primary_language;

pub const ID: &str = "kariera";
pub const MECHANISM: &str =
    "e-mail over SMTP to the board's posting address (NEW/UPDATE/WITHDRAW <ref>)";
const NAME: &str = "Kariera.gr";
const MAX_TITLE: usize = 100;
/// Mail lines end in CRLF (RFC 5322); the body is built that way so what the
/// desk reads is what we rendered.
const CRLF: &str = "\r\n";

/// What the message says it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    New,
    Update,
    Withdraw,
}

impl Operation {
    pub fn keyword(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::Update => "UPDATE",
            Self::Withdraw => "WITHDRAW",
        }
    }
}

/// A message before it is addressed: a pure function of the posting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
    pub reply_to: Option<String>,
    /// `<key@boardcast>`, from the attempt's idempotency key.
    pub message_id: String,
}

struct Labels {
    position: &'static str,
    company: &'static str,
    location: &'static str,
    employment: &'static str,
    salary: &'static str,
    apply: &'static str,
    reference: &'static str,
}

fn labels(locale: &str) -> Labels {
    match primary_language(locale) {
        "el" => Labels {
            position: "Θέση",
            company: "Εταιρεία",
            location: "Τοποθεσία",
            employment: "Απασχόληση",
            salary: "Αποδοχές",
            apply: "Αιτήσεις",
            reference: "Κωδικός αγγελίας",
        },
        _ => Labels {
            position: "Position",
            company: "Company",
            location: "Location",
            employment: "Employment",
            salary: "Salary",
            apply: "Apply",
            reference: "Reference",
        },
    }
}

/// `value` as one line: every control character becomes a space.
pub fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Free text with its line breaks as CRLF and no other control characters.
fn text_lines(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .map(|line| line.chars().filter(|c| !c.is_control()).collect::<String>())
        .collect::<Vec<_>>()
        .join(CRLF)
}

/// Builds the message for one language variant.
pub fn render(posting: &PostingContext<'_>, operation: Operation) -> Result<Mail, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    check_max(NAME, "title", &ad.title, MAX_TITLE)?;
    if ad.title.trim().is_empty() {
        super::preview::broken("Kariera.gr needs a title")?;
    }
    let apply = match (&job.apply.url, &job.apply.email) {
        (Some(url), _) => url.clone(),
        (None, Some(email)) => email.clone(),
        (None, None) => {
            return Err(BoardError::rule(
                "Kariera.gr needs an apply link or e-mail in the message",
            ));
        }
    };
    let city = job
        .locations
        .first()
        .map(|l| l.city.as_str())
        .unwrap_or("Remote");
    let subject = format!(
        "{} {}: {} | {} | {}",
        operation.keyword(),
        one_line(posting.reference),
        one_line(&ad.title),
        one_line(&job.company.name),
        one_line(city)
    );
    let label = labels(posting.locale);
    let mut body = String::new();
    let mut line = |name: &str, value: &str| {
        body.push_str(name);
        body.push_str(": ");
        body.push_str(&one_line(value));
        body.push_str(CRLF);
    };
    line(label.position, &ad.title);
    line(label.company, &job.company.name);
    let places: Vec<String> = job
        .locations
        .iter()
        .map(|l| format!("{}, {}", l.city, l.country))
        .collect();
    line(label.location, &places.join("; "));
    line(label.employment, employment_type_name(job.employment_type));
    if let Some(salary) = &job.salary {
        line(
            label.salary,
            &format!(
                "{}–{} {} / {:?}",
                salary.min, salary.max, salary.currency, salary.period
            )
            .to_lowercase()
            .replace(&salary.currency.to_lowercase(), &salary.currency),
        );
    }
    line(label.apply, &apply);
    line(label.reference, posting.reference);
    if operation != Operation::Withdraw {
        body.push_str(CRLF);
        body.push_str(&text_lines(&ad.summary));
        body.push_str(CRLF);
        let titles = headings(posting.locale);
        for (heading, items) in [
            (titles.responsibilities, &ad.responsibilities),
            (titles.requirements, &ad.requirements),
            (titles.benefits, &ad.benefits),
        ] {
            if items.is_empty() {
                continue;
            }
            body.push_str(CRLF);
            body.push_str(heading);
            body.push_str(CRLF);
            for item in items {
                body.push_str("- ");
                body.push_str(&one_line(item));
                body.push_str(CRLF);
            }
        }
    }
    Ok(Mail {
        subject,
        body,
        reply_to: job.apply.email.as_deref().map(one_line),
        message_id: format!("<{}@boardcast>", posting.idempotency_key.simple()),
    })
}

pub struct Kariera {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Mailbox,
}

impl Kariera {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let url = config.base_url()?;
        let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(url.port().unwrap_or(25))
            .timeout(Some(config.request_timeout));
        if let Some(username) = config.settings.credentials.get("smtp_username") {
            let password = config.credential("smtp_password")?;
            builder = builder.credentials(Credentials::new(
                username.expose_secret().to_owned(),
                password.expose_secret().to_owned(),
            ));
        }
        let mailbox = |name: &str| -> Result<Mailbox, BuildError> {
            let text = config.option(name)?;
            text.parse().map_err(|_| BuildError::MissingOption {
                board: ID.to_owned(),
                key: ID.to_owned(),
                name: format!("{name} (an e-mail address; \"{text}\" is not one)"),
            })
        };
        Ok(Self {
            transport: builder.build(),
            from: mailbox("from")?,
            to: mailbox("posting_address")?,
        })
    }

    async fn send(
        &self,
        posting: &PostingContext<'_>,
        operation: Operation,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let mail = render(posting, operation)?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(self.to.clone())
            .subject(mail.subject.clone())
            .message_id(Some(mail.message_id.clone()));
        if let Some(reply_to) = mail.reply_to.as_deref().and_then(|r| r.parse().ok()) {
            builder = builder.reply_to(reply_to);
        }
        let message = builder
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body.clone()),
            )
            .map_err(|error| {
                BoardError::rule(format!("the message could not be built: {error}"))
            })?;
        if super::preview::active() {
            super::preview::record(super::preview::CapturedRequest {
                method: "SMTP".to_owned(),
                url: format!("mailto:{}", self.to.email),
                content_type: Some("message/rfc822".to_owned()),
                body: Some(String::from_utf8_lossy(&message.formatted()).into_owned()),
            });
            return Err(super::preview::not_sent());
        }
        log.request_hash = Some(hex::encode(sha2::Sha256::digest(message.formatted())));
        match self.transport.send(message).await {
            Ok(response) => {
                log.http_status = Some(u16::from(response.code()));
                Ok(match operation {
                    Operation::Withdraw => Receipt::Withdrawn,
                    _ => Receipt::Live {
                        external_id: mail.message_id,
                        url: None,
                    },
                })
            }
            Err(error) => Err(classify(&error, log)),
        }
    }
}

/// SMTP's own signals: 4xx try later, 5xx never, 535 credentials.
fn classify(error: &lettre::transport::smtp::Error, log: &mut CallLog) -> BoardError {
    let code = error.status().map(u16::from);
    log.http_status = code;
    let class = match code {
        Some(535 | 530) => ErrorClass::Auth,
        Some(421 | 450 | 451 | 452) if code == Some(421) => ErrorClass::Throttled,
        Some(_) if error.is_transient() => ErrorClass::Transient,
        Some(_) => ErrorClass::Rejected,
        // No SMTP answer: refused connection (nothing sent) or a timeout
        // (the relay may have taken it).
        None if error.is_timeout() => ErrorClass::Ambiguous,
        None => ErrorClass::Transient,
    };
    let mut error = BoardError::new(class, code, format!("{NAME}'s mail relay: {error}"));
    if class == ErrorClass::Throttled {
        error.retry_after = Some(Duration::from_secs(60));
    }
    error
}

#[async_trait]
impl Board for Kariera {
    fn id(&self) -> &'static str {
        ID
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        // A desk reading mail cannot be asked; a re-send carries the same
        // Message-ID for it to drop.
        self.send(posting, Operation::New, log).await
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let operation = if posting.live_at_board {
            Operation::Update
        } else {
            Operation::New
        };
        self.send(posting, operation, log).await
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.send(posting, Operation::Withdraw, log).await
    }
}
