//! Craigslist's twin: `/bulk-rss/validate` and `/bulk-rss/post` taking an
//! RSS 1.0 document with `<cl:auth>` in the body, the documented 415 and 403
//! answers, and an RSS answer per item (`cl:postedStatus`, the posting's id
//! and URL, `cl:warning`s). Its rules are its own (areas, categories, the
//! reply address, lengths), written from the documentation and the
//! inferences in `boards::craigslist`'s module doc, not the adapter's checks.
//!
//! Postings are held by Craigslist's id; the item's `rdf:about` (our
//! reference) finds them too. A new item whose `rdf:about` names a live
//! posting answers `exists`; `cl:action="update"` replaces the content (and
//! reposts a deleted posting) but never the area or category;
//! `cl:action="delete"` takes it down. Like the site, the twin refuses a new
//! or changed posting identical to another live one of the account
//! (same area, category, title and text): a rule only the board checks.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::{Gate, HeldPosting, Sandbox, Twin, answer};
use crate::boards::craigslist::{
    Document, Item, ItemAction, ItemResult, Items, Li, PostedStatus, ResponseChannel,
    ResponseDocument, to_xml,
};

pub const BOARD: &str = "craigslist";
const NS_RSS: &str = "http://purl.org/rss/1.0/";
const NS_RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const NS_CL: &str = "http://www.craigslist.org/about/cl-bulk-ns/1.0";
const TITLE_LIMIT: usize = 70;

/// Area abbreviation and the site it posts to.
const AREAS: &[(&str, &str)] = &[
    ("atl", "atlanta"),
    ("aus", "austin"),
    ("bos", "boston"),
    ("chi", "chicago"),
    ("dal", "dallas"),
    ("den", "denver"),
    ("det", "detroit"),
    ("hou", "houston"),
    ("lax", "losangeles"),
    ("lvg", "lasvegas"),
    ("mia", "miami"),
    ("min", "minneapolis"),
    ("nsh", "nashville"),
    ("nyc", "newyork"),
    ("pdx", "portland"),
    ("phi", "philadelphia"),
    ("phx", "phoenix"),
    ("sdo", "sandiego"),
    ("sea", "seattle"),
    ("sfo", "sfbay"),
    ("wdc", "washingtondc"),
];

/// The "jobs" categories.
const JOB_CATEGORIES: &[&str] = &[
    "acc", "ofc", "egr", "med", "sci", "bus", "csr", "edu", "fbh", "lab", "gov", "hum", "eng",
    "lgl", "mnu", "mar", "hea", "npo", "rej", "ret", "sls", "spa", "sec", "trd", "sof", "sad",
    "tch", "trp", "tfr", "web", "wri", "etc",
];

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["username", "password"],
    routes,
};

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/bulk-rss/validate", post(validate))
        .route("/bulk-rss/post", post(publish))
        .with_state(sandbox)
}

fn text(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

fn xml(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/xml; charset=utf-8"
            .parse()
            .expect("static header"),
    );
    response
}

async fn validate(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    handle(&sandbox, &headers, &body, false).await
}

async fn publish(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    handle(&sandbox, &headers, &body, true).await
}

async fn handle(sandbox: &Sandbox, headers: &HeaderMap, body: &str, apply: bool) -> Response {
    let document = match read(headers, body) {
        Ok(document) => document,
        Err(response) => return response,
    };
    if let Err(response) = authorised(sandbox, &document) {
        return response;
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    // Documented among the 403s: a posting without a location.
    if document.item.iter().any(|item| {
        item.action != Some(ItemAction::Delete)
            && item
                .map_location
                .as_ref()
                .is_none_or(|l| blank(l.city.as_deref()) && blank(l.postal.as_deref()))
    }) {
        return text(StatusCode::FORBIDDEN, "Location required");
    }
    let results: Vec<ItemResult> = document
        .item
        .iter()
        .map(|item| judge(sandbox, item, apply))
        .collect();
    let answer_document = ResponseDocument {
        xmlns: Some(NS_RSS.to_owned()),
        xmlns_rdf: Some(NS_RDF.to_owned()),
        xmlns_cl: Some(NS_CL.to_owned()),
        channel: ResponseChannel {
            items: Items {
                li: results
                    .iter()
                    .map(|r| Li {
                        resource: r.about.clone(),
                    })
                    .collect(),
            },
        },
        item: results,
    };
    answer(timing, xml(to_xml(&answer_document))).await
}

fn blank(value: Option<&str>) -> bool {
    value.is_none_or(|v| v.trim().is_empty())
}

/// The media type, the XML and the RSS shape; 415 otherwise.
fn read(headers: &HeaderMap, body: &str) -> Result<Document, Response> {
    let unparsable = |detail: &str| {
        text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Failed to parse RSS: {detail}"),
        )
    };
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut parts = media.split(';').map(str::trim);
    if !matches!(parts.next(), Some("application/xml" | "text/xml")) {
        return Err(unparsable("the content type must be application/xml"));
    }
    for parameter in parts {
        if let Some(charset) = parameter.strip_prefix("charset=")
            && charset.trim_matches('"') != "utf-8"
        {
            return Err(unparsable("the document must be encoded as utf-8"));
        }
    }
    let document: Document =
        quick_xml::de::from_str(body).map_err(|error| unparsable(&error.to_string()))?;
    if document.xmlns_rdf.as_deref() != Some(NS_RDF) || document.xmlns_cl.as_deref() != Some(NS_CL)
    {
        return Err(unparsable("the rdf and cl namespaces must be declared"));
    }
    if document.item.is_empty() {
        return Err(unparsable("the channel lists no items"));
    }
    let listed: Vec<&str> = document
        .channel
        .items
        .li
        .iter()
        .map(|li| li.resource.as_str())
        .collect();
    let given: Vec<&str> = document.item.iter().map(|i| i.about.as_str()).collect();
    let mut sorted_listed = listed.clone();
    let mut sorted_given = given.clone();
    sorted_listed.sort_unstable();
    sorted_given.sort_unstable();
    if sorted_listed != sorted_given {
        return Err(unparsable(
            "every <rdf:li> must name one <item rdf:about> and every item must be listed",
        ));
    }
    Ok(document)
}

