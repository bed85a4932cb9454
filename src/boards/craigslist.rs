//! Craigslist bulk posting interface: an RSS 1.0 document POSTed first to
//! `/bulk-rss/validate`, then (only when every item is valid) the same
//! document to `/bulk-rss/post` (BOARDS.md §2 row 21, §3.16).
//!
//! Documented [V]: paid US categories only (jobs among them), access granted
//! case by case; UTF-8 XML sent as `application/xml; charset="utf-8"`;
//! `<rdf:RDF>` holding `<channel><items><rdf:li rdf:resource=…/></items>`
//! and `<cl:auth username= password= accountID=>` (credentials travel in the
//! body), then one `<item rdf:about=…>` per posting with `title`,
//! `description`, `cl:category` and `cl:area` (valid abbreviations),
//! `cl:replyEmail privacy="A|C|P" outsideContactOK="0|1" otherContactInfo=`
//! (the current page ties "Location required" to `<cl:mapLocation>`, which
//! we send with city, state and postal code: attribute names [I]). 415
//! "Failed to parse RSS"; 403 "Must supply username", "Must supply
//! password", "AccountID required", "Location required"; 200 with an RSS
//! document saying which items are valid or posted, to be checked for
//! `<cl:warning>`s. Craigslist spaces the posts of one batch 30 s apart.
//!
//! Inferred [I], and modelled the same way in the sandbox:
//! - The response items: `<item rdf:about=…>` echoing ours, with
//!   `cl:postedStatus` (`valid`, `posted`, `updated`, `deleted`, `invalid`,
//!   `exists`, `notfound`), `cl:postedExplanation` (the reason, for
//!   `invalid`), `cl:postingID`, `cl:postingURL`, `cl:postingManageURL` and
//!   any number of `cl:warning`s. Namespace `http://www.craigslist.org/about/cl-bulk-ns/1.0`.
//! - Changing or removing a posted ad: the bulk posting interface documents
//!   posting only ("submission of multiple new posts", BOARDS.md corrections),
//!   and its newer JSON features (`bapi.craigslist.org/bulkpost-docs/v1`)
//!   list price changes, balances and fees, not edits or deletes of a job ad.
//!   So an update or a withdrawal of an ad Craigslist holds sends nothing: it
//!   fails with a reason that tells ops to change or delete the posting in
//!   the Craigslist account (the answer's `cl:postingManageURL`). An update
//!   or withdrawal of an ad Craigslist never got posts it, or is done.
//! - Idempotency: none is documented. The item's `rdf:about` (the poster's
//!   own name for the item) carries our reference, and Craigslist
//!   answers a new item whose `rdf:about` names a live posting of the
//!   account with `exists` and that posting's id, at validate and at post
//!   alike. Every publish validates first, so a re-send after a lost answer
//!   is recognised there and answers with the one copy, with or without
//!   `may_exist`.
//! - `cl:mapLocation` is required for job items (403 "Location required").
//! - Like the site, Craigslist refuses a posting identical (area, category,
//!   title, text) to another live one of the account: only the board can
//!   check that, so it comes back as an `invalid` item.
//! - Wrong credentials answer 403 like the missing ones; every 403 is `Auth`
//!   except "Location required", which is about the document (`Rejected`).
//! - 503, 500 and 429 + `Retry-After` follow the shared classes.
//! - Title at most 70 characters; description required; plain text with line
//!   breaks (BOARDS.md §6.2); English; areas from a small city table
//!   ([`AREAS`]), a city we cannot place is a rule failure naming it; the
//!   jobs category from the job's category through [`CATEGORIES`] or the
//!   `category` option.
//! - The reply address: the job's apply email, shown through Craigslist's
//!   anonymising relay (`privacy="C"`). A job with only an apply URL uses the
//!   account's `reply_email` option with `privacy="A"` (no address shown) and
//!   the URL as `otherContactInfo` and in the text; without that option it is
//!   a rule failure. `outsideContactOK="0"` always (no solicitations).
//!
//! The document carries the password: it goes to the wire only, never to a
//! log or an error; the attempt's hash covers the document with the
//! credentials redacted ([`REDACTED`]), and anything Craigslist says back is
//! scrubbed of the credentials before we repeat it.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::http::{self, Reply};
use super::render::{check_max, check_min, headings};
use super::{
    Board, BoardConfig, BoardError, BoardLimits, BuildError, CallLog, ErrorClass, PostingContext,
    Receipt,
};
use crate::intake::message::{
    EmploymentType, Job, Location, PayPeriod, Workplace, primary_language,
};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str = "RSS 1.0 bulk push (validate, then post), credentials in the XML body";
pub const ID: &str = "craigslist";
const NAME: &str = "Craigslist";
/// Craigslist's posting title limit [I].
pub const MAX_TITLE: usize = 70;
/// Bulk posting is for paid categories in the U.S. only.
pub const COUNTRY: &str = "US";
const LANGUAGE: &str = "en";
pub const CONTENT_TYPE: &str = "application/xml; charset=\"utf-8\"";
pub const NS_RSS: &str = "http://purl.org/rss/1.0/";
pub const NS_RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
pub const NS_CL: &str = "http://www.craigslist.org/about/cl-bulk-ns/1.0";

