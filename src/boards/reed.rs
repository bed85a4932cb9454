//! Reed (UK): the Recruiter API, REST with every request signed
//! (BOARDS.md §2 row 20, §3.15, §6.1 and its December 2026 corrections).
//! The conformance record, with every source, is `docs/boards/reed.md`.
//!
//! Documented (reed.co.uk/developers/Recruiter, /SignatureTest):
//! `POST https://www.reed.co.uk/recruiter/api/1.0/jobs` creates a job,
//! `PUT …/jobs/update/{jobId}` edits a live one, `PUT …/jobs/end/{jobId}`
//! ends it and `PUT …/jobs/relist/{jobId}` relists an ended one, each with
//! `username` (and `postingKey` for a bulk poster) in the body. Every request
//! carries the integrator's Client ID, a UTC timestamp (`X-TimeStamp`) and a
//! signature: the Base64 of an HMAC-SHA1, keyed with the API key, over the
//! concatenation of the HTTP method, the User-Agent, the full request URL,
//! the host (always `www.reed.co.uk`, so we sign that literal even against
//! the sandbox) and the timestamp; the header names `X-ApiClientId` and
//! `X-ApiSignature` are those public clients send. Body fields: `username`,
//! `jobType` (1 permanent, 2 contract, 4 temporary), `workingHours` (1 full
//! time, 2 part time, 3 either), `description` (150–6,500 characters, no
//! e-mail addresses, URLs or phone numbers), `title` (≤255, no HTML,
//! e-mails, URLs or phones), `townName` (≤255, the same exclusions, a UK town
//! or postcode only; a postcode is recommended, so we send the location's
//! postcode when it has one); optional `postingKey`, `productId` (1 standard,
//! 2 premium, 3 featured, 4 premium+, 81 marketplace; absent = the account's
//! preferred credit), `expiryInDays` (≤42, default 42), `isDemo` (creates a
//! draft; "only used in Post job, not Edit") and `ownerRef`, the poster's own
//! reference, which carries ours. Salary, as public clients send it:
//! `minSalary`, `maxSalary`, `currency` (1 = GBP) and `salaryType` (1 per
//! hour, 2 per day, 5 per annum); a monthly or weekly salary is sent per
//! annum (×12, ×52), which loses nothing. The create answer is `{JobId,
//! ResponseMessage}`; errors are `{message, modelState: {field: [..]}}`.
//!
//! Inferred [inferred] (no source found; the sandbox twin plays the same):
//! * the lookup `GET …/jobs?ownerRef=…&username=…` (no read endpoint is
//!   documented; without one a lost create could not be found) answering a
//!   list of `{JobId, OwnerRef, Status}` (`Live`, `Draft`, `Ended`);
//! * a JSON body (public clients send the same field names form-encoded;
//!   Reed runs ASP.NET Web API, which binds either);
//! * 401 for a bad signature or a timestamp more than 5 minutes off, 403 for
//!   a posting key of another account, 404 for a job id the account does
//!   not have;
//! * how markup counts: the description is sent as simple HTML (`p`,
//!   `strong`, `ul`, `li`, as public clients send it); we check the minimum
//!   against the text a reader sees and the maximum against what we send;
//! * `expiryInDays` from the job's `valid_through`: the days left, rounded
//!   up, at most 42; a `valid_through` already passed is refused;
//! * employment types: full time → permanent, full time; part time →
//!   permanent, part time; contract → contract, full time; temporary and
//!   internship → temporary, full time; volunteer and other are refused;
//! * what counts as an e-mail address, a URL and a phone number.
//!
//! The apply URL and e-mail are not sent: Reed takes applications on the
//! recruiter account, and its descriptions may not carry URLs or addresses.
//! No request rate is documented.

use std::collections::BTreeMap;

use async_trait::async_trait;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::http::{self, Reply};
use super::render::{chars, check_max, headings};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::{EmploymentType, LocalizedAd, PayPeriod, primary_language};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str =
    "Recruiter API (POST /jobs, PUT /jobs/update|end|relist/{jobId}), HMAC-SHA1 signed requests";
