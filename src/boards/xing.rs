//! XING E-Recruiting API: REST JSON, postings created inactive and then
//! activated, contract checks reported later by the posting states endpoint
//! (BOARDS.md §2 row 16, §3.11, §6).
//!
//! Documented [V]: `POST /vendor/jobs/postings` with `organization_id` and
//! `order_id` from the customer's contract (only statically validated: 400
//! when missing or not an integer; contingent and run-time are checked later,
//! and the posting states endpoint tells), `function` (the title, ≤255),
//! `company_name` (≤255), `description` (≤10,000; tags h2, h3, h4, h5, hr, a,
//! br, li, ol, ul, p, em, i, b, strong; XING *strips* other tags, attributes
//! and inline CSS rather than refusing them), `city` (one exact city; several
//! locations are not supported), `country`, `tags` (comma list, ≤500),
//! `skills` (≤255), and salary as `salary` (fixed) or `salary_range_start` /
//! `salary_range_end` with `currency`. A new posting sits **inactive** in the
//! Job Manager until it is activated. `PUT /vendor/jobs/postings/{id}`
//! ("Update an existing posting") replaces the whole posting (fields not sent
//! are deleted) and answers 204; the order of a posting cannot change.
//! `GET /vendor/jobs/postings/status?ids=` answers `{id, state, visible,
//! visible_errors, …}` per posting. XING always shows a salary band: when the
//! job has no salary we send none and XING shows **its own estimate** (hiding
//! the band is not possible). XING's documented test order (Basic 1087615,
//! organisation 5160) is the default account in `config/default.toml`.
//!
//! Secondary sources [V2] (the `xing-api-client` TypeScript client, which
//! mirrors XING's docs): the create answer `{posting_id, permalink}`; the
//! fields `job_code` (≤100, "internal tracking code"), `language`,
//! `job_type`, `reply_setting` (`url` | `email` | …) with `reply_url` /
//! `reply_email`, `zipcode`, `region`, `salary_interval` and the currencies
//! EUR, USD, GBP, CHF; the states `created`, `active`, `deactivated`,
//! `archived`, `deleted`; the existence of activate / deactivate / archive
//! calls; the paginated list `{total, current_page, total_pages, collection}`.
//!
//! Inferred [I], and modelled the same way in the sandbox:
//! * the activate and archive paths, `PUT /vendor/jobs/postings/{id}/activate`
//!   and `…/archive`, answering 204 (following the update call's shape);
//!   withdrawal archives; activating an archived posting puts it back online,
//!   so an update after a withdrawal is PUT + activate;
//! * our reference travels as `job_code`, and `GET /vendor/jobs/postings?job_code=`
//!   finds a posting by it: that is how a create whose answer was lost, or an
//!   activation that failed after the create, is found instead of duplicated;
//! * a refused posting (unknown or exhausted order) shows in the states as
//!   `visible: false` with `visible_errors` naming the reason;
//! * the public URL `https://www.xing.com/jobs/{id}`; the error body
//!   `{error_name, message, errors: [{field, reason, message}]}` (the shape of
//!   XING's other REST APIs); a request rate (none is documented, so none is
//!   declared);
//! * the tags are the job's category; `job_type` from our employment type
//!   (contract → FREELANCE; volunteer and other send none).
//!
//! Authentication: the guide says OAuth 2.0, but every help-centre and API
//! example signs with OAuth 1.0a PLAINTEXT (`oauth_signature =
//! consumer_secret&token_secret`), and XING's API authentication page
//! documents OAuth 1.0 with PLAINTEXT and HMAC-SHA1, `oauth_version` 1.0, a
//! timestamp no older than 24 hours and a nonce never reused. We send the
//! PLAINTEXT form in the `Authorization` header [I: the header rather than the
//! examples' form parameters, as RFC 5849 §3.5.1 allows] with the credentials
//! `consumer_key`, `consumer_secret`, `access_token`, `token_secret`. A
//! refused signature is 401, hence [`ErrorClass::Auth`].
//!
//! Publishing is therefore create + activate, answered with
//! [`Receipt::Accepted`] (the task is XING's posting id), and
//! [`Board::confirm`] reads the posting state: visible → live with the URL,
//! `visible_errors` → rejected with XING's reason, anything else → pending.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::http::{self, Reply};
use super::render::{check_max, escape_html, html_description};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::{EmploymentType, PayPeriod, primary_language};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str =
    "REST push (create inactive, activate, poll posting states), OAuth 1.0a PLAINTEXT";