/// City (lower case), state when the name is ambiguous, Craigslist area [I].
pub const AREAS: &[(&str, Option<&str>, &str)] = &[
    ("atlanta", None, "atl"),
    ("austin", None, "aus"),
    ("boston", None, "bos"),
    ("cambridge", Some("MA"), "bos"),
    ("chicago", None, "chi"),
    ("dallas", None, "dal"),
    ("denver", None, "den"),
    ("detroit", None, "det"),
    ("houston", None, "hou"),
    ("los angeles", None, "lax"),
    ("miami", None, "mia"),
    ("minneapolis", None, "min"),
    ("new york", None, "nyc"),
    ("new york city", None, "nyc"),
    ("brooklyn", None, "nyc"),
    ("manhattan", None, "nyc"),
    ("oakland", None, "sfo"),
    ("philadelphia", None, "phi"),
    ("phoenix", None, "phx"),
    ("portland", Some("OR"), "pdx"),
    ("san diego", None, "sdo"),
    ("san francisco", None, "sfo"),
    ("san jose", None, "sfo"),
    ("seattle", None, "sea"),
    ("washington", Some("DC"), "wdc"),
];

/// Craigslist's "jobs" category codes and the job categories that map to
/// each [I: the codes as the site's job URLs show them].
pub const CATEGORIES: &[(&str, &[&str])] = &[
    ("acc", &["accounting", "finance"]),
    ("ofc", &["admin", "administrative", "office"]),
    ("egr", &["architecture", "engineering"]),
    ("med", &["art", "media", "design"]),
    ("sci", &["science", "biotech"]),
    ("bus", &["business", "management"]),
    ("csr", &["customer service", "customer support"]),
    ("edu", &["education", "teaching"]),
    ("fbh", &["food", "hospitality", "restaurant"]),
    ("lab", &["labor", "general labor"]),
    ("gov", &["government"]),
    ("hum", &["human resources", "hr"]),
    ("eng", &["internet engineering"]),
    ("lgl", &["legal", "paralegal"]),
    ("mnu", &["manufacturing"]),
    ("mar", &["marketing", "advertising", "pr"]),
    ("hea", &["healthcare", "health", "medical"]),
    ("npo", &["nonprofit"]),
    ("rej", &["real estate"]),
    ("ret", &["retail", "wholesale"]),
    ("sls", &["sales", "business development"]),
    ("spa", &["salon", "spa", "fitness"]),
    ("sec", &["security"]),
    ("trd", &["skilled trades", "trades"]),
    ("sof", &["software", "qa"]),
    ("sad", &["systems", "networking", "it"]),
    ("tch", &["technical support"]),
    ("trp", &["transportation", "transport", "logistics"]),
    ("tfr", &["tv", "film", "video"]),
    ("web", &["web design", "information design"]),
    ("wri", &["writing", "editing"]),
    ("etc", &["other", "etcetera"]),
];

// ---------------------------------------------------------------------------
// Wire types. quick-xml writes the prefixed names given for serialising and
// matches local names when reading, hence the two names per field.

