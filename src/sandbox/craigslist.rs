//! Craigslist's twin: `/bulk-rss/validate` and `/bulk-rss/post` taking an
//! RSS 1.0 document with `<cl:auth>` in the body, the documented 415 and 403
//! answers, and an RSS answer per item (`cl:postedStatus`, the posting's id
//! and URL, `cl:warning`s). Written from Craigslist's bulk posting interface
//! page (docs/boards/craigslist.md [S1]), not from the adapter: it reads the
//! document with a strict XML 1.0 parser (`roxmltree`) into its own types,
//! checks namespaces, and knows only the elements the page documents (an
//! unknown `cl:` element or item attribute is refused as unparsable [I]).
//!
//! The interface posts new ads only: there is no update or delete. Postings
//! are held by Craigslist's id; a new item whose `rdf:about` names a live
//! posting of the account answers `exists` [I]. Like the site, the twin
//! refuses a posting identical (area, category, title, text) to another live
//! one of the account: a rule only the board checks.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::{Gate, HeldPosting, Sandbox, Twin, answer};

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

/// The `cl:` elements an item may carry [S1 "Inside <item> Elements"].
const ITEM_ELEMENTS: &[&str] = &[
    "category",
    "area",
    "replyEmail",
    "image",
    "subarea",
    "neighborhood",
    "price",
    "mapLocation",
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

// ---------------------------------------------------------------------------
// The submission as the twin reads it: every field optional, so the twin
// itself says what is missing.

#[derive(Debug, Default)]
struct Submission {
    auth: Option<Credentials>,
    listed: Vec<String>,
    items: Vec<Posting>,
}

#[derive(Debug, Default)]
struct Credentials {
    username: Option<String>,
    password: Option<String>,
    account_id: Option<String>,
}

#[derive(Debug, Default, Clone)]
struct Posting {
    about: String,
    title: Option<String>,
    description: Option<String>,
    category: Option<String>,
    area: Option<String>,
    map_location: Option<Place>,
    reply: Option<Reply>,
}

#[derive(Debug, Default, Clone)]
struct Place {
    city: Option<String>,
    state: Option<String>,
    postal: Option<String>,
}

#[derive(Debug, Default, Clone)]
struct Reply {
    privacy: Option<String>,
    outside_contact_ok: Option<String>,
    other_contact_info: Option<String>,
    address: String,
}

impl Posting {
    /// What the twin holds, in the names of the wire.
    fn content(&self) -> serde_json::Value {
        let mut content = serde_json::json!({
            "@rdf:about": self.about,
            "title": self.title,
            "description": self.description,
            "cl:category": self.category,
            "cl:area": self.area,
        });
        if let Some(place) = &self.map_location {
            content["cl:mapLocation"] = serde_json::json!({
                "@city": place.city, "@state": place.state, "@postal": place.postal,
            });
        }
        if let Some(reply) = &self.reply {
            content["cl:replyEmail"] = serde_json::json!({
                "@privacy": reply.privacy,
                "@outsideContactOK": reply.outside_contact_ok,
                "@otherContactInfo": reply.other_contact_info,
                "$text": reply.address,
            });
        }
        content
    }
}

/// The answer for one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Valid,
    Posted,
    Invalid,
    Exists,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Posted => "posted",
            Status::Invalid => "invalid",
            Status::Exists => "exists",
        }
    }
}