pub const ID: &str = "reed";
const NAME: &str = "Reed";
const LANGUAGE: &str = "en";
/// Reed publishes jobs in the United Kingdom only (ISO 3166-1: GB).
pub const COUNTRY: &str = "GB";
pub const MAX_TITLE: usize = 255;
pub const MIN_DESCRIPTION: usize = 150;
pub const MAX_DESCRIPTION: usize = 6_500;
pub const MAX_TOWN: usize = 255;
/// The longest run of an ad, in days.
pub const MAX_EXPIRY_DAYS: u32 = 42;
/// Reed's credit types (`productId`).
pub const PRODUCT_IDS: [u32; 5] = [1, 2, 3, 4, 81];
/// The API's path under the base URL.
pub const JOBS_PATH: &str = "recruiter/api/1.0/jobs";
/// The host every signature names, whatever URL the request goes to.
pub const SIGNED_HOST: &str = "www.reed.co.uk";
/// Header names, as the docs and public clients spell them.
pub const CLIENT_ID_HEADER: &str = "X-ApiClientId";
pub const SIGNATURE_HEADER: &str = "X-ApiSignature";
pub const TIMESTAMP_HEADER: &str = "X-TimeStamp";
/// `salaryType` codes public clients document.
pub const SALARY_PER_HOUR: u8 = 1;
pub const SALARY_PER_DAY: u8 = 2;
pub const SALARY_PER_ANNUM: u8 = 5;
/// `currency` code of pounds sterling.
pub const CURRENCY_GBP: u8 = 1;
/// Sent explicitly on every request, because it is part of what is signed.
pub const USER_AGENT: &str = concat!("boardcast/", env!("CARGO_PKG_VERSION"));

/// The body of a create (POST) or an edit (PUT), in the documented order.
/// The client's `postingKey` is not here: it is a secret, added when the
/// body is sent (see [`Reed`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRequest {
    pub username: String,
    /// 1 permanent, 2 contract, 4 temporary.
    pub job_type: u8,
    /// 1 full time, 2 part time, 3 full or part time.
    pub working_hours: u8,
    pub description: String,
    pub title: String,
    pub town_name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub product_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expiry_in_days: Option<u32>,
    /// Creates only; an edit leaves it out.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub is_demo: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub min_salary: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_salary: Option<f64>,
    /// 1 = GBP.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub currency: Option<u8>,
    /// 1 per hour, 2 per day, 5 per annum.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_type: Option<u8>,
    /// The poster's own reference: ours, so a lost answer can be looked up.
    pub owner_ref: String,
}

/// The body of an end or a relist: the account only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRequest {
    pub username: String,
}

/// The answer to a create, an edit, an end or a relist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobAnswer {
    pub job_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_message: Option<String>,
}

/// One job of the lookup's answer [inferred].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobRecord {
    pub job_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_ref: Option<String>,
    /// `Live`, `Draft` or `Ended`.
    pub status: String,
}

/// The board's error body (ASP.NET Web API's shape) [I].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub message: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub model_state: BTreeMap<String, Vec<String>>,
}

/// The recruiter account the jobs are posted for (non-secret options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The client's reed.co.uk recruiter login: an e-mail address.
    pub username: String,
    /// The credit type to spend; `None` lets Reed choose.
    pub product_id: Option<u32>,
    /// Post drafts (Reed's `isDemo`), to try the integration.
    pub is_demo: bool,
}