/// The submission: `<rdf:RDF>` with the channel and the items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename(serialize = "rdf:RDF", deserialize = "RDF"))]
pub struct Document {
    #[serde(rename = "@xmlns", default)]
    pub xmlns: Option<String>,
    #[serde(rename = "@xmlns:rdf", default)]
    pub xmlns_rdf: Option<String>,
    #[serde(rename = "@xmlns:cl", default)]
    pub xmlns_cl: Option<String>,
    pub channel: Channel,
    #[serde(default)]
    pub item: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub items: Items,
    #[serde(
        rename(serialize = "cl:auth", deserialize = "auth"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub auth: Option<AuthElement>,
}

/// `<items>` listing every item by its `rdf:about`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Items {
    #[serde(rename(serialize = "rdf:li", deserialize = "li"), default)]
    pub li: Vec<Li>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Li {
    #[serde(rename(serialize = "@rdf:resource", deserialize = "@resource"))]
    pub resource: String,
}

/// `<cl:auth>`: absent attributes stay `None` so the board can name them.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthElement {
    #[serde(rename = "@username", default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(rename = "@password", default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(
        rename = "@accountID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub account_id: Option<String>,
}

/// Never prints the password (documents are debug-printed in tests and errors).
impl fmt::Debug for AuthElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthElement")
            .field("username", &self.username.as_ref().map(|_| "…"))
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("account_id", &self.account_id)
            .finish()
    }
}

