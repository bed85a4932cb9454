//! Preflight for the ATS: what a post-job message would do at every board,
//! without publishing anything (issue 10).
//!
//! The message goes through intake's own parser (same specific errors) and
//! the planner (same skip reasons); each planned posting then goes through
//! its board adapter's real `publish` in preview mode
//! ([`crate::boards::preview`]): the adapter renders and checks its rules as
//! it always does, and the requests it would send are captured instead of
//! sent, each step answered by the board's sandbox twin in-process so a board
//! that works in several steps shows them all. Every broken rule the adapter
//! checks is listed, not only the first. Feed boards show the posting as the
//! item their feed would carry.
//!
//! Nothing touches the database, the broker or a board: preview needs only
//! the configuration, and no credential (placeholders stand in).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures_util::FutureExt;
use serde::Serialize;
use time::OffsetDateTime;

use crate::boards::feed::FeedEntry;
use crate::boards::preview::{self as capture, Capture, CapturedRequest};
use crate::boards::{self, Accounts, BoardError, BuildError, CallLog, ErrorClass, PostingContext};
use crate::config::Settings;
use crate::intake::message::{self, Command, InvalidMessage, Limits};
use crate::plan::{self, posting_reference};

/// The answer: the job, and one entry per planned (board, language) posting.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub job: JobRef,
    pub postings: Vec<PostingPreview>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobRef {
    pub tenant: String,
    pub job_id: String,
    pub revision: Option<i64>,
}

/// What would happen to one posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The board's adapter rendered it and would send `payload`.
    WouldSend,
    /// The planner would record it as skipped (`reason`).
    WouldSkip,
    /// One of the board's own rules refuses it before any request (`rules`).
    RuleFailed,
    /// The board's adapter cannot be built from this configuration (`reason`).
    Unavailable,
}

#[derive(Debug, Clone, Serialize)]
pub struct PostingPreview {
    pub board: String,
    pub locale: String,
    pub outcome: Outcome,
    /// What would go to the board first: for API boards the first request,
    /// for feed boards the item in the feed document, for e-mail boards the
    /// mail. The same as `steps[0]`.
    pub payload: Option<Payload>,
    /// Everything that would go to the board, in order: a board that works
    /// in several steps (InfoJobs: token, dictionaries, offer) shows each.
    /// Steps after the first are answered by the board's sandbox twin; the
    /// first one the twin does not answer ends the list.
    pub steps: Vec<Payload>,
    /// Why it would be skipped.
    pub reason: Option<String>,
    /// Every rule of the board it breaks, in the board's words. A rule whose
    /// check needs what an earlier broken one lacks (a location to map, say)
    /// ends the list.
    pub rules: Vec<String>,
}

/// How the board would get the posting.
#[derive(Debug, Clone, Serialize)]
pub struct Payload {
    /// `request` (sent by us), `feed_item` (fetched by the board's crawler).
    pub kind: &'static str,
    /// The HTTP method (`SMTP` for mail); `None` for a feed item.
    pub method: Option<String>,
    /// The request's URL, or for a feed item the feed's URL.
    pub url: String,
    pub content_type: Option<String>,
    pub body: Option<String>,
}

impl From<CapturedRequest> for Payload {
    fn from(request: CapturedRequest) -> Self {
        Self {
            kind: "request",
            method: Some(request.method),
            url: request.url,
            content_type: request.content_type,
            body: request.body,
        }
    }
}

