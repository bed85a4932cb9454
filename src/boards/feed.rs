//! Feed boards: the board crawls a document we serve, instead of taking a call.
//!
//! A feed board supplies only its [`FeedFormat`]: how one posting becomes the
//! feed's item(s) and how items make the document. Everything else is shared:
//!
//! - **publish / update** check the posting against the format (a broken rule
//!   fails the posting, naming it, exactly as for a push board) and answer
//!   [`Receipt::Submitted`]: the posting is in the feed from now on;
//! - the feed server ([`crate::feeds`]) builds `/feeds/<board>.<ext>` from the
//!   postings in PostgreSQL, and a fetch of a document holding a posting moves
//!   it to `posted`;
//! - **withdraw** answers [`Receipt::Withdrawn`]: the next document leaves it
//!   out, which is how every feed board documents a removal;
//! - [`Board::crawl_report`] reads what the board's crawler refused, where the
//!   board reports it, so ops see a rejected item as a failed posting.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::http;
use super::{
    Accounts, Board, BoardConfig, BoardError, BuildError, CallLog, PostingContext, Receipt,
};

/// One posting as the feed shows it.
#[derive(Debug, Clone, Copy)]
pub struct FeedEntry<'a> {
    pub posting: PostingContext<'a>,
    /// When the posting first went into this board's feed (a feed's "date").
    pub first_published: OffsetDateTime,
    /// When its current revision went in.
    pub updated: OffsetDateTime,
}

/// One posting's item(s) in the feed, as pieces of text in order (usually one).
pub type Item = Vec<Bytes>;

/// A board's feed format: pure functions, tested with golden documents.
pub trait FeedFormat: Send + Sync {
    /// The board id ("jooble").
    fn id(&self) -> &'static str;

    /// The board's name, for messages ("Jooble").
    fn name(&self) -> &'static str;

    /// The document's file name under `/feeds/` ("jooble.xml").
    fn file_name(&self) -> &'static str;

    fn content_type(&self) -> &'static str {
        "application/xml; charset=utf-8"
    }

    /// The posting as the feed's item(s) (one per location where the board
    /// wants that). A broken rule is an error naming it.
    fn items(&self, entry: &FeedEntry<'_>) -> Result<String, BoardError>;

    /// The same item(s) as the pieces the feed cache holds, in order. By
    /// default [`FeedFormat::items`] as one piece; a format whose items repeat
    /// a long text (Indeed's one item per location, each with the whole
    /// description) returns that text once, shared by every place it appears.
    fn item_pieces(&self, entry: &FeedEntry<'_>) -> Result<Item, BoardError> {
        self.items(entry).map(|text| vec![exact_bytes(text)])
    }

    /// The whole document as the parts it is served in: the board's own text
    /// around the items, and the items' pieces (or slices of them) as given.
    /// A part is shared, never copied: a feed of megabytes is served from the
    /// cached items, with no assembled copy. [`framed`] builds the usual shape.
    fn parts(&self, items: &[Item]) -> Vec<Bytes>;

    /// The whole document as one text, for tests and golden files.
    fn document(&self, items: &[String]) -> String {
        let items: Vec<Item> = items
            .iter()
            .map(|item| vec![Bytes::copy_from_slice(item.as_bytes())])
            .collect();
        joined(&self.parts(&items))
    }

    /// Fields the board cannot change once it has an item (see
    /// [`Board::fixed_fields`]): a change withdraws the item and adds a new
    /// one under the next reference.
    fn fixed_fields(&self, posting: &PostingContext<'_>) -> Option<String> {
        let _ = posting;
        None
    }
}

/// What a board's crawler said of the last document it fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlReport {
    #[serde(with = "time::serde::rfc3339")]
    pub crawled_at: OffsetDateTime,
    /// The whole document was refused (not well-formed, wrong root...).
    pub document_error: Option<String>,
    /// Board references the crawler took.
    pub accepted: Vec<String>,
    pub rejected: Vec<RejectedItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedItem {
    /// The board reference of the item (the feed's id for it).
    pub reference: String,
    pub reason: String,
}

/// The adapter every feed board shares.
pub struct FeedBoard {
    format: Arc<dyn FeedFormat>,
    http: reqwest::Client,
    report_url: url::Url,
    timeout: std::time::Duration,
}

impl FeedBoard {
    pub fn new(format: Arc<dyn FeedFormat>, config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        Ok(Self {
            format,
            http: config.http.clone(),
            report_url: config
                .base_url()?
                .join("crawl-report")
                .expect("a static path joins"),
            timeout: config.request_timeout,
        })
    }

    fn check(&self, posting: &PostingContext<'_>) -> Result<Receipt, BoardError> {
        check_items(self.format.as_ref(), posting)?;
        Ok(Receipt::Submitted {
            external_id: posting.reference.to_owned(),
        })
    }
}