/// One posting. Optional everywhere so the board can say what is missing;
/// the adapter always fills what the action needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Our reference.
    #[serde(rename(serialize = "@rdf:about", deserialize = "@about"))]
    pub about: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(
        rename(serialize = "cl:category", deserialize = "category"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub category: Option<String>,
    #[serde(
        rename(serialize = "cl:area", deserialize = "area"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub area: Option<String>,
    #[serde(
        rename(serialize = "cl:mapLocation", deserialize = "mapLocation"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub map_location: Option<MapLocation>,
    #[serde(
        rename(serialize = "cl:replyEmail", deserialize = "replyEmail"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reply_email: Option<ReplyEmail>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapLocation {
    #[serde(rename = "@city", default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(rename = "@state", default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(rename = "@postal", default, skip_serializing_if = "Option::is_none")]
    pub postal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyEmail {
    /// `A` no address shown, `C` Craigslist's anonymous relay, `P` shown as is.
    #[serde(rename = "@privacy", default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<String>,
    /// `0` adds "it's NOT ok to contact this poster with services or other
    /// commercial interests" to the posting.
    #[serde(
        rename = "@outsideContactOK",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub outside_contact_ok: Option<String>,
    #[serde(
        rename = "@otherContactInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub other_contact_info: Option<String>,
    #[serde(rename = "$text", default)]
    pub address: String,
}

/// The board's answer to a validate or a post (200).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename(serialize = "rdf:RDF", deserialize = "RDF"))]
pub struct ResponseDocument {
    #[serde(rename = "@xmlns", default)]
    pub xmlns: Option<String>,
    #[serde(rename = "@xmlns:rdf", default)]
    pub xmlns_rdf: Option<String>,
    #[serde(rename = "@xmlns:cl", default)]
    pub xmlns_cl: Option<String>,
    pub channel: ResponseChannel,
    #[serde(default)]
    pub item: Vec<ItemResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseChannel {
    pub items: Items,
}

/// What Craigslist says about one item [I: element names].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostedStatus {
    /// Validate: the item would be accepted.
    Valid,
    Posted,
    /// Refused; `cl:postedExplanation` says why.
    Invalid,
    /// A new item whose `rdf:about` names a live posting of the account [I].
    Exists,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    #[serde(rename(serialize = "@rdf:about", deserialize = "@about"))]
    pub about: String,
    #[serde(rename(serialize = "cl:postedStatus", deserialize = "postedStatus"))]
    pub status: PostedStatus,
    #[serde(
        rename(serialize = "cl:postedExplanation", deserialize = "postedExplanation"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub explanation: Option<String>,
    #[serde(
        rename(serialize = "cl:postingID", deserialize = "postingID"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub posting_id: Option<String>,
    #[serde(
        rename(serialize = "cl:postingURL", deserialize = "postingURL"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<String>,
    #[serde(
        rename(serialize = "cl:postingManageURL", deserialize = "postingManageURL"),
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub manage_url: Option<String>,
    #[serde(
        rename(serialize = "cl:warning", deserialize = "warning"),
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub warnings: Vec<String>,
}

/// Serialises a document (submission or response) with its XML declaration.
pub fn to_xml<T: Serialize>(document: &T) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let mut serializer = quick_xml::se::Serializer::new(&mut xml);
    serializer.indent(' ', 2);
    document
        .serialize(serializer)
        .expect("Craigslist documents serialise");
    xml.push('\n');
    xml
}

// ---------------------------------------------------------------------------
// Rendering: pure functions of the posting, the account's options and (for
// the whole document only) the credentials.

/// The account's credentials as they go into `<cl:auth>`.
#[derive(Clone, Copy)]
pub struct Auth<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub account_id: &'a str,
}

/// Non-secret account settings that shape items (`[boards.craigslist.options]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The jobs category code for jobs whose category maps to none.
    pub category: Option<String>,
    /// The account's reply address, for jobs that take applications by URL only.
    pub reply_email: Option<String>,
}

impl Options {
    pub fn from_map(options: &BTreeMap<String, String>) -> Self {
        let get = |name: &str| {
            options
                .get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Self {
            category: get("category"),
            reply_email: get("reply_email"),
        }
    }
}

/// What stands for each credential in the document the attempt's hash covers.
pub const REDACTED: &str = "***";

/// The document for one item, credentials included.
pub fn document(item: Item, auth: &Auth<'_>) -> Document {
    Document {
        xmlns: Some(NS_RSS.to_owned()),
        xmlns_rdf: Some(NS_RDF.to_owned()),
        xmlns_cl: Some(NS_CL.to_owned()),
        channel: Channel {
            items: Items {
                li: vec![Li {
                    resource: item.about.clone(),
                }],
            },
            auth: Some(AuthElement {
                username: Some(auth.username.to_owned()),
                password: Some(auth.password.to_owned()),
                account_id: Some(auth.account_id.to_owned()),
            }),
        },
        item: vec![item],
    }
}

/// The whole submission of a new posting, as sent to validate and to post.
pub fn render(
    posting: &PostingContext<'_>,
    options: &Options,
    auth: &Auth<'_>,
) -> Result<String, BoardError> {
    Ok(to_xml(&document(render_item(posting, options)?, auth)))
}

/// The item of a new posting, after every rule we know of.
pub fn render_item(posting: &PostingContext<'_>, options: &Options) -> Result<Item, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    let language = primary_language(posting.locale);
    if language != LANGUAGE {
        super::preview::broken(format!(
            "{NAME} takes ads in {LANGUAGE}; this one is in {language}"
        ))?;
    }
    let (location, area) = place(job)?;
    let title = clean(ad.title.trim());
    check_min(NAME, "title", &title, 1)?;
    check_max(NAME, "title", &title, MAX_TITLE)?;
    let category = category(job, options)?;
    let reply_email = reply_email(job, options)?;
    let description = description(posting);
    check_min(NAME, "description", ad.summary.trim(), 1)?;
    Ok(Item {
        about: posting.reference.to_owned(),
        title: Some(title),
        description: Some(description),
        category: Some(category),
        area: Some(area.to_owned()),
        map_location: Some(MapLocation {
            city: Some(clean(location.city.trim())),
            state: location.region.as_deref().map(|r| clean(r.trim())),
            postal: location.postal_code.as_deref().map(|p| clean(p.trim())),
        }),
        reply_email: Some(reply_email),
    })
}

/// The area of the job's first US location we can place.
fn place(job: &Job) -> Result<(&Location, &'static str), BoardError> {
    let us: Vec<&Location> = job
        .locations
        .iter()
        .filter(|l| l.country.eq_ignore_ascii_case(COUNTRY))
        .collect();
    if us.is_empty() {
        let mut countries: Vec<&str> = Vec::new();
        for location in &job.locations {
            if !countries.contains(&location.country.as_str()) {
                countries.push(&location.country);
            }
        }
        return Err(BoardError::rule(format!(
            "{NAME} publishes jobs in {COUNTRY}; this job is in {}",
            countries.join(", ")
        )));
    }
    if let Some(found) = us
        .iter()
        .find_map(|location| area_of(location).map(|area| (*location, area)))
    {
        return Ok(found);
    }
    let cities: Vec<String> = us
        .iter()
        .map(|l| match &l.region {
            Some(region) => format!("{}, {region}", l.city),
            None => l.city.clone(),
        })
        .collect();
    Err(BoardError::rule(format!(
        "{NAME} posts by area and no area is known for {}",
        cities.join("; ")
    )))
}

/// The Craigslist area of a US city, from [`AREAS`].
pub fn area_of(location: &Location) -> Option<&'static str> {
    let city = location.city.trim().to_lowercase();
    let region = location.region.as_deref().map(str::trim);
    AREAS.iter().find_map(|(name, state, area)| {
        let state_matches = state.is_none_or(|s| region.is_some_and(|r| r.eq_ignore_ascii_case(s)));
        (*name == city && state_matches).then_some(*area)
    })
}

/// The jobs category code: the job's category (a code or a name in
/// [`CATEGORIES`]), else the `category` option.
fn category(job: &Job, options: &Options) -> Result<String, BoardError> {
    let wanted = job.category.as_deref().map(|c| c.trim().to_lowercase());
    if let Some(wanted) = &wanted {
        let found = CATEGORIES
            .iter()
            .find(|(code, names)| code == wanted || names.contains(&wanted.as_str()));
        if let Some((code, _)) = found {
            return Ok((*code).to_owned());
        }
    }
    if let Some(code) = &options.category {
        return Ok(code.clone());
    }
    Err(BoardError::rule(match wanted {
        Some(category) => format!(
            "{NAME} needs a jobs category and \"{category}\" maps to none; set [boards.craigslist.options] category"
        ),
        None => format!(
            "{NAME} needs a jobs category and the job has none; set [boards.craigslist.options] category"
        ),
    }))
}

fn reply_email(job: &Job, options: &Options) -> Result<ReplyEmail, BoardError> {
    let url = job.apply.url.as_deref().map(|u| clean(u.trim()));
    match (&job.apply.email, &options.reply_email) {
        (Some(email), _) => Ok(ReplyEmail {
            privacy: Some("C".to_owned()),
            outside_contact_ok: Some("0".to_owned()),
            other_contact_info: url,
            address: clean(email.trim()),
        }),
        (None, Some(account)) => Ok(ReplyEmail {
            privacy: Some("A".to_owned()),
            outside_contact_ok: Some("0".to_owned()),
            other_contact_info: url,
            address: account.clone(),
        }),
        (None, None) => Err(BoardError::rule(format!(
            "{NAME} needs a reply email (cl:replyEmail); this job takes applications by URL only and [boards.craigslist.options] has no reply_email"
        ))),
    }
}

/// The ad as plain text with line breaks: summary, the sections as dashed
/// lists, then the facts a job seeker looks for.
pub fn description(posting: &PostingContext<'_>) -> String {
    let job = posting.job;
    let ad = posting.ad;
    let titles = headings(posting.locale);
    let mut text = ad.summary.trim().to_owned();
    for (heading, items) in [
        (titles.responsibilities, &ad.responsibilities),
        (titles.requirements, &ad.requirements),
        (titles.benefits, &ad.benefits),
    ] {
        if items.is_empty() {
            continue;
        }
        text.push_str("\n\n");
        text.push_str(heading);
        text.push(':');
        for item in items {
            text.push_str("\n- ");
            text.push_str(item.trim());
        }
    }
    let mut facts = vec![format!("Company: {}", job.company.name.trim())];
    if let Some(kind) = employment(job.employment_type) {
        facts.push(format!("Employment: {kind}"));
    }
    match job.workplace {
        Workplace::OnSite => {}
        Workplace::Hybrid => facts.push("Workplace: hybrid (part remote)".to_owned()),
        Workplace::Remote => facts.push("Workplace: remote".to_owned()),
    }
    if let Some(salary) = &job.salary {
        facts.push(format!(
            "Compensation: {}–{} {}",
            money(&salary.currency, salary.min),
            money(&salary.currency, salary.max),
            per(salary.period)
        ));
    }
    if let Some(url) = &job.apply.url {
        facts.push(format!("Apply online: {}", url.trim()));
    }
    text.push_str("\n\n");
    text.push_str(&facts.join("\n"));
    clean(&text)
}

fn employment(kind: EmploymentType) -> Option<&'static str> {
    Some(match kind {
        EmploymentType::FullTime => "full-time",
        EmploymentType::PartTime => "part-time",
        EmploymentType::Contract => "contract",
        EmploymentType::Temporary => "temporary",
        EmploymentType::Internship => "internship",
        EmploymentType::Volunteer => "volunteer",
        EmploymentType::Other => return None,
    })
}

fn per(period: PayPeriod) -> &'static str {
    match period {
        PayPeriod::Hour => "per hour",
        PayPeriod::Day => "per day",
        PayPeriod::Week => "per week",
        PayPeriod::Month => "per month",
        PayPeriod::Year => "per year",
    }
}

/// `$85,000` or `EUR 1,234.50`.
fn money(currency: &str, amount: f64) -> String {
    let cents = (amount * 100.0).round() as i64;
    let (whole, fraction) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if fraction != 0 {
        grouped.push_str(&format!(".{fraction:02}"));
    }
    match currency {
        "USD" => format!("${grouped}"),
        other => format!("{other} {grouped}"),
    }
}

/// Drops the characters XML 1.0 cannot carry even escaped.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{fffe}' | '\u{ffff}'))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The adapter.

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Validate,
    Post,
}

pub struct Craigslist {
    http: reqwest::Client,
    validate_url: url::Url,
    post_url: url::Url,
    username: SecretString,
    password: SecretString,
    account_id: String,
    options: Options,
    timeout: std::time::Duration,
}

impl Craigslist {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let base = config.base_url()?;
        Ok(Self {
            http: config.http.clone(),
            validate_url: base.join("bulk-rss/validate").expect("a static path joins"),
            post_url: base.join("bulk-rss/post").expect("a static path joins"),
            username: config.credential("username")?,
            password: config.credential("password")?,
            account_id: config.option("account_id")?,
            options: Options::from_map(&config.settings.options),
            timeout: config.request_timeout,
        })
    }

    /// The board's words with our credentials taken out, in case it echoes them.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in [self.password.expose_secret(), self.username.expose_secret()] {
            if secret.is_empty() {
                continue;
            }
            let escaped = quick_xml::escape::escape(secret);
            for form in [secret, escaped.as_ref()] {
                text = text.replace(form, "***");
            }
        }
        text
    }

    /// One document with one item to one endpoint; the item's result.
    async fn call(
        &self,
        endpoint: Endpoint,
        item: &Item,
        log: &mut CallLog,
    ) -> Result<ItemResult, BoardError> {
        let auth = Auth {
            username: self.username.expose_secret(),
            password: self.password.expose_secret(),
            account_id: &self.account_id,
        };
        // Holds the password: it goes to the wire only. The attempt's hash
        // covers the same document with the credentials redacted, so the
        // stored hash cannot be used to test guesses of the password.
        let body = to_xml(&document(item.clone(), &auth)).into_bytes();
        let redacted = Auth {
            username: REDACTED,
            password: REDACTED,
            account_id: &self.account_id,
        };
        log.request_hash = Some(http::hash(
            to_xml(&document(item.clone(), &redacted)).as_bytes(),
        ));
        let url = match endpoint {
            Endpoint::Validate => &self.validate_url,
            Endpoint::Post => &self.post_url,
        };
        let request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .timeout(self.timeout)
            .body(body.clone());
        let reply = http::send(NAME, request, None, log).await?;
        if !reply.is_success() {
            return Err(failure(&reply, &self.scrub(&http::excerpt(&reply.body))));
        }
        let response: ResponseDocument = quick_xml::de::from_str(&reply.body).map_err(|error| {
            BoardError::new(
                ErrorClass::Ambiguous,
                Some(reply.status),
                format!(
                    "{NAME} answered with a document we could not read ({error}): {}",
                    self.scrub(&http::excerpt(&reply.body))
                ),
            )
        })?;
        response
            .item
            .into_iter()
            .find(|result| result.about == item.about)
            .ok_or_else(|| {
                BoardError::new(
                    ErrorClass::Ambiguous,
                    Some(reply.status),
                    format!("{NAME}'s answer does not mention item {}", item.about),
                )
            })
    }

    /// Validate, then post the same document if the item is valid. Answers
    /// with what Craigslist said of the item, unless it refused it.
    async fn submit(
        &self,
        posting: &PostingContext<'_>,
        item: &Item,
        log: &mut CallLog,
    ) -> Result<ItemResult, BoardError> {
        let checked = self.call(Endpoint::Validate, item, log).await?;
        let result = match checked.status {
            PostedStatus::Valid => self.call(Endpoint::Post, item, log).await?,
            _ => checked,
        };
        self.keep_warnings(posting, &result, log);
        if result.status == PostedStatus::Invalid {
            return Err(BoardError::new(
                ErrorClass::Rejected,
                Some(200),
                format!(
                    "{NAME} refused the posting: {}",
                    self.scrub(result.explanation.as_deref().unwrap_or("no reason given"))
                ),
            ));
        }
        Ok(result)
    }

    /// Warnings go to the attempt's history and the log, with the posting's
    /// reference and Craigslist's id.
    fn keep_warnings(&self, posting: &PostingContext<'_>, result: &ItemResult, log: &mut CallLog) {
        for warning in &result.warnings {
            log.notes
                .push(format!("cl:warning {}", self.scrub(warning)));
            tracing::warn!(
                message = "Craigslist accepted the posting with a warning.",
                board = ID,
                reference = posting.reference,
                posting_id = result.posting_id.as_deref().unwrap_or(""),
                warning = %self.scrub(warning),
            );
        }
    }

    /// A new posting; an `exists` answer [I] is the copy an earlier send made.
    async fn create(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let item = render_item(posting, &self.options)?;
        let result = self.submit(posting, &item, log).await?;
        match result.status {
            PostedStatus::Posted | PostedStatus::Exists => live(result),
            other => Err(unexpected(other, "a new posting")),
        }
    }
}

