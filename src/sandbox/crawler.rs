//! The feed boards' crawler: fetches our feed like the board would, checks
//! the document against the board's rules (each feed twin's own check),
//! keeps what it took as the board's postings and reports what it refused.
//!
//! | route | what |
//! |---|---|
//! | `POST /_sandbox/crawl/{board}` | crawl now (`{"feed_url": ..., "username"?, "password"?}`); answers the [`CrawlOutcome`] |
//! | `GET /{board}/crawl-report` | the board's report of its last crawl (`204` before the first) |
//!
//! [`Sandbox::crawl_every`] crawls on a schedule instead (`boardcast run --sandbox`).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{HeldPosting, Sandbox};
use crate::boards::feed::{CrawlReport, RejectedItem};

/// One item as a crawler read it: `path -> text`, where nested elements are
/// `parent/child` and attributes `@name` (`location/city`, `@id`).
pub type Fields = BTreeMap<String, String>;

/// What a board's check made of one document.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// The whole document refused.
    pub document_error: Option<String>,
    pub items: Vec<CheckedItem>,
}

#[derive(Debug, Clone)]
pub struct CheckedItem {
    /// The feed's id for the item.
    pub reference: String,
    pub title: String,
    pub language: String,
    pub fields: Fields,
    /// Why the board refuses the item, if it does.
    pub problem: Option<String>,
}

/// A feed board's twin: how its crawler reads and judges our document.
pub struct FeedTwin {
    pub board: &'static str,
    /// The document's name under our `/feeds/` ("indeed.xml").
    pub file: &'static str,
    /// Reads and judges a fetched document. A real crawler reads our XML
    /// with a conforming XML 1.0 parser and drops a document that is not
    /// well-formed (https://www.w3.org/TR/xml/#sec-well-formed), whatever
    /// the board's own rules say; so does every check here ([`xml_items`]).
    pub check: fn(&[u8]) -> Checked,
}

/// What one crawl did, for tests and the log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrawlOutcome {
    pub http_status: u16,
    pub etag: Option<String>,
    pub report: CrawlReport,
}