/// The signature Reed checks: Base64(HMAC-SHA1(api_key, method ‖ user agent
/// ‖ full URL ‖ host ‖ timestamp)).
pub fn signature(
    api_key: &str,
    method: &str,
    user_agent: &str,
    url: &str,
    host: &str,
    timestamp: &str,
) -> String {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(api_key.as_bytes()).expect("HMAC takes keys of any length");
    for part in [method, user_agent, url, host, timestamp] {
        mac.update(part.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Builds the create request for one language variant: a pure function of
/// the posting, the account and `now` (which only `expiryInDays` reads).
pub fn render(
    posting: &PostingContext<'_>,
    account: &Account,
    now: OffsetDateTime,
) -> Result<JobRequest, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    let language = primary_language(posting.locale);
    if language != LANGUAGE {
        super::preview::broken(format!(
            "{NAME} takes ads in {LANGUAGE}; this one is in {language}"
        ))?;
    }
    let Some(location) = job.locations.iter().find(|l| l.country == COUNTRY) else {
        let mut countries: Vec<&str> = Vec::new();
        for location in &job.locations {
            if !countries.contains(&location.country.as_str()) {
                countries.push(&location.country);
            }
        }
        return Err(BoardError::rule(format!(
            "{NAME} publishes jobs in {COUNTRY} only; this job is in {}",
            countries.join(", ")
        )));
    };
    let (job_type, working_hours) = match job.employment_type {
        EmploymentType::FullTime => (1, 1),
        EmploymentType::PartTime => (1, 2),
        EmploymentType::Contract => (2, 1),
        EmploymentType::Temporary | EmploymentType::Internship => (4, 1),
        EmploymentType::Volunteer | EmploymentType::Other => {
            return Err(BoardError::rule(format!(
                "{NAME} takes permanent, contract and temporary jobs; employment type {} has no Reed jobType",
                crate::boards::render::employment_type_name(job.employment_type)
            )));
        }
    };

    check_max(NAME, "title", &ad.title, MAX_TITLE)?;
    if let Some(tag) = find_html(&ad.title) {
        super::preview::broken(format!(
            "title contains HTML ({tag:?}); {NAME} allows no HTML in the title"
        ))?;
    }
    check_contact_details("title", &ad.title)?;

    let visible = plain_description(ad, posting.locale);
    check_contact_details("description", &visible)?;
    let length = chars(&visible);
    if length < MIN_DESCRIPTION {
        super::preview::broken(format!(
            "description is {length} characters; {NAME} needs at least {MIN_DESCRIPTION}"
        ))?;
    }
    let description = html_description(ad, posting.locale);
    check_max(NAME, "description", &description, MAX_DESCRIPTION)?;

    // A postcode places the job best (the docs recommend it).
    let town_name = location
        .postal_code
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(location.city.trim())
        .to_owned();
    if town_name.is_empty() {
        super::preview::broken(format!(
            "the {COUNTRY} location has neither a town nor a postcode; {NAME} needs a townName"
        ))?;
    }
    check_max(NAME, "townName", &town_name, MAX_TOWN)?;
    if find_html(&town_name).is_some() {
        super::preview::broken(format!("townName contains HTML; {NAME} allows none"))?;
    }
    check_contact_details("townName", &town_name)?;

    if let Some(product_id) = account.product_id
        && !PRODUCT_IDS.contains(&product_id)
    {
        return Err(BoardError::rule(format!(
            "productId {product_id} is not one of {NAME}'s credit types (1, 2, 3, 4, 81)"
        )));
    }

    let expiry_in_days = match job.valid_through {
        None => None,
        Some(until) => {
            let seconds = (until - now).whole_seconds();
            if seconds <= 0 {
                super::preview::broken(format!(
                    "valid_through {} has passed; {NAME} needs expiryInDays of 1 to {MAX_EXPIRY_DAYS}",
                    until.date()
                ))?;
            }
            // Whole days, a part day counting as one (seconds > 0 here).
            let days = (seconds + 86_399) / 86_400;
            Some(u32::try_from(days).unwrap_or(u32::MAX).min(MAX_EXPIRY_DAYS))
        }
    };

    let (min_salary, max_salary, salary_type) = match &job.salary {
        None => (None, None, None),
        Some(salary) => {
            if salary.currency != "GBP" {
                super::preview::broken(format!(
                    "{NAME} takes salaries in GBP; this one is in {}",
                    salary.currency
                ))?;
            }
            let (factor, salary_type) = match salary.period {
                PayPeriod::Year => (1.0, SALARY_PER_ANNUM),
                PayPeriod::Month => (12.0, SALARY_PER_ANNUM),
                PayPeriod::Week => (52.0, SALARY_PER_ANNUM),
                PayPeriod::Day => (1.0, SALARY_PER_DAY),
                PayPeriod::Hour => (1.0, SALARY_PER_HOUR),
            };
            (
                Some(salary.min * factor),
                Some(salary.max * factor),
                Some(salary_type),
            )
        }
    };

    Ok(JobRequest {
        username: account.username.clone(),
        job_type,
        working_hours,
        description,
        title: ad.title.clone(),
        town_name,
        product_id: account.product_id,
        expiry_in_days,
        is_demo: Some(account.is_demo),
        currency: salary_type.map(|_| CURRENCY_GBP),
        min_salary,
        max_salary,
        salary_type,
        owner_ref: posting.reference.to_owned(),
    })
}

/// The description as Reed shows it: summary, then each section as a bold
/// line and a list.
fn html_description(ad: &LocalizedAd, locale: &str) -> String {
    let titles = headings(locale);
    let mut html = format!("<p>{}</p>", escape_text(&ad.summary));
    for (heading, items) in sections(ad, &titles) {
        html.push_str(&format!(
            "<p><strong>{}</strong></p><ul>",
            escape_text(heading)
        ));
        for item in items {
            html.push_str(&format!("<li>{}</li>", escape_text(item)));
        }
        html.push_str("</ul>");
    }
    html
}

/// Escapes element text: `&`, `<` and `>` only, so apostrophes and quotes
/// stay the characters Reed counts and shows.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The same text without markup, one line per paragraph or item: what a
/// reader sees, for the minimum length and the contact-details rules.
fn plain_description(ad: &LocalizedAd, locale: &str) -> String {
    let titles = headings(locale);
    let mut text = ad.summary.clone();
    for (heading, items) in sections(ad, &titles) {
        text.push('\n');
        text.push_str(heading);
        for item in items {
            text.push('\n');
            text.push_str(item);
        }
    }
    text
}

fn sections<'a>(
    ad: &'a LocalizedAd,
    titles: &crate::boards::render::Headings,
) -> Vec<(&'static str, &'a [String])> {
    [
        (titles.responsibilities, ad.responsibilities.as_slice()),
        (titles.requirements, ad.requirements.as_slice()),
        (titles.benefits, ad.benefits.as_slice()),
    ]
    .into_iter()
    .filter(|(_, items)| !items.is_empty())
    .collect()
}

/// Reed's three exclusions, in the order the docs list them.
fn check_contact_details(field: &str, text: &str) -> Result<(), BoardError> {
    if let Some(found) = find_email(text) {
        super::preview::broken(format!(
            "{field} contains an e-mail address ({found:?}); {NAME} allows none in the {field}"
        ))?;
    }
    if let Some(found) = find_url(text) {
        super::preview::broken(format!(
            "{field} contains a URL ({found:?}); {NAME} allows none in the {field}"
        ))?;
    }
    if let Some(found) = find_phone(text) {
        super::preview::broken(format!(
            "{field} contains a phone number ({found:?}); {NAME} allows none in the {field}"
        ))?;
    }
    Ok(())
}

/// Words, split on white space, stripped of the punctuation around them.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace().map(|word| {
        word.trim_matches(|c: char| {
            matches!(
                c,
                '(' | ')' | '[' | ']' | '<' | '>' | '"' | '\'' | ',' | ';' | ':' | '!' | '?' | '.'
            )
        })
    })
}