/// The documented 403s, then the account's credentials.
fn authorised(sandbox: &Sandbox, document: &Document) -> Result<(), Response> {
    let refuse = |message: &str| Err(text(StatusCode::FORBIDDEN, message));
    let Some(auth) = &document.channel.auth else {
        return refuse("Must supply username");
    };
    if blank(auth.username.as_deref()) {
        return refuse("Must supply username");
    }
    if blank(auth.password.as_deref()) {
        return refuse("Must supply password");
    }
    let account = auth.account_id.as_deref().unwrap_or_default().trim();
    if account.is_empty() {
        return refuse("AccountID required");
    }
    if auth.username.as_deref() != Some(sandbox.credential(BOARD, "username"))
        || auth.password.as_deref() != Some(sandbox.credential(BOARD, "password"))
    {
        return refuse("Invalid username or password");
    }
    if !account.chars().all(|c| c.is_ascii_digit()) {
        return refuse("AccountID not valid for this user");
    }
    Ok(())
}

fn result(about: &str, status: PostedStatus) -> ItemResult {
    ItemResult {
        about: about.to_owned(),
        status,
        explanation: None,
        posting_id: None,
        url: None,
        manage_url: None,
        warnings: Vec::new(),
    }
}

fn invalid(about: &str, explanation: String) -> ItemResult {
    ItemResult {
        explanation: Some(explanation),
        ..result(about, PostedStatus::Invalid)
    }
}

fn with_posting(mut result: ItemResult, posting: &HeldPosting) -> ItemResult {
    result.posting_id = Some(posting.external_id.clone());
    result.url = Some(posting.url.clone());
    result.manage_url = Some(format!(
        "https://post.craigslist.org/manage/{}",
        posting.external_id
    ));
    result
}

/// The content rules of a new or updated item: the first broken one.
fn check(item: &Item) -> Option<String> {
    let title = item.title.as_deref().unwrap_or_default().trim();
    if title.is_empty() {
        return Some("title is required".to_owned());
    }
    let length = title.chars().count();
    if length > TITLE_LIMIT {
        return Some(format!(
            "title is too long ({length} characters; the limit is {TITLE_LIMIT})"
        ));
    }
    if blank(item.description.as_deref()) {
        return Some("description is required".to_owned());
    }
    let category = item.category.as_deref().unwrap_or_default().trim();
    if category.is_empty() {
        return Some("category is required".to_owned());
    }
    if !JOB_CATEGORIES.contains(&category) {
        return Some(format!(
            "category \"{category}\" is not a jobs category abbreviation"
        ));
    }
    let area = item.area.as_deref().unwrap_or_default().trim();
    if area.is_empty() {
        return Some("area is required".to_owned());
    }
    if site(area).is_none() {
        return Some(format!("area \"{area}\" is not a valid area abbreviation"));
    }
    let Some(reply) = &item.reply_email else {
        return Some("replyEmail is required".to_owned());
    };
    if !valid_email(&reply.address) {
        return Some(format!(
            "replyEmail \"{}\" is not a valid email address",
            reply.address.trim()
        ));
    }
    if !matches!(reply.privacy.as_deref(), Some("A" | "C" | "P")) {
        return Some("replyEmail privacy must be A, C or P".to_owned());
    }
    if !matches!(reply.outside_contact_ok.as_deref(), None | Some("0" | "1")) {
        return Some("replyEmail outsideContactOK must be 0 or 1".to_owned());
    }
    None
}

/// Stricter than the intake's check: one `@`, a dotted domain, no spaces,
/// nothing but the usual address characters.
fn valid_email(address: &str) -> bool {
    let address = address.trim();
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    !local.is_empty()
        && local.chars().all(allowed)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

fn site(area: &str) -> Option<&'static str> {
    AREAS.iter().find(|(a, _)| *a == area).map(|(_, s)| *s)
}

