//! StepStone JobFeed: one `<jobfeed><joblisting>` document per ad, `action`
//! INSERT, UPDATE or OFFLINE, POSTed to the JobFeed interface with the
//! customer's username and password (BOARDS.md §3.10; sources and what is
//! inferred in docs/boards/stepstone.md).
//!
//! Documented: the JobFeed HTTP Post takes "all necessary parameters as
//! form object", username and password among them; an INSERT consumes a
//! credit; UPDATE is free and also puts an OFFLINE listing back online; an
//! OFFLINE reference can never be reused; categorisation cannot change; the
//! answer, with `xmlresponse` set, is a `<jobfeedresponse>` with
//! `reference`, `listingid`, `action`, `status` and `statuscode` (100 is
//! OK; the status code table says which to fix and which to resend "one
//! time in an hour"); the public link of a listing is built from its
//! `listingid`. Via FlashPost: title 1–150 characters, languages de and en.
//! Inferred [I], and modelled the same way in the sandbox: the form's field
//! names (`username`, `password`, `xml`, `xmlresponse`), the endpoint path
//! `/jobfeed`, the content elements of a listing, and two status codes the
//! table does not list: [`REFERENCE_IN_USE`] for an INSERT of a reference
//! StepStone holds (how a lost answer is recognised: the adapter then sends
//! UPDATE, so no second credit is spent and no second copy goes live) and
//! [`UNKNOWN_REFERENCE`] for an UPDATE or OFFLINE of one it does not.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::http;
use super::render::{check_max, check_min, escape_html, html_list};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::primary_language;

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str = "XML JobFeed push (INSERT/UPDATE/OFFLINE) as a form post with the customer's username and password";
pub const ID: &str = "stepstone";
const NAME: &str = "StepStone";
const MAX_TITLE: usize = 150;
/// The status code of a listing StepStone took.
pub const STATUS_OK: u16 = 100;
/// [I] An INSERT of a reference StepStone already holds (online or offline).
pub const REFERENCE_IN_USE: u16 = 250;
/// [I] An UPDATE or OFFLINE of a reference StepStone does not hold.
pub const UNKNOWN_REFERENCE: u16 = 251;
/// What stands for the password in the form the attempt's hash covers.
pub const REDACTED: &str = "***";
/// "resend one time in an hour until the status code changes to 100".
const RESEND_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    Insert,
    Update,
    Offline,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "jobfeed")]
pub struct JobFeed {
    pub joblisting: Vec<JobListing>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobListing {
    #[serde(rename = "@reference_id")]
    pub reference_id: String,
    #[serde(rename = "@sender_id")]
    pub sender_id: String,
    #[serde(rename = "@organisation_id")]
    pub organisation_id: String,
    #[serde(rename = "@action")]
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ListingContent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListingContent {
    pub companyname: String,
    pub title: String,
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub employment_type: String,
    pub location: Vec<ListingLocation>,
    pub introduction: String,
    pub tasks: String,
    pub profile: String,
    pub offer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_through: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListingLocation {
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postalcode: Option<String>,
    pub country: String,
}

/// StepStone's answer to one listing (`<jobfeedresponse>`, documented).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedResponse {
    pub reference: Option<String>,
    pub listing_id: Option<String>,
    /// INSERT, UPDATE, IGNORE or OFFLINE: what StepStone did.
    pub action: Option<String>,
    pub status: Option<String>,
    pub status_code: Option<u16>,
}

impl FeedResponse {
    /// Reads a `<jobfeedresponse>` with a strict XML parser.
    pub fn parse(body: &str) -> Result<Self, String> {
        let document = roxmltree::Document::parse(body).map_err(|error| error.to_string())?;
        let root = document.root_element();
        if root.tag_name().name() != "jobfeedresponse" {
            return Err(format!(
                "the root element is <{}>, not <jobfeedresponse>",
                root.tag_name().name()
            ));
        }
        let field = |name: &str| {
            root.children()
                .find(|n| n.is_element() && n.tag_name().name() == name)
                .map(|n| {
                    n.descendants()
                        .filter(|d| d.is_text())
                        .filter_map(|d| d.text())
                        .collect::<String>()
                        .trim()
                        .to_owned()
                })
                .filter(|text| !text.is_empty())
        };
        let status_code = match field("statuscode") {
            Some(code) => Some(
                code.parse()
                    .map_err(|_| format!("statuscode \"{code}\" is not a number"))?,
            ),
            None => None,
        };
        Ok(Self {
            reference: field("reference"),
            listing_id: field("listingid"),
            action: field("action"),
            status: field("status"),
            status_code,
        })
    }
}

/// The public page of a listing on stepstone.de, as the response page builds it.
pub fn listing_url(listing_id: &str) -> String {
    format!(
        "https://www.stepstone.de/5/index.cfm?event=offerView.dspOfferInline&offerId={listing_id}"
    )
}

/// The form StepStone's JobFeed takes; `password` is the secret.
pub fn form<'a>(
    username: &'a str,
    password: &'a str,
    document: &'a str,
) -> [(&'static str, &'a str); 4] {
    [
        ("username", username),
        ("password", password),
        ("xmlresponse", "true"),
        ("xml", document),
    ]
}

/// Serialises a feed document with its XML declaration.
/// Characters XML 1.0 cannot carry even escaped (a control character in a
/// title would make the whole document ill-formed) are dropped.
pub fn to_xml(feed: &JobFeed) -> String {
    let body = quick_xml::se::to_string(feed).expect("feed documents serialise");
    let body: String = body
        .chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{fffe}' | '\u{ffff}'))
        })
        .collect();
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}")
}