/// `local@domain.tld`.
fn find_email(text: &str) -> Option<&str> {
    words(text).find(|word| {
        let Some((local, domain)) = word.split_once('@') else {
            return false;
        };
        let Some((_, tld)) = domain.rsplit_once('.') else {
            return false;
        };
        !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "._%+-".contains(c))
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || ".-".contains(c))
            && tld.chars().count() >= 2
            && tld.chars().all(char::is_alphabetic)
    })
}

/// A scheme, `www.`, or a bare domain under a common UK or generic TLD.
fn find_url(text: &str) -> Option<&str> {
    const TLDS: [&str; 5] = [".com", ".co.uk", ".org", ".uk", ".io"];
    words(text).find(|word| {
        let lower = word.to_lowercase();
        if lower.contains("://") || lower.starts_with("www.") {
            return true;
        }
        // "contoso.com/jobs": the host is what precedes the path.
        let host = lower.split('/').next().unwrap_or_default();
        TLDS.iter().any(|tld| {
            host.strip_suffix(tld).is_some_and(|name| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            })
        })
    })
}

/// 10 to 15 digits in groups split by single spaces, hyphens, dots or
/// brackets, optionally after `+`: "020 7946 0958", "+44 (0)20 7946 0958".
fn find_phone(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let opens = bytes[start].is_ascii_digit() || bytes[start] == b'+' || bytes[start] == b'(';
        let after_word = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        if !(opens && after_word) {
            start += 1;
            continue;
        }
        let mut end = start;
        let mut digits = 0;
        let mut last_digit_end = start;
        let mut separators = 0;
        while end < bytes.len() {
            let b = bytes[end];
            if b.is_ascii_digit() {
                digits += 1;
                separators = 0;
                last_digit_end = end + 1;
            } else if (b == b'+' && end == start) || matches!(b, b' ' | b'-' | b'.' | b'(' | b')') {
                separators += 1;
                // "(0) 20": a bracket next to a space is still one gap.
                if separators > 2 {
                    break;
                }
            } else {
                break;
            }
            end += 1;
        }
        let ends_word =
            last_digit_end == bytes.len() || !bytes[last_digit_end].is_ascii_alphanumeric();
        if (10..=15).contains(&digits) && ends_word {
            return Some(&text[start..last_digit_end]);
        }
        start = end.max(start + 1);
    }
    None
}

