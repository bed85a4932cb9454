//! StepStone's twin: the JobFeed XML endpoint with Basic credentials, one
//! result per listing, and the rules of INSERT / UPDATE / OFFLINE: a reference
//! is never inserted twice, an OFFLINE reference is never reused by INSERT,
//! and categorisation never changes.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::{Gate, HeldPosting, Sandbox, Twin, answer};
use crate::boards::stepstone::{Action, FeedResponse, JobFeed, JobListing, ListingResult};

pub const BOARD: &str = "stepstone";

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

fn authorised(sandbox: &Sandbox, headers: &HeaderMap) -> bool {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            sandbox.credential(BOARD, "username"),
            sandbox.credential(BOARD, "password")
        ))
    );
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str())
}

async fn feed(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    if !authorised(&sandbox, &headers) {
        return xml(
            StatusCode::UNAUTHORIZED,
            "<error>invalid credentials</error>".to_owned(),
        );
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    if body.starts_with('\u{feff}') {
        return xml(
            StatusCode::BAD_REQUEST,
            "<error>the feed must be UTF-8 without a byte order mark</error>".to_owned(),
        );
    }
    let feed: JobFeed = match quick_xml::de::from_str(&body) {
        Ok(feed) => feed,
        Err(error) => {
            let message = crate::boards::render::escape_html(&error.to_string());
            return xml(
                StatusCode::BAD_REQUEST,
                format!("<error>not a jobfeed document: {message}</error>"),
            );
        }
    };
    let listing = feed
        .joblisting
        .into_iter()
        .map(|listing| apply(&sandbox, listing))
        .collect();
    let document = quick_xml::se::to_string(&FeedResponse { listing }).expect("serialisable");
    answer(timing, xml(StatusCode::OK, document)).await
}

fn error(reference: &str, code: &str, message: &str) -> ListingResult {
    ListingResult {
        reference_id: reference.to_owned(),
        status: "ERROR".to_owned(),
        listing_id: None,
        url: None,
        code: Some(code.to_owned()),
        message: Some(message.to_owned()),
    }
}

fn ok(posting: &HeldPosting) -> ListingResult {
    ListingResult {
        reference_id: posting.reference.clone(),
        status: "OK".to_owned(),
        listing_id: Some(posting.external_id.clone()),
        url: Some(posting.url.clone()),
        code: None,
        message: None,
    }
}

fn validate(listing: &JobListing) -> Option<ListingResult> {
    let reference = &listing.reference_id;
    if listing.action == Action::Offline {
        return None;
    }
    let Some(content) = &listing.content else {
        return Some(error(
            reference,
            "VALIDATION",
            "INSERT and UPDATE need the listing content",
        ));
    };
    let title = content.title.chars().count();
    if !(1..=150).contains(&title) {
        return Some(error(
            reference,
            "VALIDATION",
            &format!("title must be 1 to 150 characters; it is {title}"),
        ));
    }
    if !matches!(content.language.as_str(), "de" | "en") {
        return Some(error(reference, "VALIDATION", "language must be de or en"));
    }
    if content.companyname.trim().is_empty() {
        return Some(error(reference, "VALIDATION", "companyname is required"));
    }
    if content.location.is_empty() {
        return Some(error(reference, "VALIDATION", "a job address is required"));
    }
    None
}

fn apply(sandbox: &Sandbox, listing: JobListing) -> ListingResult {
    if let Some(rejection) = validate(&listing) {
        return rejection;
    }
    let reference = listing.reference_id.clone();
    let mut content = serde_json::to_value(&listing.content).expect("serialisable");
    // Which customer account the listing belongs to.
    content["organisation_id"] = listing.organisation_id.clone().into();
    let next_id = sandbox.next_id(BOARD);
    sandbox.with_postings(BOARD, |held| {
        match (listing.action, held.get_mut(&reference)) {
            (Action::Insert, Some(posting)) if posting.live => error(
                &reference,
                "DUPLICATE_REFERENCE",
                "a listing with this reference_id is online",
            ),
            (Action::Insert, Some(_)) => error(
                &reference,
                "REFERENCE_RETIRED",
                "this reference_id was taken offline and can never be reused for a new listing",
            ),
            (Action::Insert, None) => {
                let listing_content = listing.content.expect("validated");
                let id = format!("{}", 9_100_000 + next_id);
                let slug: String = listing_content
                    .title
                    .chars()
                    .map(|c| if c.is_alphanumeric() { c } else { '-' })
                    .collect();
                let posting = HeldPosting {
                    board: BOARD.to_owned(),
                    reference: reference.clone(),
                    url: format!(
                        "https://www.stepstone.de/stellenangebote--{slug}--{id}-inline.html"
                    ),
                    external_id: id,
                    live: true,
                    title: listing_content.title.clone(),
                    language: listing_content.language.clone(),
                    creates: 1,
                    updates: 0,
                    withdrawals: 0,
                    content,
                };
                let result = ok(&posting);
                held.insert(reference, posting);
                result
            }
            (Action::Update | Action::Offline, None) => error(
                &reference,
                "UNKNOWN_REFERENCE",
                "no listing with this reference_id",
            ),
            (Action::Update, Some(posting)) => {
                let old = posting.content.get("category").cloned();
                let new = content.get("category").cloned();
                if old != new {
                    return error(
                        &reference,
                        "CATEGORY_IMMUTABLE",
                        "the categorisation of a listing cannot be changed",
                    );
                }
                posting.updates += 1;
                posting.live = true;
                posting.content = content;
                if let Some(title) = posting.content.get("title").and_then(|t| t.as_str()) {
                    posting.title = title.to_owned();
                }
                ok(posting)
            }
            (Action::Offline, Some(posting)) => {
                if posting.live {
                    posting.withdrawals += 1;
                }
                posting.live = false;
                ok(posting)
            }
        }
    })
}