pub const ID: &str = "xing";
const NAME: &str = "XING";
pub const MAX_FUNCTION: usize = 255;
pub const MAX_COMPANY_NAME: usize = 255;
pub const MAX_DESCRIPTION: usize = 10_000;
pub const MAX_TAGS: usize = 500;
pub const MAX_SKILLS: usize = 255;
/// [V2] `job_code`, "internal tracking code (max 100 characters)".
pub const MAX_JOB_CODE: usize = 100;
/// Countries XING Jobs serves (ISO 3166-1).
pub const COUNTRIES: [&str; 3] = ["DE", "AT", "CH"];
pub const LANGUAGES: [&str; 2] = ["de", "en"];
/// The only tags XING keeps in a description.
pub const ALLOWED_TAGS: [&str; 15] = [
    "h2", "h3", "h4", "h5", "hr", "a", "br", "li", "ol", "ul", "p", "em", "i", "b", "strong",
];
/// [V2] The salary currencies XING takes.
pub const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "CHF"];

/// The postings' path under the base URL.
pub const POSTINGS_PATH: &str = "vendor/jobs/postings";
/// The posting states' path under the base URL.
pub const STATES_PATH: &str = "vendor/jobs/postings/status";

/// Every operation's request as it leaves us, for the golden files:
/// `(operation, method, path under the base URL, body)`.
pub fn operations(
    request: &PostingRequest,
    posting_id: &str,
) -> Vec<(
    &'static str,
    &'static str,
    String,
    Option<serde_json::Value>,
)> {
    let one = format!("{POSTINGS_PATH}/{posting_id}");
    let body = serde_json::to_value(request).expect("bodies serialise");
    vec![
        (
            "publish",
            "POST",
            POSTINGS_PATH.to_owned(),
            Some(body.clone()),
        ),
        ("activate", "PUT", format!("{one}/activate"), None),
        ("update", "PUT", one.clone(), Some(body)),
        ("withdraw", "PUT", format!("{one}/archive"), None),
        (
            "confirm",
            "GET",
            format!("{STATES_PATH}?ids={posting_id}"),
            None,
        ),
        (
            "lookup",
            "GET",
            format!("{POSTINGS_PATH}?job_code={}", request.job_code),
            None,
        ),
    ]
}

/// The create (POST) and full-replacement update (PUT) body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostingRequest {
    pub organization_id: u64,
    pub order_id: u64,
    /// Our reference: how a posting whose create answer was lost is found.
    pub job_code: String,
    pub language: String,
    /// The title.
    pub function: String,
    pub company_name: String,
    pub description: String,
    pub city: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub zipcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub region: Option<String>,
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub job_type: Option<String>,
    /// `url` or `email`.
    pub reply_setting: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reply_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reply_email: Option<String>,
    /// Comma-separated search keywords.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub skills: Option<String>,
    /// A fixed salary (instead of a range).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary: Option<serde_json::Number>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_range_start: Option<serde_json::Number>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_range_end: Option<serde_json::Number>,
    /// `HOUR`, `DAY`, `WEEK`, `MONTH` or `YEAR`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub currency: Option<String>,
}

/// The answer to a create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    pub posting_id: u64,
    pub permalink: String,
}

/// One page of a list (postings or posting states).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub total: u64,
    pub current_page: u64,
    pub total_pages: u64,
    pub collection: Vec<T>,
}