#[async_trait]
impl Board for FeedBoard {
    fn id(&self) -> &'static str {
        self.format.id()
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        _log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.check(posting)
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        _log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.check(posting)
    }

    async fn withdraw(
        &self,
        _posting: &PostingContext<'_>,
        _log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        Ok(Receipt::Withdrawn)
    }

    fn fixed_fields(&self, posting: &PostingContext<'_>) -> Option<String> {
        self.format.fixed_fields(posting)
    }

    fn feed(&self) -> Option<Arc<dyn FeedFormat>> {
        Some(self.format.clone())
    }

    async fn crawl_report(&self) -> Result<Option<CrawlReport>, BoardError> {
        let mut log = CallLog::default();
        let request = self.http.get(self.report_url.clone()).timeout(self.timeout);
        let name = self.format.name();
        let reply = http::send(name, request, None, &mut log).await?;
        match reply.status {
            // Nothing crawled yet, or the board keeps no report.
            204 | 404 => Ok(None),
            _ if reply.is_success() => reply.json(name).map(Some),
            _ => Err(reply.error(name)),
        }
    }
}

/// The feed boards' formats, for intake: a new posting on a feed board is
/// checked there, as its publish would check it, and goes into the feed in
/// the intake's own commit (see `store::intake`), with no claim, lease or
/// completion of its own. Half the postings of a typical fan-out are feed
/// postings, and for them that round trip was the whole "attempt" (issue 9).
#[derive(Clone, Default)]
pub struct FeedChecks {
    formats: HashMap<String, Arc<dyn FeedFormat>>,
    /// Named in the attempt row of each posting submitted at intake.
    worker: String,
}

impl FeedChecks {
    /// The feed boards among `boards`; `worker` signs their attempt rows.
    pub fn new(boards: &BTreeMap<String, Accounts>, worker: &str) -> Self {
        let formats = boards
            .iter()
            .filter_map(|(id, accounts)| Some((id.clone(), accounts.default.feed()?)))
            .collect();
        Self {
            formats,
            worker: worker.to_owned(),
        }
    }

    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// `Some(fixed fields)` when `board` is a feed board and `posting` passes
    /// its format's rules: it can go into the feed now. `None` otherwise; a
    /// posting that breaks a rule takes the usual path, whose attempt fails
    /// it with the rule's message (so does a panicking format: never intake's).
    pub fn submits(&self, board: &str, posting: &PostingContext<'_>) -> Option<Option<String>> {
        let format = self.formats.get(board)?.as_ref();
        let checked = catch_unwind(AssertUnwindSafe(|| {
            check_items(format, posting).ok()?;
            Some(format.fixed_fields(posting))
        }));
        checked.ok().flatten()
    }
}

/// A publish's (or update's) check of `posting` against `format`: its items
/// render, as of now.
fn check_items(format: &dyn FeedFormat, posting: &PostingContext<'_>) -> Result<(), BoardError> {
    let now = OffsetDateTime::now_utc();
    format.item_pieces(&FeedEntry {
        posting: *posting,
        first_published: now,
        updated: now,
    })?;
    Ok(())
}

/// A document's parts as one text (a copy: for tests, golden files and previews).
pub fn joined(parts: &[Bytes]) -> String {
    let mut text = Vec::with_capacity(parts.iter().map(Bytes::len).sum());
    for part in parts {
        text.extend_from_slice(part);
    }
    String::from_utf8(text).expect("parts are text cut at character boundaries")
}

/// `head`, then each item after `separator`, then `tail`: the shape of most
/// feeds.
pub fn framed(
    head: String,
    items: &[Item],
    separator: &'static str,
    tail: &'static str,
) -> Vec<Bytes> {
    let pieces: usize = items.iter().map(Vec::len).sum();
    let mut parts = Vec::with_capacity(items.len() + pieces + 2);
    parts.push(Bytes::from(head));
    for item in items {
        if !separator.is_empty() {
            parts.push(Bytes::from_static(separator.as_bytes()));
        }
        parts.extend(item.iter().cloned());
    }
    parts.push(Bytes::from_static(tail.as_bytes()));
    parts
}

/// An item whose first piece starts with `<marker><date>-->` (a feed's note
/// to itself of the item's date, for the document's header): the date's
/// text, and the item without the note, sharing the item's bytes. An item
/// without the note is returned whole.
pub fn split_marker<'a>(item: &'a [Bytes], marker: &str) -> (Option<&'a str>, Item) {
    let whole = || (None, item.to_vec());
    let Some(first) = item.first() else {
        return whole();
    };
    let Some(rest) = first.strip_prefix(marker.as_bytes()) else {
        return whole();
    };
    let Some(end) = rest.windows(3).position(|window| window == b"-->") else {
        return whole();
    };
    match std::str::from_utf8(&rest[..end]) {
        Ok(date) => {
            let mut pieces = item.to_vec();
            pieces[0] = first.slice(marker.len() + end + 3..);
            (Some(date), pieces)
        }
        Err(_) => whole(),
    }
}

/// A text as bytes holding no spare capacity: a cached item lives as long as
/// its posting is in the feed, and a `String` grown by pushes can hold up
/// to twice its length.
pub fn exact_bytes(text: String) -> Bytes {
    Bytes::from(text.into_bytes().into_boxed_slice())
}
