//! StepStone's twin: the JobFeed interface as a form post (`username`,
//! `password`, `xmlresponse`, `xml`), one `<jobfeedresponse>` per listing
//! with StepStone's documented status codes, and the rules of INSERT /
//! UPDATE / OFFLINE: a reference is never inserted twice, an OFFLINE
//! reference is never reused by INSERT, and categorisation never changes.
//! Written from docs/boards/stepstone.md, not from the adapter: it decodes
//! the form itself and reads the XML with a strict XML 1.0 parser
//! (`roxmltree`) into its own types.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};

use super::{Gate, HeldPosting, Sandbox, Twin, answer};

pub const BOARD: &str = "stepstone";
/// "Jobtitle exceeds 200 characters" (status code 320).
const MAX_TITLE: usize = 200;

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["username", "password"],
    routes,
};

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/jobfeed", post(feed))
        .with_state(sandbox)
}

/// One `<joblisting>` as the twin reads it.
#[derive(Debug, Default)]
struct Listing {
    reference: Option<String>,
    sender: Option<String>,
    organisation: Option<String>,
    action: Option<String>,
    title: Option<String>,
    language: Option<String>,
    company: Option<String>,
    category: Option<String>,
    locations: usize,
}

/// What the twin answers for one listing.
struct Verdict {
    reference: String,
    code: u16,
    status: String,
    action: Option<String>,
    listing_id: Option<String>,
}

fn verdict(listing: &Listing, code: u16, status: &str) -> Verdict {
    Verdict {
        reference: listing.reference.clone().unwrap_or_default(),
        code,
        status: status.to_owned(),
        action: listing.action.clone(),
        listing_id: None,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn response_xml(sender: &str, verdict: &Verdict) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<jobfeedresponse>\n  <senderid>{}</senderid>\n  <reference>{}</reference>\n  <listingid>{}</listingid>\n  <action>{}</action>\n  <status><![CDATA[{}]]></status>\n  <statuscode>{}</statuscode>\n  <comments/>\n</jobfeedresponse>\n",
        escape(sender),
        escape(&verdict.reference),
        verdict.listing_id.as_deref().unwrap_or(""),
        escape(verdict.action.as_deref().unwrap_or("IGNORE")),
        verdict.status.replace("]]>", "]]&gt;"),
        verdict.code
    )
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/xml; charset=utf-8"
            .parse()
            .expect("static header"),
    );
    response
}

fn plain(status: StatusCode, body: &str) -> Response {
    (status, body.to_owned()).into_response()
}

fn text_of(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .map(|n| {
            n.descendants()
                .filter_map(|d| if d.is_text() { d.text() } else { None })
                .collect::<String>()
        })
}

fn read(document: &str) -> Result<Vec<Listing>, String> {
    let tree = roxmltree::Document::parse(document).map_err(|e| e.to_string())?;
    let root = tree.root_element();
    if root.tag_name().name() != "jobfeed" {
        return Err(format!(
            "the root element must be <jobfeed>, not <{}>",
            root.tag_name().name()
        ));
    }
    Ok(root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "joblisting")
        .map(|node| {
            let content = node
                .children()
                .find(|n| n.is_element() && n.tag_name().name() == "content");
            let attr = |name: &str| node.attribute(name).map(str::to_owned);
            Listing {
                reference: attr("reference_id"),
                sender: attr("sender_id"),
                organisation: attr("organisation_id"),
                action: attr("action"),
                title: content.and_then(|c| text_of(c, "title")),
                language: content.and_then(|c| text_of(c, "language")),
                company: content.and_then(|c| text_of(c, "companyname")),
                category: content.and_then(|c| text_of(c, "category")),
                locations: content.map_or(0, |c| {
                    c.children()
                        .filter(|n| n.is_element() && n.tag_name().name() == "location")
                        .count()
                }),
            }
        })
        .collect())
}

async fn feed(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let _ = headers;
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    let Some(document) = form.get("xml") else {
        return plain(StatusCode::BAD_REQUEST, "the form has no xml field");
    };
    if form.get("xmlresponse").map(String::as_str) != Some("true") {
        // The plain-text answer is documented too; the twin speaks only XML.
        return plain(StatusCode::BAD_REQUEST, "set xmlresponse=true");
    }
    if document.starts_with('\u{feff}') {
        return plain(
            StatusCode::BAD_REQUEST,
            "the feed must be UTF-8 without a byte order mark",
        );
    }
    let listings = match read(document) {
        Ok(listings) if listings.len() == 1 => listings,
        Ok(listings) => {
            return plain(
                StatusCode::BAD_REQUEST,
                &format!(
                    "the twin takes one joblisting per post, not {}",
                    listings.len()
                ),
            );
        }
        Err(error) => {
            return plain(
                StatusCode::BAD_REQUEST,
                &format!("not a jobfeed document: {error}"),
            );
        }
    };
    let listing = &listings[0];
    let sender = listing.sender.clone().unwrap_or_default();
    let credentials_match = form.get("username").map(String::as_str)
        == Some(sandbox.credential(BOARD, "username"))
        && form.get("password").map(String::as_str) == Some(sandbox.credential(BOARD, "password"));
    let verdict = if !credentials_match {
        verdict(listing, 220, "no matching credentials")
    } else {
        apply(&sandbox, listing)
    };
    answer(timing, xml(StatusCode::OK, response_xml(&sender, &verdict))).await
}