/// One posting in `GET /vendor/jobs/postings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostingSummary {
    pub id: u64,
    pub state: String,
    #[serde(default)]
    pub job_code: Option<String>,
    #[serde(default)]
    pub function: String,
    #[serde(default)]
    pub order_id: Option<u64>,
    #[serde(default)]
    pub organization_id: Option<u64>,
}

/// One posting in `GET /vendor/jobs/postings/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostingState {
    pub id: u64,
    /// `created`, `active`, `deactivated`, `archived` or `deleted`.
    pub state: String,
    pub visible: bool,
    #[serde(default)]
    pub visible_errors: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub activated_at: Option<String>,
    #[serde(default)]
    pub active_until: Option<String>,
}

/// XING's error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error_name: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The contract the postings are billed to (`[boards.xing.options]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub organization_id: String,
    pub order_id: String,
}

/// The public page of a posting [I].
pub fn public_url(posting_id: &str) -> String {
    format!("https://www.xing.com/jobs/{posting_id}")
}

/// Builds the create / update body for one language variant: a pure function
/// of the posting and the account. No salary on the job means none is sent,
/// and XING shows its own estimate instead (there is no way to hide it).
pub fn render(
    posting: &PostingContext<'_>,
    account: &Account,
) -> Result<PostingRequest, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    let organization_id = contract_id("organization_id", &account.organization_id)?;
    let order_id = contract_id("order_id", &account.order_id)?;
    let language = primary_language(posting.locale);
    if !LANGUAGES.contains(&language) {
        super::preview::broken(format!(
            "{NAME} takes ads in {}; this one is in {language}",
            LANGUAGES.join(", ")
        ))?;
    }
    // One exact city per posting: the first of the job's locations XING serves.
    let Some(location) = job
        .locations
        .iter()
        .find(|l| COUNTRIES.contains(&l.country.as_str()))
    else {
        let mut countries: Vec<&str> = Vec::new();
        for location in &job.locations {
            if !countries.contains(&location.country.as_str()) {
                countries.push(&location.country);
            }
        }
        return Err(BoardError::rule(format!(
            "{NAME} publishes jobs in {}; this job is in {}",
            COUNTRIES.join(", "),
            countries.join(", ")
        )));
    };
    check_max(NAME, "function (title)", &ad.title, MAX_FUNCTION)?;
    check_max(NAME, "company_name", &job.company.name, MAX_COMPANY_NAME)?;
    let description = reduce_html(&html_description(ad, posting.locale));
    check_max(NAME, "description", &description, MAX_DESCRIPTION)?;
    check_max(NAME, "job_code", posting.reference, MAX_JOB_CODE)?;
    let tags = job.category.clone().filter(|c| !c.trim().is_empty());
    if let Some(tags) = &tags {
        check_max(NAME, "tags", tags, MAX_TAGS)?;
    }
    let (reply_setting, reply_url, reply_email) = match (&job.apply.url, &job.apply.email) {
        (Some(url), _) => ("url", Some(url.clone()), None),
        (None, Some(email)) => ("email", None, Some(email.clone())),
        (None, None) => {
            return Err(BoardError::rule(format!(
                "{NAME} needs a reply_url or a reply_email; the job has neither"
            )));
        }
    };
    let mut request = PostingRequest {
        organization_id,
        order_id,
        job_code: posting.reference.to_owned(),
        language: language.to_owned(),
        function: ad.title.clone(),
        company_name: job.company.name.clone(),
        description,
        city: location.city.clone(),
        zipcode: location.postal_code.clone(),
        region: location.region.clone(),
        country: location.country.clone(),
        job_type: job_type(job.employment_type).map(str::to_owned),
        reply_setting: reply_setting.to_owned(),
        reply_url,
        reply_email,
        tags,
        skills: None,
        salary: None,
        salary_range_start: None,
        salary_range_end: None,
        salary_interval: None,
        currency: None,
    };
    if let Some(salary) = &job.salary {
        if !CURRENCIES.contains(&salary.currency.as_str()) {
            super::preview::broken(format!(
                "salary currency is {}; {NAME} takes {}",
                salary.currency,
                CURRENCIES.join(", ")
            ))?;
        }
        if salary.min == salary.max {
            request.salary = Some(amount(salary.min));
        } else {
            request.salary_range_start = Some(amount(salary.min));
            request.salary_range_end = Some(amount(salary.max));
        }
        request.salary_interval = Some(salary_interval(salary.period).to_owned());
        request.currency = Some(salary.currency.clone());
    }
    Ok(request)
}