#[derive(Debug, Clone)]
struct Outcome {
    about: String,
    status: Status,
    explanation: Option<String>,
    posting: Option<(String, String)>,
    warnings: Vec<String>,
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
    let submission = match read(headers, body) {
        Ok(submission) => submission,
        Err(response) => return response,
    };
    if let Err(response) = authorised(sandbox, &submission) {
        return response;
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    // Documented among the 403s: a posting without a location.
    if submission.items.iter().any(|item| {
        item.map_location
            .as_ref()
            .is_none_or(|l| blank(l.city.as_deref()) && blank(l.postal.as_deref()))
    }) {
        return text(StatusCode::FORBIDDEN, "Location required");
    }
    let outcomes: Vec<Outcome> = submission
        .items
        .iter()
        .map(|item| judge(sandbox, item, apply))
        .collect();
    answer(timing, xml(response_document(&outcomes))).await
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The posting response: an RSS document with one item per submitted item.
fn response_document(outcomes: &[Outcome]) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF xmlns=\"{NS_RSS}\" xmlns:rdf=\"{NS_RDF}\" xmlns:cl=\"{NS_CL}\">\n  <channel>\n    <items>\n"
    );
    for outcome in outcomes {
        xml.push_str(&format!(
            "      <rdf:li rdf:resource=\"{}\"/>\n",
            escape(&outcome.about)
        ));
    }
    xml.push_str("    </items>\n  </channel>\n");
    for outcome in outcomes {
        xml.push_str(&format!(
            "  <item rdf:about=\"{}\">\n    <cl:postedStatus>{}</cl:postedStatus>\n",
            escape(&outcome.about),
            outcome.status.word()
        ));
        if let Some(explanation) = &outcome.explanation {
            xml.push_str(&format!(
                "    <cl:postedExplanation>{}</cl:postedExplanation>\n",
                escape(explanation)
            ));
        }
        if let Some((id, url)) = &outcome.posting {
            xml.push_str(&format!(
                "    <cl:postingID>{id}</cl:postingID>\n    <cl:postingURL>{}</cl:postingURL>\n    <cl:postingManageURL>https://post.craigslist.org/manage/{id}</cl:postingManageURL>\n",
                escape(url)
            ));
        }
        for warning in &outcome.warnings {
            xml.push_str(&format!(
                "    <cl:warning>{}</cl:warning>\n",
                escape(warning)
            ));
        }
        xml.push_str("  </item>\n");
    }
    xml.push_str("</rdf:RDF>\n");
    xml
}

fn blank(value: Option<&str>) -> bool {
    value.is_none_or(|v| v.trim().is_empty())
}

/// The media type, then the document: strict XML 1.0, the RSS 1.0 shape in
/// its namespaces, only documented elements; 415 otherwise.
fn read(headers: &HeaderMap, body: &str) -> Result<Submission, Response> {
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
    let tree = roxmltree::Document::parse(body).map_err(|error| unparsable(&error.to_string()))?;
    parse(tree.root_element()).map_err(|detail| unparsable(&detail))
}

fn is(node: roxmltree::Node<'_, '_>, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().namespace() == Some(namespace)
        && node.tag_name().name() == name
}

fn describe(node: roxmltree::Node<'_, '_>) -> String {
    match node.tag_name().namespace() {
        Some(NS_CL) => format!("cl:{}", node.tag_name().name()),
        Some(NS_RDF) => format!("rdf:{}", node.tag_name().name()),
        _ => node.tag_name().name().to_owned(),
    }
}

fn attribute(node: roxmltree::Node<'_, '_>, namespace: Option<&str>, name: &str) -> Option<String> {
    node.attributes()
        .find(|a| a.namespace() == namespace && a.name() == name)
        .map(|a| a.value().to_owned())
}

fn parse(root: roxmltree::Node<'_, '_>) -> Result<Submission, String> {
    if !is(root, NS_RDF, "RDF") {
        return Err(format!(
            "the root element must be rdf:RDF in {NS_RDF}, not {}",
            describe(root)
        ));
    }
    let mut submission = Submission::default();
    let mut channels = 0;
    for child in root.children().filter(|n| n.is_element()) {
        if is(child, NS_RSS, "channel") {
            channels += 1;
            for part in child.children().filter(|n| n.is_element()) {
                if is(part, NS_RSS, "items") {
                    for li in part.descendants().filter(|n| is(*n, NS_RDF, "li")) {
                        submission
                            .listed
                            .push(attribute(li, Some(NS_RDF), "resource").unwrap_or_default());
                    }
                } else if is(part, NS_CL, "auth") {
                    submission.auth = Some(Credentials {
                        username: attribute(part, None, "username"),
                        password: attribute(part, None, "password"),
                        account_id: attribute(part, None, "accountID"),
                    });
                } else if part.tag_name().namespace() == Some(NS_CL) {
                    return Err(format!("unknown element {} in <channel>", describe(part)));
                }
            }
        } else if is(child, NS_RSS, "item") {
            submission.items.push(item(child)?);
        } else {
            return Err(format!("unexpected element {}", describe(child)));
        }
    }
    if channels != 1 {
        return Err("the document needs exactly one <channel>".to_owned());
    }
    if submission.items.is_empty() {
        return Err("the channel lists no items".to_owned());
    }
    let mut listed = submission.listed.clone();
    let mut given: Vec<String> = submission.items.iter().map(|i| i.about.clone()).collect();
    listed.sort_unstable();
    given.sort_unstable();
    if listed != given {
        return Err(
            "every <rdf:li> must name one <item rdf:about> and every item must be listed"
                .to_owned(),
        );
    }
    Ok(submission)
}