/// Whether Craigslist may hold an ad for this posting: we know its id, or
/// it was (or may have been) posted.
fn held_at_board(posting: &PostingContext<'_>) -> bool {
    posting.external_id.is_some() || posting.live_at_board || posting.may_exist
}

/// The reason an operation Craigslist's bulk interface does not offer
/// fails, for ops: nothing is sent.
fn not_offered(posting: &PostingContext<'_>, what: &str, by_hand: &str) -> BoardError {
    let which = match posting.external_id {
        Some(id) => format!("posting {id}"),
        None => format!("the posting of item {}", posting.reference),
    };
    BoardError::rule(format!(
        "{NAME} cannot {what} a posted ad: its bulk posting interface only posts new ads. \
         {by_hand} {which} by hand in the Craigslist account"
    ))
}

/// A non-200 answer, classified; `words` is the board's answer, scrubbed.
fn failure(reply: &Reply, words: &str) -> BoardError {
    match reply.status {
        // The one documented 403 about the document rather than the account.
        403 if reply.body.contains("Location required") => BoardError::new(
            ErrorClass::Rejected,
            Some(403),
            format!("{NAME} refused the posting: {words}"),
        ),
        401 | 403 => BoardError::new(
            ErrorClass::Auth,
            Some(reply.status),
            format!("{NAME} refused our account: {words}"),
        ),
        415 => BoardError::new(
            ErrorClass::Rejected,
            Some(415),
            format!("{NAME} could not read our RSS: {words}"),
        ),
        status => http::classify(
            status,
            &reply.headers,
            &format!("{NAME} answered {status}: {words}"),
        ),
    }
}