fn contract_id(name: &str, value: &str) -> Result<u64, BoardError> {
    value.trim().parse().map_err(|_| {
        BoardError::rule(format!(
            "{name} \"{value}\" is not an integer; {NAME} needs the numeric ids of the contract"
        ))
    })
}

/// Whole amounts as integers (`48000`, not `48000.0`).
fn amount(value: f64) -> serde_json::Number {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        serde_json::Number::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).unwrap_or_else(|| serde_json::Number::from(0))
    }
}

fn job_type(kind: EmploymentType) -> Option<&'static str> {
    Some(match kind {
        EmploymentType::FullTime => "FULL_TIME",
        EmploymentType::PartTime => "PART_TIME",
        EmploymentType::Internship => "INTERNSHIP",
        EmploymentType::Temporary => "TEMPORARY",
        EmploymentType::Contract => "FREELANCE",
        EmploymentType::Volunteer | EmploymentType::Other => return None,
    })
}

fn salary_interval(period: PayPeriod) -> &'static str {
    match period {
        PayPeriod::Hour => "HOUR",
        PayPeriod::Day => "DAY",
        PayPeriod::Week => "WEEK",
        PayPeriod::Month => "MONTH",
        PayPeriod::Year => "YEAR",
    }
}

/// Reduces HTML to the tags XING keeps: other tags go (their text stays),
/// `script` and `style` go with their content, and no attribute survives but
/// a link's `href`. Text between tags is left as it is (already escaped).
pub fn reduce_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if let Some(comment) = tail.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(close) = tail.find('>') else {
            // A lone '<' is text.
            out.push_str("&lt;");
            rest = &tail[1..];
            continue;
        };
        let inside = &tail[1..close];
        rest = &tail[close + 1..];
        let closing = inside.starts_with('/');
        let name: String = inside
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if !closing && (name == "script" || name == "style") {
            let end_tag = format!("</{name}");
            rest = match rest.to_ascii_lowercase().find(&end_tag) {
                Some(at) => rest[at..].find('>').map_or("", |gt| &rest[at + gt + 1..]),
                None => "",
            };
            continue;
        }
        if !ALLOWED_TAGS.contains(&name.as_str()) {
            continue;
        }
        if closing {
            out.push_str(&format!("</{name}>"));
        } else if name == "a" {
            match href(inside) {
                Some(link) => out.push_str(&format!("<a href=\"{}\">", escape_html(&link))),
                None => out.push_str("<a>"),
            }
        } else {
            out.push_str(&format!("<{name}>"));
        }
    }
    out.push_str(rest);
    out
}