/// Things Craigslist points out without refusing: contact details in the body.
fn warnings(item: &Item) -> Vec<String> {
    let mut warnings = Vec::new();
    let description = item.description.as_deref().unwrap_or_default();
    if description.split_whitespace().any(|word| {
        word.contains('@') && valid_email(word.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
    }) {
        warnings.push(
            "email addresses in the posting body are hidden from readers; use replyEmail or otherContactInfo"
                .to_owned(),
        );
    }
    warnings
}

fn fingerprint(content: &serde_json::Value) -> [Option<String>; 4] {
    ["cl:area", "cl:category", "title", "description"]
        .map(|key| content.get(key).and_then(|v| v.as_str()).map(str::to_owned))
}

/// One item, judged (and, on `/post`, applied).
fn judge(sandbox: &Sandbox, item: &Item, apply: bool) -> ItemResult {
    let about = item.about.as_str();
    if about.trim().is_empty() {
        return invalid(about, "rdf:about is required".to_owned());
    }
    if item.action != Some(ItemAction::Delete)
        && let Some(problem) = check(item)
    {
        return invalid(about, problem);
    }
    let content = serde_json::to_value(item).expect("serialisable");
    let warnings = warnings(item);
    let next_id = if apply && item.action.is_none() {
        Some(sandbox.next_id(BOARD))
    } else {
        None
    };
    let mut outcome = sandbox.with_postings(BOARD, |held| {
        // The posting an update or delete is for: by Craigslist's id, else by our reference.
        let target = match &item.posting_id {
            Some(id) => held.get(id.trim()).map(|p| p.external_id.clone()),
            None => held
                .values()
                .filter(|p| p.reference == about)
                .max_by_key(|p| (p.live, p.external_id.clone()))
                .map(|p| p.external_id.clone()),
        };
        let duplicate = held.values().find(|p| {
            p.live
                && p.reference != about
                && item.action != Some(ItemAction::Delete)
                && fingerprint(&p.content) == fingerprint(&content)
        });
        if let Some(other) = duplicate {
            return invalid(
                about,
                format!(
                    "this posting appears to be a duplicate of posting {}",
                    other.external_id
                ),
            );
        }
        match item.action {
            None => {
                if let Some(existing) = held.values().find(|p| p.reference == about && p.live) {
                    return with_posting(result(about, PostedStatus::Exists), existing);
                }
                let Some(number) = next_id else {
                    return result(about, PostedStatus::Valid);
                };
                let id = (7_700_000_000 + number).to_string();
                let area = item.area.as_deref().unwrap_or_default();
                let category = item.category.as_deref().unwrap_or_default();
                let title = item.title.clone().unwrap_or_default();
                let slug: String = title
                    .to_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                let posting = HeldPosting {
                    board: BOARD.to_owned(),
                    reference: about.to_owned(),
                    url: format!(
                        "https://{}.craigslist.org/{category}/d/{slug}/{id}.html",
                        site(area).unwrap_or("www")
                    ),
                    external_id: id.clone(),
                    live: true,
                    title,
                    language: "en".to_owned(),
                    creates: 1,
                    updates: 0,
                    withdrawals: 0,
                    content: content.clone(),
                };
                let answer = with_posting(result(about, PostedStatus::Posted), &posting);
                held.insert(id, posting);
                answer
            }
            Some(action) => {
                let Some(posting) = target.and_then(|id| held.get_mut(&id)) else {
                    return result(about, PostedStatus::NotFound);
                };
                if posting.reference != about {
                    return invalid(
                        about,
                        format!(
                            "posting {} was not posted as item {about}",
                            posting.external_id
                        ),
                    );
                }
                match action {
                    ItemAction::Update => {
                        for key in ["cl:area", "cl:category"] {
                            if posting.content.get(key) != content.get(key) {
                                let field = key.trim_start_matches("cl:");
                                return invalid(
                                    about,
                                    format!("the {field} of a posting cannot be changed"),
                                );
                            }
                        }
                        if !apply {
                            return with_posting(result(about, PostedStatus::Valid), posting);
                        }
                        posting.updates += 1;
                        posting.live = true;
                        posting.title = item.title.clone().unwrap_or_default();
                        posting.content = content.clone();
                        with_posting(result(about, PostedStatus::Updated), posting)
                    }
                    ItemAction::Delete => {
                        if !apply {
                            return with_posting(result(about, PostedStatus::Valid), posting);
                        }
                        if posting.live {
                            posting.withdrawals += 1;
                        }
                        posting.live = false;
                        with_posting(result(about, PostedStatus::Deleted), posting)
                    }
                }
            }
        }
    });
    if !matches!(
        outcome.status,
        PostedStatus::Invalid | PostedStatus::NotFound | PostedStatus::Exists
    ) {
        outcome.warnings = warnings;
    }
    outcome
}