/// Builds the listing for one language variant: a pure function of the posting.
pub fn render(
    posting: &PostingContext<'_>,
    sender_id: &str,
    organisation_id: &str,
    action: Action,
) -> Result<JobListing, BoardError> {
    let listing = |content| JobListing {
        reference_id: posting.reference.to_owned(),
        sender_id: sender_id.to_owned(),
        organisation_id: organisation_id.to_owned(),
        action,
        content,
    };
    if action == Action::Offline {
        return Ok(listing(None));
    }
    let job = posting.job;
    let ad = posting.ad;
    check_min(NAME, "title", ad.title.trim(), 1)?;
    check_max(NAME, "title", &ad.title, MAX_TITLE)?;
    let language = primary_language(posting.locale);
    if !matches!(language, "de" | "en") {
        super::preview::broken(format!(
            "{NAME} takes ads in de or en; this one is in {language}"
        ))?;
    }
    Ok(listing(Some(ListingContent {
        companyname: job.company.name.clone(),
        title: ad.title.clone(),
        language: language.to_owned(),
        category: job.category.clone(),
        employment_type: super::render::employment_type_name(job.employment_type).to_owned(),
        location: job
            .locations
            .iter()
            .map(|l| ListingLocation {
                city: l.city.clone(),
                postalcode: l.postal_code.clone(),
                country: l.country.clone(),
            })
            .collect(),
        introduction: format!("<p>{}</p>", escape_html(&ad.summary)),
        tasks: html_list(&ad.responsibilities),
        profile: html_list(&ad.requirements),
        offer: html_list(&ad.benefits),
        application_url: job.apply.url.clone(),
        application_email: job.apply.email.clone(),
        valid_through: job.valid_through.map(|t| t.date().to_string()),
    })))
}

pub struct StepStone {
    http: reqwest::Client,
    feed_url: url::Url,
    username: SecretString,
    password: SecretString,
    sender_id: String,
    organisation_id: String,
    timeout: std::time::Duration,
}