/// The documented status codes for what is missing or too long.
fn validate(listing: &Listing) -> Option<Verdict> {
    if listing
        .reference
        .as_deref()
        .is_none_or(|r| r.trim().is_empty())
    {
        return Some(verdict(listing, 206, "reference missing"));
    }
    let action = listing.action.as_deref().unwrap_or_default();
    if action.is_empty() {
        return Some(verdict(listing, 207, "action missing"));
    }
    if !matches!(action, "INSERT" | "UPDATE" | "OFFLINE") {
        return Some(verdict(
            listing,
            207,
            "action must be INSERT, UPDATE or OFFLINE",
        ));
    }
    if action == "OFFLINE" {
        return None;
    }
    let title = listing.title.as_deref().unwrap_or_default().trim();
    if title.is_empty() {
        return Some(verdict(listing, 204, "listing title missing"));
    }
    if title.chars().count() > MAX_TITLE {
        return Some(verdict(listing, 320, "Jobtitle exceeds 200 characters"));
    }
    if listing
        .language
        .as_deref()
        .is_none_or(|l| l.trim().is_empty())
    {
        return Some(verdict(listing, 205, "language missing"));
    }
    // [I] as the adapter's FlashPost-sourced rules: a company and an address.
    if listing
        .company
        .as_deref()
        .is_none_or(|c| c.trim().is_empty())
        || listing.locations == 0
    {
        return Some(verdict(listing, 230, "missing orga-mapping"));
    }
    None
}

fn apply(sandbox: &Sandbox, listing: &Listing) -> Verdict {
    if let Some(refusal) = validate(listing) {
        return refusal;
    }
    let reference = listing.reference.clone().unwrap_or_default();
    let action = listing.action.clone().unwrap_or_default();
    let content = serde_json::json!({
        "title": listing.title,
        "language": listing.language,
        "companyname": listing.company,
        "category": listing.category,
        "organisation_id": listing.organisation,
    });
    let next_id = sandbox.next_id(BOARD);
    let ok = |posting: &HeldPosting| Verdict {
        listing_id: Some(posting.external_id.clone()),
        ..verdict(listing, 100, "OK")
    };
    sandbox.with_postings(BOARD, |held| match (action.as_str(), held.get_mut(&reference)) {
        ("INSERT", Some(_)) => verdict(
            listing,
            crate::sandbox::stepstone::REFERENCE_IN_USE,
            "this reference is in use and can never be reused for a new listing",
        ),
        ("INSERT", None) => {
            let id = format!("{}", 9_100_000 + next_id);
            let title = listing.title.clone().unwrap_or_default();
            let posting = HeldPosting {
                board: BOARD.to_owned(),
                reference: reference.clone(),
                url: format!(
                    "https://www.stepstone.de/5/index.cfm?event=offerView.dspOfferInline&offerId={id}"
                ),
                external_id: id,
                live: true,
                title,
                language: listing.language.clone().unwrap_or_default(),
                creates: 1,
                updates: 0,
                withdrawals: 0,
                content,
            };
            let answer = ok(&posting);
            held.insert(reference, posting);
            answer
        }
        (_, None) => verdict(
            listing,
            crate::sandbox::stepstone::UNKNOWN_REFERENCE,
            "no listing with this reference",
        ),
        ("UPDATE", Some(posting)) => {
            // "categorization values cannot be modified through updates":
            // the listing keeps its first category.
            let mut content = content;
            content["category"] = posting.content["category"].clone();
            posting.updates += 1;
            posting.live = true;
            posting.title = listing.title.clone().unwrap_or_default();
            posting.content = content;
            ok(posting)
        }
        (_, Some(posting)) => {
            if posting.live {
                posting.withdrawals += 1;
            }
            posting.live = false;
            ok(posting)
        }
    })
}

/// [I] The status code for an INSERT of a reference in use (not in
/// StepStone's table; see docs/boards/stepstone.md).
pub const REFERENCE_IN_USE: u16 = 250;
/// [I] The status code for an UPDATE or OFFLINE of an unknown reference.
pub const UNKNOWN_REFERENCE: u16 = 251;