impl Preview {
    /// Whether some posting would not go out as planned: a broken board
    /// rule or an unusable board (`boardcast preview` exits 1).
    pub fn has_failures(&self) -> bool {
        self.postings
            .iter()
            .any(|posting| matches!(posting.outcome, Outcome::RuleFailed | Outcome::Unavailable))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The message is not a valid post-job message (intake would reject it).
    #[error("{0}")]
    Invalid(InvalidMessage),
    /// Only `publish` and `update` carry an ad to preview.
    #[error("action \"withdraw\" has no ad to preview; send a publish or update message")]
    NothingToPreview,
}

/// Previews `raw` (a post-job message) against `settings`.
pub async fn preview(settings: &Settings, raw: &[u8]) -> Result<Preview, PreviewError> {
    let known_boards = settings.board_ids();
    let limits = Limits {
        max_bytes: settings.amqp.max_message_bytes,
        boards: &known_boards,
        max_ads: settings.amqp.max_ads_per_message,
    };
    let submission = message::parse(raw, &limits).map_err(PreviewError::Invalid)?;
    let job = match &submission.command {
        Command::Publish(job) | Command::Update(job) => job,
        Command::Withdraw { .. } => return Err(PreviewError::NothingToPreview),
    };
    let tenant = submission.tenant_id.as_str();
    let planned = plan::plan(settings, tenant, job, &submission.targets, &BTreeSet::new());
    let capture = Arc::new(Capture::answered_by_twins(settings));
    // One board's broken configuration is that board's answer, not the whole preview's.
    let http = boards::http_client();
    let adapters: BTreeMap<String, Result<Accounts, BuildError>> =
        capture::sync_scope(capture.clone(), || {
            planned
                .iter()
                .filter(|posting| posting.skip_reason.is_none())
                .filter_map(|posting| {
                    let board_settings = settings.board(&posting.board)?;
                    let built =
                        boards::build_accounts(settings, &posting.board, board_settings, &http);
                    Some((posting.board.clone(), built))
                })
                .collect()
        });

    let mut postings = Vec::with_capacity(planned.len());
    for posting in planned {
        let mut preview = PostingPreview {
            board: posting.board.clone(),
            locale: posting.locale.clone(),
            outcome: Outcome::WouldSkip,
            payload: None,
            steps: Vec::new(),
            reason: posting.skip_reason.clone(),
            rules: Vec::new(),
        };
        let (Some(built), Some(ad), None) = (
            adapters.get(&posting.board),
            job.ads.get(&posting.locale),
            &posting.skip_reason,
        ) else {
            postings.push(preview);
            continue;
        };
        let accounts = match built {
            Ok(accounts) => accounts,
            Err(error) => {
                preview.outcome = Outcome::Unavailable;
                preview.reason = Some(error.to_string());
                postings.push(preview);
                continue;
            }
        };
        let reference = posting_reference(tenant, &job.id, &posting.locale);
        let context = PostingContext::unsent(&reference, tenant, &posting.locale, job, ad);
        let board = accounts.for_tenant(tenant);
        let result = match board.feed() {
            Some(format) => {
                let now = OffsetDateTime::now_utc();
                let entry = FeedEntry {
                    posting: context,
                    first_published: now,
                    updated: now,
                };
                capture::sync_scope(capture.clone(), || format.items(&entry)).map(|item| {
                    vec![Payload {
                        kind: "feed_item",
                        method: None,
                        url: settings.feed_url(format.file_name()),
                        content_type: Some(format.content_type().to_owned()),
                        body: Some(item),
                    }]
                })
            }
            None => {
                let mut log = CallLog::default();
                // Past a broken rule an adapter renders on what the rule
                // refused; should that panic, the rules found so far stand.
                let sent = std::panic::AssertUnwindSafe(capture::scope(
                    capture.clone(),
                    board.publish(&context, &mut log),
                ))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Err(BoardError::new(
                        ErrorClass::Rejected,
                        None,
                        "could not render: the adapter stopped on a broken rule",
                    ))
                });
                let steps: Vec<Payload> = capture.take().into_iter().map(Payload::from).collect();
                match sent {
                    // Steps ended at one the twin did not answer, or the
                    // twin's answer was not what the board would say: what
                    // was captured is what would go out.
                    Err(error) if !steps.is_empty() && !is_rule(&error) => Ok(steps),
                    Err(error) => Err(error),
                    Ok(_) => Ok(steps),
                }
            }
        };
        let mut rules = capture.take_rules();
        match result {
            Ok(steps) if rules.is_empty() => {
                preview.outcome = Outcome::WouldSend;
                if steps.is_empty() {
                    // Every adapter sends on publish; say so if one did not.
                    preview.reason = Some("the adapter rendered no request".to_owned());
                }
                preview.payload = steps.first().cloned();
                preview.steps = steps;
            }
            Ok(_) => preview.outcome = Outcome::RuleFailed,
            Err(error) if error.class == ErrorClass::Rejected => {
                preview.outcome = Outcome::RuleFailed;
                rules.push(error.message);
            }
            // Only a rule can stop an adapter before it sends; anything else
            // (a credential that cannot be used, say) is still the answer.
            Err(error) => {
                preview.outcome = Outcome::RuleFailed;
                rules.push(format!("could not render: {}", error.message));
            }
        }
        // A rule checked twice (before rendering and while) is listed once.
        let mut seen = BTreeSet::new();
        rules.retain(|rule| seen.insert(rule.clone()));
        preview.rules = rules;
        postings.push(preview);
    }
    Ok(Preview {
        job: JobRef {
            tenant: tenant.to_owned(),
            job_id: job.id.clone(),
            revision: Some(job.revision),
        },
        postings,
    })
}

/// A board rule of ours, checked before or between requests (a board's own
/// refusal comes with its HTTP status).
fn is_rule(error: &BoardError) -> bool {
    error.class == ErrorClass::Rejected
        && error.http_status.is_none()
        && error.message != capture::NOT_SENT
}