/// A tag (`<b>`, `</p>`, `<br/>`) or a comment.
fn find_html(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        let candidate = &rest[at..];
        let opens = candidate[1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if opens && let Some(close) = candidate.find('>') {
            return Some(&candidate[..=close]);
        }
        rest = &candidate[1..];
    }
    None
}

/// Every operation's request as it leaves us (the posting key aside), for
/// the golden files: `(operation, method, path under the base URL, body)`.
pub fn operations(
    create: &JobRequest,
    account: &Account,
    job_id: &str,
) -> Vec<(
    &'static str,
    &'static str,
    String,
    Option<serde_json::Value>,
)> {
    let account_body = serde_json::to_value(AccountRequest {
        username: account.username.clone(),
    })
    .expect("bodies serialise");
    let edit = JobRequest {
        is_demo: None,
        ..create.clone()
    };
    let verb = |verb: Verb| format!("{JOBS_PATH}/{}/{job_id}", verb.path());
    vec![
        (
            "publish",
            "POST",
            JOBS_PATH.to_owned(),
            Some(serde_json::to_value(create).expect("bodies serialise")),
        ),
        (
            "update",
            "PUT",
            verb(Verb::Update),
            Some(serde_json::to_value(&edit).expect("bodies serialise")),
        ),
        (
            "withdraw",
            "PUT",
            verb(Verb::End),
            Some(account_body.clone()),
        ),
        ("relist", "PUT", verb(Verb::Relist), Some(account_body)),
        (
            "lookup",
            "GET",
            format!(
                "{JOBS_PATH}?ownerRef={}&username={}",
                create.owner_ref,
                account.username.replace('@', "%40")
            ),
            None,
        ),
    ]
}

/// The body as sent: the rendered request plus the client's posting key.
#[derive(Serialize)]
struct Sent<'a, T: Serialize> {
    #[serde(flatten)]
    body: &'a T,
    #[serde(rename = "postingKey", skip_serializing_if = "Option::is_none")]
    posting_key: Option<&'a str>,
}