fn live(result: ItemResult) -> Result<Receipt, BoardError> {
    match result.posting_id {
        Some(external_id) => Ok(Receipt::Live {
            external_id,
            url: result.url,
        }),
        None => Err(BoardError::new(
            ErrorClass::Ambiguous,
            Some(200),
            format!(
                "{NAME} said item {} is {:?} but gave no posting id",
                result.about, result.status
            ),
        )),
    }
}

fn unexpected(status: PostedStatus, what: &str) -> BoardError {
    BoardError::new(
        ErrorClass::Ambiguous,
        Some(200),
        format!("{NAME} answered {status:?} to {what}"),
    )
}

#[async_trait]
impl Board for Craigslist {
    fn id(&self) -> &'static str {
        ID
    }

    /// No request rate is documented. Craigslist itself spaces the posts of
    /// one batch 30 s apart, and we send one item per batch, so that spacing
    /// never holds us up; a publish is two requests (validate, post). We
    /// declare 60 a minute [I] as a courtesy bound for a case-by-case
    /// partner interface, well above what a test's handful of calls needs.
    fn limits(&self) -> BoardLimits {
        BoardLimits {
            requests_per_minute: Some(60),
            ..BoardLimits::default()
        }
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        // `may_exist` needs nothing extra: validation names a live posting
        // under our reference [I], and create answers with that copy.
        self.create(posting, log).await
    }

    /// Craigslist documents no edit: an ad it never got is posted now; one
    /// it holds fails with the reason, and nothing is sent.
    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        if held_at_board(posting) {
            return Err(not_offered(posting, "update", "Change"));
        }
        self.create(posting, log).await
    }

    /// Craigslist documents no delete: an ad it never got is withdrawn
    /// already; one it holds fails with the reason, and nothing is sent.
    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let _ = log;
        if held_at_board(posting) {
            return Err(not_offered(posting, "take down", "Delete"));
        }
        Ok(Receipt::Withdrawn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_escaped_and_read_back_intact() {
        let item = Item {
            about: "bcref".to_owned(),
            title: None,
            description: None,
            category: None,
            area: None,
            map_location: None,
            reply_email: None,
        };
        let nasty = "p\"a&s<s>w'o]]>rd";
        let xml = to_xml(&document(
            item,
            &Auth {
                username: "bulk&<user>@example.com",
                password: nasty,
                account_id: "12\"34",
            },
        ));
        assert!(!xml.contains(nasty), "{xml}");
        let back: Document = quick_xml::de::from_str(&xml).unwrap();
        let auth = back.channel.auth.unwrap();
        assert_eq!(auth.password.as_deref(), Some(nasty));
        assert_eq!(auth.username.as_deref(), Some("bulk&<user>@example.com"));
        assert_eq!(auth.account_id.as_deref(), Some("12\"34"));
        assert!(!format!("{auth:?}").contains("a&s"));
    }

    #[test]
    fn documented_errors_are_classified() {
        let reply = |status: u16, body: &str| Reply {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: body.to_owned(),
        };
        for (status, body, class) in [
            (403, "Location required", ErrorClass::Rejected),
            (403, "Must supply username", ErrorClass::Auth),
            (403, "Must supply password", ErrorClass::Auth),
            (403, "AccountID required", ErrorClass::Auth),
            (415, "Failed to parse RSS", ErrorClass::Rejected),
            (503, "down", ErrorClass::Transient),
            (500, "oops", ErrorClass::Ambiguous),
            (429, "slow down", ErrorClass::Throttled),
        ] {
            let error = failure(&reply(status, body), body);
            assert_eq!(error.class, class, "{status} {body}");
            assert_eq!(error.http_status, Some(status));
            assert!(error.message.contains(body), "{}", error.message);
        }
    }

    #[test]
    fn money_is_grouped() {
        assert_eq!(money("USD", 85_000.0), "$85,000");
        assert_eq!(money("USD", 1_234_567.5), "$1,234,567.50");
        assert_eq!(money("EUR", 999.0), "EUR 999");
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(clean("a\u{0}b\u{1b}c\nd\te"), "abc\nd\te");
    }
}
