//! StepStone JobFeed: XML pushed over HTTPS with the customer's username and
//! password, one `<joblisting>` per ad with `action` INSERT, UPDATE or OFFLINE
//! (BOARDS.md §3.10).
//!
//! Documented: an INSERT consumes a contract credit; UPDATE is free and also
//! puts an OFFLINE listing back online; an OFFLINE reference can never be
//! reused for a new listing; categorisation cannot change; German ads come in
//! sections (introduction, tasks, profile, offer); title 1–150 characters
//! (via FlashPost); languages de and en.
//! Inferred, and modelled the same way in the sandbox: the response document
//! (`<jobfeed_response><listing status="OK|ERROR" .../>`) and its error codes.
//! An INSERT of a reference StepStone already holds answers
//! `DUPLICATE_REFERENCE`, which is how a lost answer is recognised: the
//! adapter then sends UPDATE, so no second credit is spent and no second copy
//! goes live.

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
pub const MECHANISM: &str = "XML JobFeed push (INSERT/UPDATE/OFFLINE), Basic credentials";
pub const ID: &str = "stepstone";
const NAME: &str = "StepStone";
const MAX_TITLE: usize = 150;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "jobfeed_response")]
pub struct FeedResponse {
    #[serde(default)]
    pub listing: Vec<ListingResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListingResult {
    #[serde(rename = "@reference_id")]
    pub reference_id: String,
    /// `OK` or `ERROR`.
    #[serde(rename = "@status")]
    pub status: String,
    #[serde(
        rename = "@listing_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub listing_id: Option<String>,
    #[serde(rename = "@url", default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(rename = "@code", default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(rename = "@message", default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Serialises a feed document with its XML declaration.
pub fn to_xml(feed: &JobFeed) -> String {
    let body = quick_xml::se::to_string(feed).expect("feed documents serialise");
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
        return Err(BoardError::rule(format!(
            "{NAME} takes ads in de or en; this one is in {language}"
        )));
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
    ) -> Result<ListingResult, BoardError> {
        let listing = render(posting, &self.sender_id, &self.organisation_id, action)?;
        let document = to_xml(&JobFeed {
            joblisting: vec![listing],
        });
        let request = self
            .http
            .post(self.feed_url.clone())
            .basic_auth(
                self.username.expose_secret(),
                Some(self.password.expose_secret()),
            )
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/xml; charset=utf-8",
            )
            .timeout(self.timeout)
            .body(document.clone());
        let reply = http::send(NAME, request, Some(document.as_bytes()), log).await?;
        if reply.status == 401 {
            return Err(BoardError::new(
                ErrorClass::Auth,
                Some(401),
                "StepStone refused our username and password",
            ));
        }
        if !reply.is_success() {
            return Err(reply.error(NAME));
        }
        let response: FeedResponse = quick_xml::de::from_str(&reply.body).map_err(|error| {
            BoardError::new(
                ErrorClass::Ambiguous,
                Some(reply.status),
                format!(
                    "StepStone answered with a document we could not read ({error}): {}",
                    http::excerpt(&reply.body)
                ),
            )
        })?;
        response
            .listing
            .into_iter()
            .find(|l| l.reference_id == posting.reference)
            .ok_or_else(|| {
                BoardError::new(
                    ErrorClass::Ambiguous,
                    Some(reply.status),
                    format!(
                        "StepStone's answer does not mention listing {}",
                        posting.reference
                    ),
                )
            })
    }
}

fn is_ok(result: &ListingResult) -> bool {
    result.status == "OK"
}

fn code(result: &ListingResult) -> &str {
    result.code.as_deref().unwrap_or("")
}

fn live(result: ListingResult) -> Receipt {
    Receipt::Live {
        external_id: result.listing_id.unwrap_or(result.reference_id),
        url: result.url,
    }
}

fn listing_error(result: &ListingResult) -> BoardError {
    BoardError::new(
        ErrorClass::Rejected,
        Some(200),
        format!(
            "StepStone {}: {}",
            code(result),
            result.message.as_deref().unwrap_or("no message")
        ),
    )
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
            return Ok(live(result));
        }
        match code(&result) {
            // Already there (a lost answer, or withdrawn earlier): UPDATE brings it in line.
            "DUPLICATE_REFERENCE" | "REFERENCE_RETIRED" => {
                let result = self.send(posting, Action::Update, log).await?;
                if is_ok(&result) {
                    Ok(live(result))
                } else {
                    Err(listing_error(&result))
                }
            }
            _ => Err(listing_error(&result)),
        }
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let result = self.send(posting, Action::Update, log).await?;
        if is_ok(&result) {
            return Ok(live(result));
        }
        match code(&result) {
            "UNKNOWN_REFERENCE" => self.publish(posting, log).await,
            _ => Err(listing_error(&result)),
        }
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let result = self.send(posting, Action::Offline, log).await?;
        if is_ok(&result) || code(&result) == "UNKNOWN_REFERENCE" {
            Ok(Receipt::Withdrawn)
        } else {
            Err(listing_error(&result))
        }
    }
}