/// The `href` of an `<a …>` tag's inside, unquoted.
fn href(inside: &str) -> Option<String> {
    let lower = inside.to_ascii_lowercase();
    let at = lower
        .match_indices("href")
        .map(|(at, _)| at)
        .find(|&at| at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace())?;
    let after = inside[at + 4..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let value = match after.chars().next()? {
        quote @ ('"' | '\'') => after[1..].split(quote).next()?,
        _ => after.split_whitespace().next()?,
    };
    // Already-escaped entities stay as they were sent.
    Some(value.replace("&amp;", "&"))
}

/// RFC 3986 percent-encoding as OAuth 1.0a requires (RFC 5849 §3.6).
fn oauth_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// OAuth 1.0a credentials, signed with PLAINTEXT.
struct OAuth1 {
    consumer_key: SecretString,
    consumer_secret: SecretString,
    access_token: SecretString,
    token_secret: SecretString,
}

impl OAuth1 {
    /// `Authorization: OAuth …` with a fresh nonce and timestamp, marked
    /// sensitive so it is never logged.
    fn header(&self) -> Result<HeaderValue, BoardError> {
        // PLAINTEXT: the signature is the encoded secrets joined by '&'
        // (RFC 5849 §3.4.4), and the header encodes it once more.
        let signature = format!(
            "{}&{}",
            oauth_encode(self.consumer_secret.expose_secret()),
            oauth_encode(self.token_secret.expose_secret())
        );
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
        let parts = [
            ("oauth_consumer_key", self.consumer_key.expose_secret()),
            ("oauth_token", self.access_token.expose_secret()),
            ("oauth_signature_method", "PLAINTEXT"),
            ("oauth_signature", signature.as_str()),
            ("oauth_timestamp", timestamp.as_str()),
            ("oauth_nonce", nonce.as_str()),
            ("oauth_version", "1.0"),
        ];
        let text = parts
            .iter()
            .map(|(name, value)| format!("{name}=\"{}\"", oauth_encode(value)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut value = HeaderValue::from_str(&format!("OAuth {text}")).map_err(|_| {
            BoardError::new(
                ErrorClass::Auth,
                None,
                "the XING credentials cannot be sent in an HTTP header",
            )
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

pub struct Xing {
    http: reqwest::Client,
    postings_url: url::Url,
    states_url: url::Url,
    account: Account,
    oauth: OAuth1,
    timeout: Duration,
}

impl Xing {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let base = config.base_url()?;
        Ok(Self {
            http: config.http.clone(),
            postings_url: base.join(POSTINGS_PATH).expect("static path"),
            states_url: base.join(STATES_PATH).expect("static path"),
            account: Account {
                organization_id: config.option("organization_id")?,
                order_id: config.option("order_id")?,
            },
            oauth: OAuth1 {
                consumer_key: config.credential("consumer_key")?,
                consumer_secret: config.credential("consumer_secret")?,
                access_token: config.credential("access_token")?,
                token_secret: config.credential("token_secret")?,
            },
            timeout: config.request_timeout,
        })
    }

    /// `/vendor/jobs/postings/{id}[/{action}]`.
    fn posting_url(&self, id: &str, action: Option<&str>) -> url::Url {
        let mut url = self.postings_url.clone();
        {
            let mut segments = url.path_segments_mut().expect("an http URL has segments");
            segments.push(id);
            if let Some(action) = action {
                segments.push(action);
            }
        }
        url
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: url::Url,
        body: Option<&PostingRequest>,
        log: &mut CallLog,
    ) -> Result<Reply, BoardError> {
        let mut request = self
            .http
            .request(method, url)
            .header(AUTHORIZATION, self.oauth.header()?)
            .timeout(self.timeout);
        let bytes = body.map(|b| serde_json::to_vec(b).expect("request bodies serialise"));
        if let Some(bytes) = &bytes {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(bytes.clone());
        }
        let reply = http::send(NAME, request, bytes.as_deref(), log).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(error(&reply))
        }
    }

    async fn create(&self, body: &PostingRequest, log: &mut CallLog) -> Result<String, BoardError> {
        let reply = self
            .call(
                reqwest::Method::POST,
                self.postings_url.clone(),
                Some(body),
                log,
            )
            .await?;
        let created: Created = reply.json(NAME)?;
        Ok(created.posting_id.to_string())
    }

    /// "Update an existing posting": the whole posting is replaced.
    async fn replace(
        &self,
        id: &str,
        body: &PostingRequest,
        log: &mut CallLog,
    ) -> Result<(), BoardError> {
        let url = self.posting_url(id, None);
        self.call(reqwest::Method::PUT, url, Some(body), log)
            .await
            .map(drop)
    }

    async fn act(&self, id: &str, action: &str, log: &mut CallLog) -> Result<(), BoardError> {
        let url = self.posting_url(id, Some(action));
        self.call(reqwest::Method::PUT, url, None, log)
            .await
            .map(drop)
    }

    /// Our posting at XING, found by its `job_code`.
    async fn find(
        &self,
        reference: &str,
        log: &mut CallLog,
    ) -> Result<Option<PostingSummary>, BoardError> {
        let mut url = self.postings_url.clone();
        url.query_pairs_mut().append_pair("job_code", reference);
        let reply = self.call(reqwest::Method::GET, url, None, log).await?;
        let page: Page<PostingSummary> = reply.json(NAME)?;
        Ok(page
            .collection
            .into_iter()
            .find(|p| p.job_code.as_deref() == Some(reference) && p.state != "deleted"))
    }

    async fn state(&self, id: &str, log: &mut CallLog) -> Result<Option<PostingState>, BoardError> {
        let mut url = self.states_url.clone();
        url.query_pairs_mut().append_pair("ids", id);
        let reply = self.call(reqwest::Method::GET, url, None, log).await?;
        let page: Page<PostingState> = reply.json(NAME)?;
        Ok(page.collection.into_iter().find(|s| s.id.to_string() == id))
    }

    /// Create, then activate. Once the create has landed, a failed
    /// activation is reported as ambiguous whatever its cause, so the next
    /// attempt looks the posting up by `job_code` instead of creating another.
    async fn create_and_activate(
        &self,
        body: &PostingRequest,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let id = self.create(body, log).await?;
        match self.act(&id, "activate", log).await {
            Ok(()) => Ok(accepted(id)),
            Err(error) if error.class == ErrorClass::Rejected => Err(BoardError {
                message: format!(
                    "{NAME} created posting {id} but refused to activate it: {}",
                    error.message
                ),
                ..error
            }),
            Err(error) => Err(BoardError {
                class: ErrorClass::Ambiguous,
                message: format!(
                    "{NAME} created posting {id} but its activation failed ({}); the next attempt finds it by job_code and activates it",
                    error.message
                ),
                ..error
            }),
        }
    }

    /// Brings a posting XING holds in line with `body` and online.
    async fn revise(
        &self,
        id: &str,
        body: &PostingRequest,
        activate: bool,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.replace(id, body, log).await?;
        if activate {
            self.act(id, "activate", log).await?;
        }
        Ok(accepted(id.to_owned()))
    }

    /// XING's id of our posting: the one we were given, or one found by `job_code`.
    async fn known_id(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Option<String>, BoardError> {
        match posting.external_id {
            Some(id) => Ok(Some(id.to_owned())),
            None => Ok(self
                .find(posting.reference, log)
                .await?
                .map(|p| p.id.to_string())),
        }
    }
}

fn accepted(id: String) -> Receipt {
    Receipt::Accepted {
        task: id.clone(),
        external_id: Some(id),
    }
}

fn is_status(error: &BoardError, status: u16) -> bool {
    error.class == ErrorClass::Rejected && error.http_status == Some(status)
}

/// The answer classified by status, in XING's words where the body has them.
fn error(reply: &Reply) -> BoardError {
    let detail = match serde_json::from_str::<ErrorBody>(&reply.body) {
        Ok(body) => {
            let mut text = format!("{} ({})", body.message, body.error_name);
            for field in &body.errors {
                text.push_str(&format!("; {}: {}", field.field, field.reason));
                if let Some(message) = &field.message {
                    text.push_str(&format!(", {message}"));
                }
            }
            text
        }
        Err(_) => http::excerpt(&reply.body),
    };
    http::classify(
        reply.status,
        &reply.headers,
        &format!("{NAME} answered {}: {detail}", reply.status),
    )
}

#[async_trait]
impl Board for Xing {
    fn id(&self) -> &'static str {
        ID
    }

    /// A posting's order cannot change once it exists (XING help centre,
    /// "Update job advertisement"): a new `order_id` means a new posting.
    fn fixed_fields(&self, _posting: &PostingContext<'_>) -> Option<String> {
        Some(format!("order_id={}", self.account.order_id))
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let body = render(posting, &self.account)?;
        if posting.may_exist
            && let Some(found) = self.find(posting.reference, log).await?
        {
            let id = found.id.to_string();
            return self.revise(&id, &body, found.state != "active", log).await;
        }
        self.create_and_activate(&body, log).await
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let body = render(posting, &self.account)?;
        let Some(id) = self.known_id(posting, log).await? else {
            return self.create_and_activate(&body, log).await;
        };
        match self.revise(&id, &body, !posting.live_at_board, log).await {
            // XING does not have it (any more): make it now.
            Err(error) if is_status(&error, 404) => self.create_and_activate(&body, log).await,
            other => other,
        }
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let Some(id) = self.known_id(posting, log).await? else {
            return Ok(Receipt::Withdrawn);
        };
        let refused = match self.act(&id, "archive", log).await {
            Ok(()) => return Ok(Receipt::Withdrawn),
            Err(error) if is_status(&error, 404) => error,
            Err(error) => return Err(error),
        };
        // A 404 is "gone" only when the lookup by job_code finds no open
        // posting of ours; one under another id is archived too.
        match self.find(posting.reference, log).await? {
            None => Ok(Receipt::Withdrawn),
            Some(found) if matches!(found.state.as_str(), "archived" | "deleted") => {
                Ok(Receipt::Withdrawn)
            }
            Some(found) if found.id.to_string() != id => {
                self.act(&found.id.to_string(), "archive", log).await?;
                Ok(Receipt::Withdrawn)
            }
            Some(_) => Err(BoardError::new(
                ErrorClass::Transient,
                refused.http_status,
                format!("{NAME} answered 404 to archiving {id}, yet lists it; trying again later"),
            )),
        }
    }

    async fn confirm(
        &self,
        _posting: &PostingContext<'_>,
        task: &str,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let Some(state) = self.state(task, log).await? else {
            return Err(BoardError::new(
                ErrorClass::Rejected,
                log.http_status,
                format!("{NAME} has no posting {task}"),
            ));
        };
        if !state.visible_errors.is_empty() {
            return Err(BoardError::new(
                ErrorClass::Rejected,
                log.http_status,
                format!(
                    "{NAME} refused posting {task}: {}",
                    state.visible_errors.join(", ")
                ),
            ));
        }
        match state.state.as_str() {
            "active" if state.visible => Ok(Receipt::Live {
                external_id: task.to_owned(),
                url: Some(public_url(task)),
            }),
            // Created, or active while XING checks the order.
            "created" | "active" => Ok(Receipt::Pending),
            other => Err(BoardError::new(
                ErrorClass::Rejected,
                log.http_status,
                format!("{NAME} shows posting {task} as {other}, not active"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_reduced_to_the_allowed_tags() {
        let dirty = "<div style=\"color:red\"><p class=\"x\">Hi <span>there</span></p>\
                     <script>alert(1)</script><STYLE>p{}</STYLE><!-- note -->\
                     <h1>Big</h1><a href=\"https://x.example/?a=1&amp;b=2\" onclick=\"evil()\">link</a>\
                     <br/><table><tr><td>cell</td></tr></table></div>";
        assert_eq!(
            reduce_html(dirty),
            "<p>Hi there</p>Big<a href=\"https://x.example/?a=1&amp;b=2\">link</a><br>cell"
        );
        let clean = "<p>a &amp; b</p><h3>T</h3><ul><li>x</li></ul>";
        assert_eq!(reduce_html(clean), clean);
    }

    #[test]
    fn oauth_encoding_follows_rfc_5849() {
        assert_eq!(oauth_encode("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(oauth_encode("s&t ü"), "s%26t%20%C3%BC");
    }

    #[test]
    fn amounts_are_whole_when_they_can_be() {
        assert_eq!(amount(48000.0).to_string(), "48000");
        assert_eq!(amount(15.5).to_string(), "15.5");
    }
}