#[derive(Default)]
struct CrawlerState {
    etag: Option<String>,
    report: Option<CrawlReport>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CrawlRequest {
    pub feed_url: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl Sandbox {
    /// Fetches `request.feed_url` as `twin`'s crawler and applies the result.
    pub async fn crawl(
        &self,
        twin: &FeedTwin,
        request: &CrawlRequest,
    ) -> Result<CrawlOutcome, String> {
        let board = twin.board;
        let etag = self.with_extra::<CrawlerState, _>(&crawler_key(board), |s| s.etag.clone());
        let mut get = self
            .crawler_http
            .get(&request.feed_url)
            .header(
                header::USER_AGENT,
                format!("{board}-crawler (boardcast sandbox)"),
            )
            .timeout(Duration::from_secs(30));
        if let Some(etag) = &etag {
            get = get.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(username) = &request.username {
            get = get.basic_auth(username, request.password.as_ref());
        }
        let response = get
            .send()
            .await
            .map_err(|e| format!("fetching the feed: {e}"))?;
        let status = response.status().as_u16();
        let new_etag = response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let crawled_at = OffsetDateTime::now_utc();
        let report = match status {
            304 => {
                let previous =
                    self.with_extra::<CrawlerState, _>(&crawler_key(board), |s| s.report.clone());
                let mut report = previous.unwrap_or_else(|| empty_report(crawled_at));
                report.crawled_at = crawled_at;
                report
            }
            200 => {
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| format!("reading the feed: {e}"))?;
                // Each twin's check parses strictly ([`xml_items`]).
                let checked = (twin.check)(&body);
                self.take_document(board, &checked, crawled_at)
            }
            other => {
                let mut report = empty_report(crawled_at);
                report.document_error = Some(format!("the feed URL answered HTTP {other}"));
                report
            }
        };
        self.with_extra::<CrawlerState, _>(&crawler_key(board), |s| {
            s.etag = if status == 200 || status == 304 {
                new_etag.clone()
            } else {
                None
            };
            s.report = Some(report.clone());
        });
        Ok(CrawlOutcome {
            http_status: status,
            etag: new_etag,
            report,
        })
    }

    /// The board now shows exactly the items it took from this document.
    fn take_document(
        &self,
        board: &str,
        checked: &Checked,
        crawled_at: OffsetDateTime,
    ) -> CrawlReport {
        let mut report = empty_report(crawled_at);
        if let Some(error) = &checked.document_error {
            // A board keeps its postings when it cannot read a new document.
            report.document_error = Some(error.clone());
            return report;
        }
        let mut taken: BTreeMap<&str, &CheckedItem> = BTreeMap::new();
        for item in &checked.items {
            match &item.problem {
                Some(reason) => report.rejected.push(RejectedItem {
                    reference: item.reference.clone(),
                    reason: reason.clone(),
                }),
                None => {
                    report.accepted.push(item.reference.clone());
                    taken.insert(&item.reference, item);
                }
            }
        }
        // One hold of the sandbox's lock for the whole document (not one per
        // item for its id): every twin waits on that lock.
        self.with_board(board, |state| {
            for posting in state.postings.values_mut() {
                if posting.live && !taken.contains_key(posting.reference.as_str()) {
                    posting.live = false;
                    posting.withdrawals += 1;
                }
            }
            for (reference, item) in taken {
                let content = || serde_json::to_value(&item.fields).expect("strings serialise");
                match state.postings.get_mut(reference) {
                    Some(posting) => {
                        // Most items are unchanged from crawl to crawl.
                        let same = holds_fields(&posting.content, &item.fields);
                        if !same || !posting.live {
                            posting.updates += 1;
                        }
                        posting.live = true;
                        if posting.title != item.title {
                            posting.title = item.title.clone();
                        }
                        if !same {
                            posting.content = content();
                        }
                    }
                    None => {
                        state.next_id += 1;
                        let id = state.next_id;
                        state.postings.insert(
                            reference.to_owned(),
                            HeldPosting {
                                board: board.to_owned(),
                                reference: reference.to_owned(),
                                external_id: format!("{board}-{id}"),
                                url: format!("https://{board}.example/jobs/{id}"),
                                live: true,
                                title: item.title.clone(),
                                language: item.language.clone(),
                                creates: 1,
                                updates: 0,
                                withdrawals: 0,
                                content: content(),
                            },
                        );
                    }
                }
            }
        });
        report
    }

    /// Crawls `feeds_url/<file>` of every feed twin every `interval`, as the
    /// boards' crawlers would, until the process ends: each board's crawler
    /// on its own cadence, so a large document parsed for one board never
    /// delays another's crawl (one loop over every board made each wait for
    /// all the others' parses). A crawl starts every `interval` (a crawler
    /// runs on a schedule), or at once after one that took longer: sleeping
    /// `interval` after each crawl stretched the period by the crawl's own
    /// time, which grows with the document.
    pub fn crawl_every(&self, feeds_url: String, interval: Duration) {
        for twin in super::FEED_TWINS {
            let sandbox = self.clone();
            let request = CrawlRequest {
                feed_url: format!("{feeds_url}/{}", twin.file),
                username: None,
                password: None,
            };
            tokio::spawn(async move {
                let mut schedule =
                    tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
                schedule.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    schedule.tick().await;
                    if let Err(error) = sandbox.crawl(twin, &request).await {
                        tracing::debug!(message = "Sandbox crawl failed.", board = twin.board, %error);
                    }
                }
            });
        }
    }

    pub fn crawl_report(&self, board: &str) -> Option<CrawlReport> {
        self.with_extra::<CrawlerState, _>(&crawler_key(board), |s| s.report.clone())
    }
}

/// Whether `content` is `fields` as JSON, without building the JSON.
fn holds_fields(content: &serde_json::Value, fields: &Fields) -> bool {
    content.as_object().is_some_and(|object| {
        object.len() == fields.len()
            && fields
                .iter()
                .all(|(key, value)| object.get(key).and_then(|v| v.as_str()) == Some(value))
    })
}

fn crawler_key(board: &str) -> String {
    format!("{board}#crawler")
}

fn empty_report(crawled_at: OffsetDateTime) -> CrawlReport {
    CrawlReport {
        crawled_at,
        document_error: None,
        accepted: Vec::new(),
        rejected: Vec::new(),
    }
}

/// `POST /_sandbox/crawl/{board}`.
pub async fn crawl_now(
    State(sandbox): State<Sandbox>,
    Path(board): Path<String>,
    Json(request): Json<CrawlRequest>,
) -> Response {
    let Some(twin) = super::FEED_TWINS.iter().find(|f| f.board == board) else {
        return (
            StatusCode::NOT_FOUND,
            format!("{board} is not a feed board"),
        )
            .into_response();
    };
    match sandbox.crawl(twin, &request).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(error) => (StatusCode::BAD_GATEWAY, error).into_response(),
    }
}