/// The three job verbs Reed takes by `PUT …/jobs/<verb>/{jobId}`.
#[derive(Debug, Clone, Copy)]
enum Verb {
    Update,
    End,
    Relist,
}

impl Verb {
    fn path(self) -> &'static str {
        match self {
            Verb::Update => "update",
            Verb::End => "end",
            Verb::Relist => "relist",
        }
    }
}

pub struct Reed {
    http: reqwest::Client,
    jobs_url: url::Url,
    client_id: SecretString,
    api_key: SecretString,
    /// Only when posting on behalf of a client account (a bulk poster).
    posting_key: Option<SecretString>,
    account: Account,
    timeout: std::time::Duration,
}

impl Reed {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let invalid = |name: &str| BuildError::MissingOption {
            board: config.id.to_owned(),
            key: config.id.replace('-', "_"),
            name: name.to_owned(),
        };
        let username = config.option("username")?;
        if !username.contains('@') {
            return Err(invalid(
                "username (the e-mail address of the reed.co.uk recruiter account)",
            ));
        }
        let product_id = match config.settings.options.get("product_id") {
            None => None,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(id) if PRODUCT_IDS.contains(&id) => Some(id),
                _ => return Err(invalid("product_id (1, 2, 3, 4 or 81)")),
            },
        };
        let is_demo = match config.settings.options.get("is_demo").map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(invalid("is_demo (true or false)")),
        };
        Ok(Self {
            http: config.http.clone(),
            jobs_url: config
                .base_url()?
                .join(JOBS_PATH)
                .expect("a static path joins"),
            client_id: config.credential("client_id")?,
            api_key: config.credential("api_key")?,
            posting_key: config.credential("posting_key").ok(),
            account: Account {
                username,
                product_id,
                is_demo,
            },
            timeout: config.request_timeout,
        })
    }

    fn render(&self, posting: &PostingContext<'_>) -> Result<JobRequest, BoardError> {
        render(posting, &self.account, OffsetDateTime::now_utc())
    }

    /// `…/jobs/<verb>/{jobId}`.
    fn verb_url(&self, verb: Verb, job_id: &str) -> url::Url {
        let mut url = self.jobs_url.clone();
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .push(verb.path())
            .push(job_id);
        url
    }

    /// Signs and sends one request.
    async fn call<T: Serialize>(
        &self,
        method: reqwest::Method,
        url: url::Url,
        body: Option<&T>,
        log: &mut CallLog,
    ) -> Result<Reply, BoardError> {
        let timestamp = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("0 is a valid nanosecond")
            .format(&Rfc3339)
            .expect("a UTC time formats as RFC 3339");
        let signed = signature(
            self.api_key.expose_secret(),
            method.as_str(),
            USER_AGENT,
            url.as_str(),
            SIGNED_HOST,
            &timestamp,
        );
        let mut request = self
            .http
            .request(method, url)
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(CLIENT_ID_HEADER, self.client_id.expose_secret())
            .header(SIGNATURE_HEADER, signed)
            .header(TIMESTAMP_HEADER, timestamp)
            .timeout(self.timeout);
        // The attempt's hash covers the rendered body, without the posting key.
        let rendered = body.map(|b| serde_json::to_vec(b).expect("request bodies serialise"));
        if let Some(body) = body {
            let sent = Sent {
                body,
                posting_key: self.posting_key.as_ref().map(|k| k.expose_secret()),
            };
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&sent).expect("request bodies serialise"));
        }
        let reply = http::send(NAME, request, rendered.as_deref(), log).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(error(&reply))
        }
    }

    async fn create(&self, body: &JobRequest, log: &mut CallLog) -> Result<JobAnswer, BoardError> {
        self.call(
            reqwest::Method::POST,
            self.jobs_url.clone(),
            Some(body),
            log,
        )
        .await?
        .json(NAME)
    }

    /// `PUT …/jobs/update/{jobId}`; `isDemo` is for creates only.
    async fn edit(
        &self,
        job_id: &str,
        body: &JobRequest,
        log: &mut CallLog,
    ) -> Result<JobAnswer, BoardError> {
        let body = JobRequest {
            is_demo: None,
            ..body.clone()
        };
        self.call(
            reqwest::Method::PUT,
            self.verb_url(Verb::Update, job_id),
            Some(&body),
            log,
        )
        .await?
        .json(NAME)
    }

    /// `PUT …/jobs/end/{jobId}` or `…/relist/{jobId}`: the account is the body.
    async fn account_call(
        &self,
        verb: Verb,
        job_id: &str,
        log: &mut CallLog,
    ) -> Result<Reply, BoardError> {
        let body = AccountRequest {
            username: self.account.username.clone(),
        };
        self.call(
            reqwest::Method::PUT,
            self.verb_url(verb, job_id),
            Some(&body),
            log,
        )
        .await
    }

    /// Edits `job_id` (relisting it first if it was ended), or creates the
    /// job if Reed has no such id.
    async fn edit_or_create(
        &self,
        job_id: &str,
        body: &JobRequest,
        ended: bool,
        log: &mut CallLog,
    ) -> Result<JobAnswer, BoardError> {
        if ended {
            match self.account_call(Verb::Relist, job_id, log).await {
                Ok(_) => {}
                Err(error) if is_not_found(&error) => return self.create(body, log).await,
                // Not ended after all (live, or a draft): the edit will do.
                Err(error) if error.http_status == Some(400) => {}
                Err(error) => return Err(error),
            }
        }
        match self.edit(job_id, body, log).await {
            Err(error) if is_not_found(&error) => self.create(body, log).await,
            other => other,
        }
    }

    /// Our jobs at Reed, by our reference in `ownerRef` [inferred endpoint].
    async fn find(&self, reference: &str, log: &mut CallLog) -> Result<Vec<JobRecord>, BoardError> {
        let mut url = self.jobs_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("ownerRef", reference);
            query.append_pair("username", &self.account.username);
            if let Some(key) = &self.posting_key {
                query.append_pair("postingKey", key.expose_secret());
            }
        }
        self.call::<()>(reqwest::Method::GET, url, None, log)
            .await?
            .json(NAME)
    }

    /// A live copy first, else any.
    async fn find_one(
        &self,
        reference: &str,
        log: &mut CallLog,
    ) -> Result<Option<JobRecord>, BoardError> {
        let records = self.find(reference, log).await?;
        let best = records
            .iter()
            .find(|r| r.status != STATUS_ENDED)
            .or(records.first());
        Ok(best.cloned())
    }

    /// Ends `job_id`. A 404 or 400 counts as "already gone" only when the
    /// lookup confirms no live copy of ours is left; a live copy under
    /// another id is ended too.
    async fn end(
        &self,
        reference: &str,
        job_id: &str,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let refused = match self.account_call(Verb::End, job_id, log).await {
            Ok(_) => return Ok(Receipt::Withdrawn),
            Err(error) if matches!(error.http_status, Some(400 | 404)) => error,
            Err(error) => return Err(error),
        };
        let records = self.find(reference, log).await?;
        let live: Vec<&JobRecord> = records
            .iter()
            .filter(|r| r.status != STATUS_ENDED)
            .collect();
        match live.as_slice() {
            [] => Ok(Receipt::Withdrawn),
            [other] if other.job_id.to_string() != job_id => {
                let other = other.job_id.to_string();
                self.account_call(Verb::End, &other, log).await?;
                Ok(Receipt::Withdrawn)
            }
            _ => Err(BoardError::new(
                ErrorClass::Transient,
                refused.http_status,
                format!(
                    "{NAME} refused to end job {job_id} ({}), yet still lists it live; trying again later",
                    refused.message
                ),
            )),
        }
    }
}