impl StepStone {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        Ok(Self {
            http: config.http.clone(),
            feed_url: config.base_url()?.join("jobfeed").expect("static path"),
            username: config.credential("username")?,
            password: config.credential("password")?,
            sender_id: config.option("sender_id")?,
            organisation_id: config.option("organisation_id")?,
            timeout: config.request_timeout,
        })
    }

    async fn send(
        &self,
        posting: &PostingContext<'_>,
        action: Action,
        log: &mut CallLog,
    ) -> Result<FeedResponse, BoardError> {
        let listing = render(posting, &self.sender_id, &self.organisation_id, action)?;
        let document = to_xml(&JobFeed {
            joblisting: vec![listing],
        });
        let username = self.username.expose_secret();
        let encode = |password: &str| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form(username, password, &document))
                .finish()
        };
        let body = encode(self.password.expose_secret());
        // The hash covers the form with the password redacted.
        log.request_hash = Some(http::hash(encode(REDACTED).as_bytes()));
        let request = self
            .http
            .post(self.feed_url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .timeout(self.timeout)
            .body(body);
        let reply = http::send(NAME, request, None, log).await?;
        if !reply.is_success() {
            return Err(reply.error(NAME));
        }
        let response = FeedResponse::parse(&reply.body).map_err(|error| {
            BoardError::new(
                ErrorClass::Ambiguous,
                Some(reply.status),
                format!(
                    "StepStone answered with a document we could not read ({error}): {}",
                    http::excerpt(&reply.body)
                ),
            )
        })?;
        if response
            .reference
            .as_deref()
            .is_some_and(|r| r != posting.reference)
        {
            return Err(BoardError::new(
                ErrorClass::Ambiguous,
                Some(reply.status),
                format!(
                    "StepStone's answer is about listing {}, not {}",
                    response.reference.as_deref().unwrap_or("?"),
                    posting.reference
                ),
            ));
        }
        Ok(response)
    }
}

fn code(response: &FeedResponse) -> u16 {
    response.status_code.unwrap_or(0)
}

fn is_ok(response: &FeedResponse) -> bool {
    code(response) == STATUS_OK
}

fn live(response: FeedResponse, posting: &PostingContext<'_>) -> Result<Receipt, BoardError> {
    match response.listing_id {
        Some(id) => Ok(Receipt::Live {
            url: Some(listing_url(&id)),
            external_id: id,
        }),
        None => Err(BoardError::new(
            ErrorClass::Ambiguous,
            Some(200),
            format!(
                "StepStone took listing {} but gave no listingid",
                posting.reference
            ),
        )),
    }
}

/// A status code other than 100, classified by StepStone's status code table.
pub fn status_error(response: &FeedResponse) -> BoardError {
    let status = code(response);
    let words = format!(
        "StepStone status {status}: {}",
        response.status.as_deref().unwrap_or("no status message")
    );
    let (class, retry_after) = match status {
        // Fix and resend.
        204..=207 | 320 | 331 => (ErrorClass::Rejected, None),
        220 => (ErrorClass::Auth, None),
        // "resend one time in an hour until the status code changes to 100".
        209 | 210 | 222 | 230 | 312..=315 | 408 | 500 => {
            (ErrorClass::Transient, Some(RESEND_AFTER))
        }
        // The feed is deprecated: ops must talk to StepStone.
        403 => (ErrorClass::Rejected, None),
        // "internal issues handled by StepStone": it may have acted.
        _ => (ErrorClass::Ambiguous, Some(RESEND_AFTER)),
    };
    BoardError::new(class, Some(200), words).with_retry_after(retry_after)
}

#[async_trait]
impl Board for StepStone {
    fn id(&self) -> &'static str {
        ID
    }

    /// Categorisation cannot be updated: a new category means a new listing.
    fn fixed_fields(&self, posting: &PostingContext<'_>) -> Option<String> {
        Some(format!(
            "category \"{}\"",
            posting.job.category.as_deref().unwrap_or("")
        ))
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let result = self.send(posting, Action::Insert, log).await?;
        if is_ok(&result) {
            return live(result, posting);
        }
        match code(&result) {
            // Already there (a lost answer, or withdrawn earlier): UPDATE brings it in line.
            REFERENCE_IN_USE => {
                let result = self.send(posting, Action::Update, log).await?;
                if is_ok(&result) {
                    live(result, posting)
                } else {
                    Err(status_error(&result))
                }
            }
            _ => Err(status_error(&result)),
        }
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let result = self.send(posting, Action::Update, log).await?;
        if is_ok(&result) {
            return live(result, posting);
        }
        match code(&result) {
            UNKNOWN_REFERENCE => self.publish(posting, log).await,
            _ => Err(status_error(&result)),
        }
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let result = self.send(posting, Action::Offline, log).await?;
        if is_ok(&result) || code(&result) == UNKNOWN_REFERENCE {
            Ok(Receipt::Withdrawn)
        } else {
            Err(status_error(&result))
        }
    }
}