/// `GET /{board}/crawl-report` for one feed twin.
pub fn report_route(sandbox: Sandbox, board: &'static str) -> axum::Router {
    axum::Router::new().route(
        "/crawl-report",
        axum::routing::get(move || async move {
            match sandbox.crawl_report(board) {
                Some(report) => Json(report).into_response(),
                None => StatusCode::NO_CONTENT.into_response(),
            }
        }),
    )
}

/// Parses an XML feed as a strict XML 1.0 parser (and a real crawler) reads
/// it, and returns every `item` element (at any depth under `root`, not
/// inside another item) as [`Fields`]; CDATA and text alike, entities
/// decoded, values trimmed. One parse does both: the check and the reading
/// (a second parser for the items made every crawl cost twice).
pub fn xml_items(document: &[u8], root: &str, item: &str) -> Result<Vec<Fields>, String> {
    let text = std::str::from_utf8(document)
        .map_err(|e| format!("not well-formed XML 1.0: the document is not UTF-8 ({e})"))?;
    let tree = strict_parse(text)?;
    let top = tree.root_element();
    let name = top.tag_name().name();
    if name != root {
        return Err(format!("the root element is <{name}>; expected <{root}>"));
    }
    let mut items = Vec::new();
    collect_items(top, item, &mut items);
    Ok(items)
}

/// `roxmltree` is strict about the `Char` production, unlike quick-xml.
fn strict_parse(text: &str) -> Result<roxmltree::Document<'_>, String> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| format!("not well-formed XML 1.0: {e}"))
}

fn collect_items(parent: roxmltree::Node<'_, '_>, item: &str, items: &mut Vec<Fields>) {
    for child in parent.children().filter(roxmltree::Node::is_element) {
        if child.tag_name().name() != item {
            collect_items(child, item, items);
            continue;
        }
        let mut fields = Fields::new();
        for attribute in child.attributes() {
            fields.insert(
                format!("@{}", attribute.name()),
                attribute.value().to_owned(),
            );
        }
        read_fields(child, "", &mut fields);
        for value in fields.values_mut() {
            let trimmed = value.trim();
            if trimmed.len() != value.len() {
                *value = trimmed.to_owned();
            }
        }
        items.push(fields);
    }
}

/// The elements under an item: `parent/child` paths to their own text, and
/// `path/@name` to their attributes.
fn read_fields(node: roxmltree::Node<'_, '_>, path: &str, fields: &mut Fields) {
    for child in node.children() {
        if child.is_element() {
            let name = child.tag_name().name();
            let key = if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}/{name}")
            };
            for attribute in child.attributes() {
                fields.insert(
                    format!("{key}/@{}", attribute.name()),
                    attribute.value().to_owned(),
                );
            }
            read_fields(child, &key, fields);
        } else if let (Some(text), false) = (child.text(), path.is_empty()) {
            match fields.get_mut(path) {
                Some(value) => value.push_str(text),
                None => {
                    fields.insert(path.to_owned(), text.to_owned());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every twin's check is the strict parse: a character XML 1.0 forbids
    /// gets the document refused as not well-formed, before any board rule
    /// (a lax reader would complain about the root element instead).
    #[test]
    fn every_feed_twin_refuses_what_a_strict_parser_refuses() {
        for twin in super::super::FEED_TWINS {
            let checked = (twin.check)("<?xml version=\"1.0\"?><feed>\u{b}</feed>".as_bytes());
            let error = checked.document_error.unwrap_or_default();
            assert!(
                error.starts_with("not well-formed XML"),
                "{}: {error}",
                twin.board
            );
        }
    }

    /// Issue 12, finding 3: quick-xml took a vertical tab in a title; a
    /// real crawler's parser stops there, and so does the twin now.
    #[tokio::test]
    async fn the_crawler_refuses_a_document_a_strict_parser_refuses() {
        let twin = &super::super::indeed_feed::FEED;
        let document = "<?xml version=\"1.0\" encoding=\"utf-8\"?><source><publisher>P</publisher>\
            <job><title><![CDATA[Account Manager\u{b}]]></title></job></source>";

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let feed_url = format!("http://{}/feeds/indeed.xml", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/feeds/indeed.xml",
            axum::routing::get(move || async move { document }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let sandbox = Sandbox::with_random_credentials();
        let request = CrawlRequest {
            feed_url,
            username: None,
            password: None,
        };
        let outcome = sandbox.crawl(twin, &request).await.unwrap();
        let error = outcome
            .report
            .document_error
            .expect("the document is refused");
        assert!(error.starts_with("not well-formed XML 1.0"), "{error}");
        assert!(outcome.report.accepted.is_empty());
    }
}