fn item(node: roxmltree::Node<'_, '_>) -> Result<Posting, String> {
    for attr in node.attributes() {
        if !(attr.namespace() == Some(NS_RDF) && attr.name() == "about") {
            return Err(format!(
                "unknown attribute {}{} on <item>",
                if attr.namespace() == Some(NS_CL) {
                    "cl:"
                } else {
                    ""
                },
                attr.name()
            ));
        }
    }
    let mut posting = Posting {
        about: attribute(node, Some(NS_RDF), "about").unwrap_or_default(),
        ..Posting::default()
    };
    let own_text = |n: roxmltree::Node<'_, '_>| n.text().map(str::to_owned);
    for child in node.children().filter(|n| n.is_element()) {
        let namespace = child.tag_name().namespace();
        let name = child.tag_name().name();
        match (namespace, name) {
            (Some(NS_RSS), "title") => posting.title = own_text(child),
            (Some(NS_RSS), "description") => posting.description = own_text(child),
            (Some(NS_CL), "category") => posting.category = own_text(child),
            (Some(NS_CL), "area") => posting.area = own_text(child),
            (Some(NS_CL), "mapLocation") => {
                posting.map_location = Some(Place {
                    city: attribute(child, None, "city"),
                    state: attribute(child, None, "state"),
                    postal: attribute(child, None, "postal"),
                })
            }
            (Some(NS_CL), "replyEmail") => {
                posting.reply = Some(Reply {
                    privacy: attribute(child, None, "privacy"),
                    outside_contact_ok: attribute(child, None, "outsideContactOK"),
                    other_contact_info: attribute(child, None, "otherContactInfo"),
                    address: child.text().unwrap_or_default().to_owned(),
                })
            }
            (Some(NS_CL), other) if ITEM_ELEMENTS.contains(&other) => {}
            _ => return Err(format!("unknown element {} in <item>", describe(child))),
        }
    }
    Ok(posting)
}

/// The documented 403s, then the account's credentials.
fn authorised(sandbox: &Sandbox, submission: &Submission) -> Result<(), Response> {
    let refuse = |message: &str| Err(text(StatusCode::FORBIDDEN, message));
    let Some(auth) = &submission.auth else {
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

fn result(about: &str, status: Status) -> Outcome {
    Outcome {
        about: about.to_owned(),
        status,
        explanation: None,
        posting: None,
        warnings: Vec::new(),
    }
}

fn invalid(about: &str, explanation: String) -> Outcome {
    Outcome {
        explanation: Some(explanation),
        ..result(about, Status::Invalid)
    }
}

fn with_posting(mut outcome: Outcome, posting: &HeldPosting) -> Outcome {
    outcome.posting = Some((posting.external_id.clone(), posting.url.clone()));
    outcome
}

/// The content rules of a new item: the first broken one.
fn check(item: &Posting) -> Option<String> {
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
    let Some(reply) = &item.reply else {
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
fn warnings(item: &Posting) -> Vec<String> {
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

/// One item, judged (and, on `/post`, posted).
fn judge(sandbox: &Sandbox, item: &Posting, apply: bool) -> Outcome {
    let about = item.about.as_str();
    if about.trim().is_empty() {
        return invalid(about, "rdf:about is required".to_owned());
    }
    if let Some(problem) = check(item) {
        return invalid(about, problem);
    }
    let content = item.content();
    let next_id = apply.then(|| sandbox.next_id(BOARD));
    let mut outcome = sandbox.with_postings(BOARD, |held| {
        let duplicate = held.values().find(|p| {
            p.live && p.reference != about && fingerprint(&p.content) == fingerprint(&content)
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
        if let Some(existing) = held.values().find(|p| p.reference == about && p.live) {
            return with_posting(result(about, Status::Exists), existing);
        }
        let Some(number) = next_id else {
            return result(about, Status::Valid);
        };
        let id = (7_700_000_000 + number).to_string();
        let area = item.area.as_deref().unwrap_or_default().trim();
        let category = item.category.as_deref().unwrap_or_default().trim();
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
        let answer = with_posting(result(about, Status::Posted), &posting);
        held.insert(id, posting);
        answer
    });
    if matches!(outcome.status, Status::Valid | Status::Posted) {
        outcome.warnings = warnings(item);
    }
    outcome
}
