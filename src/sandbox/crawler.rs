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
use quick_xml::XmlVersion;
use quick_xml::events::Event;
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
                let checked = match well_formed(twin.file, &body) {
                    Ok(()) => (twin.check)(&body),
                    Err(error) => Checked {
                        document_error: Some(error),
                        items: Vec::new(),
                    },
                };
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
        let mut taken: BTreeMap<String, &CheckedItem> = BTreeMap::new();
        for item in &checked.items {
            match &item.problem {
                Some(reason) => report.rejected.push(RejectedItem {
                    reference: item.reference.clone(),
                    reason: reason.clone(),
                }),
                None => {
                    report.accepted.push(item.reference.clone());
                    taken.insert(item.reference.clone(), item);
                }
            }
        }
        let ids: Vec<u64> = taken.keys().map(|_| self.next_id(board)).collect();
        self.with_postings(board, |held| {
            for posting in held.values_mut() {
                if posting.live && !taken.contains_key(&posting.reference) {
                    posting.live = false;
                    posting.withdrawals += 1;
                }
            }
            for ((reference, item), id) in taken.iter().zip(ids) {
                let content = serde_json::to_value(&item.fields).expect("strings serialise");
                match held.get_mut(reference) {
                    Some(posting) => {
                        if posting.content != content || !posting.live {
                            posting.updates += 1;
                        }
                        posting.live = true;
                        posting.title = item.title.clone();
                        posting.content = content;
                    }
                    None => {
                        held.insert(
                            reference.clone(),
                            HeldPosting {
                                board: board.to_owned(),
                                reference: reference.clone(),
                                external_id: format!("{board}-{id}"),
                                url: format!("https://{board}.example/jobs/{id}"),
                                live: true,
                                title: item.title.clone(),
                                language: item.language.clone(),
                                creates: 1,
                                updates: 0,
                                withdrawals: 0,
                                content,
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
    /// all the others' parses).
    pub fn crawl_every(&self, feeds_url: String, interval: Duration) {
        for twin in super::FEED_TWINS {
            let sandbox = self.clone();
            let request = CrawlRequest {
                feed_url: format!("{feeds_url}/{}", twin.file),
                username: None,
                password: None,
            };
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(interval).await;
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

/// A real crawler reads our XML with a conforming XML 1.0 parser and drops
/// a document that is not well-formed (https://www.w3.org/TR/xml/#sec-well-formed),
/// whatever the board's own checks would say; so does this one, with
/// `roxmltree` (strict about the `Char` production, unlike quick-xml).
/// Our feeds declare UTF-8, so other bytes are an error too.
pub fn well_formed(file: &str, document: &[u8]) -> Result<(), String> {
    if !file.ends_with(".xml") {
        return Ok(());
    }
    let text = std::str::from_utf8(document)
        .map_err(|e| format!("the document is not UTF-8 as it declares: {e}"))?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(text, options)
        .map(|_| ())
        .map_err(|e| format!("not well-formed XML 1.0: {e}"))
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

/// Reads an XML feed: every `item` element (at any depth under `root`) as
/// [`Fields`]; CDATA and text alike, entities decoded.
pub fn xml_items(document: &[u8], root: &str, item: &str) -> Result<Vec<Fields>, String> {
    let mut reader = quick_xml::Reader::from_reader(document);
    // `<x/>` arrives as a start and an end, like `<x></x>`.
    reader.config_mut().expand_empty_elements = true;
    let mut buf = Vec::new();
    let mut items = Vec::new();
    let mut current: Option<Fields> = None;
    let mut path: Vec<String> = Vec::new();
    let mut seen_root = false;
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {e}",
                reader.buffer_position()
            )
        })?;
        match event {
            Event::Start(start) => {
                let name = start.name().as_ref().to_owned();
                if !seen_root {
                    if name != root {
                        return Err(format!("the root element is <{name}>; expected <{root}>"));
                    }
                    seen_root = true;
                    continue;
                }
                if current.is_none() && name == item {
                    let mut fields = Fields::new();
                    for attribute in start.attributes().flatten() {
                        let key = attribute.key.as_ref().to_owned();
                        let value = attribute
                            .normalized_value(XmlVersion::Implicit1_0)
                            .map_err(|e| format!("attribute {key}: {e}"))?
                            .into_owned();
                        fields.insert(format!("@{key}"), value);
                    }
                    current = Some(fields);
                    path.clear();
                    continue;
                }
                if let Some(fields) = current.as_mut() {
                    path.push(name);
                    for attribute in start.attributes().flatten() {
                        let key = attribute.key.as_ref().to_owned();
                        let value = attribute
                            .normalized_value(XmlVersion::Implicit1_0)
                            .map_err(|e| format!("attribute {key}: {e}"))?
                            .into_owned();
                        fields.insert(format!("{}/@{key}", path.join("/")), value);
                    }
                }
            }
            Event::End(end) => {
                let name = end.name().as_ref().to_owned();
                if current.is_some() && path.is_empty() && name == item {
                    let mut fields = current.take().unwrap_or_default();
                    fields.retain(|_, value| {
                        *value = value.trim().to_owned();
                        true
                    });
                    items.push(fields);
                } else if current.is_some() {
                    path.pop();
                }
            }
            Event::Text(text) => {
                if let Some(fields) = current.as_mut()
                    && !path.is_empty()
                {
                    let text = text.xml10_content();
                    fields.entry(path.join("/")).or_default().push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(fields) = current.as_mut()
                    && !path.is_empty()
                {
                    fields
                        .entry(path.join("/"))
                        .or_default()
                        .push_str(data.as_ref());
                }
            }
            // `&amp;`, `&#233;`: the reader hands references over on their own.
            Event::GeneralRef(reference) => {
                if let Some(fields) = current.as_mut()
                    && !path.is_empty()
                {
                    let name = reference.as_ref().to_owned();
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => quick_xml::escape::resolve_predefined_entity(&name)
                            .map(str::to_owned)
                            .ok_or_else(|| {
                                format!("in <{}>: unknown entity &{name};", path.join("/"))
                            })?,
                        Err(e) => return Err(format!("in <{}>: {e}", path.join("/"))),
                    };
                    fields
                        .entry(path.join("/"))
                        .or_default()
                        .push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err("the document is empty".to_owned());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12, finding 3: quick-xml took a vertical tab in a title; a
    /// real crawler's parser stops there, and so does the twin now.
    #[tokio::test]
    async fn the_crawler_refuses_a_document_a_strict_parser_refuses() {
        let twin = &super::super::indeed_feed::FEED;
        let document = "<?xml version=\"1.0\" encoding=\"utf-8\"?><source><publisher>P</publisher>\
            <job><title><![CDATA[Account Manager\u{b}]]></title></job></source>";
        assert!(well_formed(twin.file, document.as_bytes()).is_err());

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