/// The lookup's status of an ended job [inferred].
pub const STATUS_ENDED: &str = "Ended";

/// Reed's answer as an error: the status decides the class (a refused
/// posting key, 403, is a credentials problem), the body names the reasons.
fn error(reply: &Reply) -> BoardError {
    let mut error = reply.error(NAME);
    if reply.status == 403 {
        error.class = ErrorClass::Auth;
    }
    if let Ok(body) = serde_json::from_str::<ErrorBody>(&reply.body) {
        let mut message = format!("{NAME} answered {}: {}", reply.status, body.message);
        for (field, reasons) in &body.model_state {
            message.push_str(&format!(" {field}: {}", reasons.join(" ")));
        }
        error.message = http::excerpt(&message);
    }
    error
}

fn is_not_found(error: &BoardError) -> bool {
    error.class == ErrorClass::Rejected && error.http_status == Some(404)
}

/// Reed's answers carry no URL of the ad.
fn live(answer: JobAnswer) -> Receipt {
    Receipt::Live {
        external_id: answer.job_id.to_string(),
        url: None,
    }
}

#[async_trait]
impl Board for Reed {
    fn id(&self) -> &'static str {
        ID
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let body = self.render(posting)?;
        if let Some(job_id) = posting.external_id {
            let ended = !posting.live_at_board;
            return Ok(live(self.edit_or_create(job_id, &body, ended, log).await?));
        }
        // Reed does not deduplicate: an earlier create that landed unheard
        // is found by our reference and edited, not created twice.
        if posting.may_exist
            && let Some(found) = self.find_one(posting.reference, log).await?
        {
            let job_id = found.job_id.to_string();
            let ended = found.status == STATUS_ENDED;
            return Ok(live(self.edit_or_create(&job_id, &body, ended, log).await?));
        }
        Ok(live(self.create(&body, log).await?))
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let body = self.render(posting)?;
        let answer = match posting.external_id {
            Some(job_id) => {
                self.edit_or_create(job_id, &body, !posting.live_at_board, log)
                    .await?
            }
            None => match self.find_one(posting.reference, log).await? {
                Some(found) => {
                    let ended = found.status == STATUS_ENDED;
                    self.edit_or_create(&found.job_id.to_string(), &body, ended, log)
                        .await?
                }
                // The board never got the create: make it now.
                None => self.create(&body, log).await?,
            },
        };
        Ok(live(answer))
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let job_id = match posting.external_id {
            Some(id) => id.to_owned(),
            None => match self.find_one(posting.reference, log).await? {
                Some(found) if found.status != STATUS_ENDED => found.job_id.to_string(),
                // Never there, or ended already: what we wanted.
                _ => return Ok(Receipt::Withdrawn),
            },
        };
        self.end(posting.reference, &job_id, log).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_urls_and_phones_are_found() {
        assert_eq!(
            find_email("write to jobs@contoso.co.uk."),
            Some("jobs@contoso.co.uk")
        );
        assert_eq!(find_email("use @mentions and a@b"), None);
        assert_eq!(
            find_url("see https://x.example/a"),
            Some("https://x.example/a")
        );
        assert_eq!(
            find_url("visit www.contoso.example"),
            Some("www.contoso.example")
        );
        assert_eq!(
            find_url("at contoso.com/jobs today"),
            Some("contoso.com/jobs")
        );
        assert_eq!(find_url("ASP.NET and Node.js, e.g. this"), None);
        assert_eq!(find_phone("call 020 7946 0958 now"), Some("020 7946 0958"));
        assert_eq!(
            find_phone("or +44 (0)20 7946 0958."),
            Some("+44 (0)20 7946 0958")
        );
        assert_eq!(find_phone("07700900123"), Some("07700900123"));
        assert_eq!(find_phone("401(k), £48,000 - £72,000 in 2026-2027"), None);
        assert_eq!(find_phone("ref 12345678901234567890"), None);
        assert_eq!(find_html("Sales <b>Lead</b>"), Some("<b>"));
        assert_eq!(find_html("R&D < 5 people > 3"), None);
    }
}
