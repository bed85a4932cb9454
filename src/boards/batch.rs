//! Many attempts' calls in one request, for board APIs that take a batch
//! (LinkedIn's `batch_create` with up to 100 jobs, and its task lookup by
//! many ids).
//!
//! Each attempt still runs on its own, with its own lease, deadline and
//! history row: it hands its item to a [`Coalescer`] and waits for its own
//! answer. A flusher task takes what has gathered (waiting at most `linger`
//! after the first item, taking at most `max`), sends it as one request, and
//! hands every waiting attempt its element's answer and a copy of the call's
//! log. Up to `max_in_flight` batches go out side by side; while all are
//! out, items keep gathering, so batches grow with the load. How many items
//! wait at once is bounded by the dispatcher's slots (one attempt, one item).

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::{BoardError, CallLog, ErrorClass, http};

/// What one batch request came back as: each item's answer in the order the
/// items were given, or one error for the whole request; and the call's log.
pub struct Flushed<R> {
    pub answers: Result<Vec<Result<R, BoardError>>, BoardError>,
    pub log: CallLog,
}

/// Sends one batch.
pub type Flush<T, R> = Arc<dyn Fn(Vec<T>) -> BoxFuture<'static, Flushed<R>> + Send + Sync>;

struct Waiting<T, R> {
    item: T,
    reply: oneshot::Sender<(Result<R, BoardError>, CallLog)>,
    /// The attempt's answer size limit, a task-local the flusher's task
    /// does not inherit.
    max_answer_bytes: usize,
}

/// Gathers items from concurrent attempts into batches of at most `max`.
pub struct Coalescer<T, R> {
    max: usize,
    linger: Duration,
    /// Batch requests at once (the board's request concurrency).
    in_flight: Arc<Semaphore>,
    /// Two items with the same key never share a batch (LinkedIn refuses
    /// two operations on one `externalJobPostingId` in a batch).
    key: fn(&T) -> &str,
    flush: Flush<T, R>,
    /// Started by the first item, on the runtime that sends it.
    queue: OnceLock<mpsc::UnboundedSender<Waiting<T, R>>>,
}

impl<T: Send + 'static, R: Send + 'static> Coalescer<T, R> {
    pub fn new(
        max: usize,
        max_in_flight: usize,
        linger: Duration,
        key: fn(&T) -> &str,
        flush: Flush<T, R>,
    ) -> Self {
        assert!(max >= 1, "a batch holds at least one item");
        Self {
            max,
            linger,
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
            key,
            flush,
            queue: OnceLock::new(),
        }
    }

    /// Sends `item` in the next batch and waits for its answer. The call is
    /// recorded in `log` as every attempt records its own calls.
    pub async fn submit(&self, item: T, log: &mut CallLog) -> Result<R, BoardError> {
        if super::preview::active() {
            // A preview's capture is task-local: its request must be built on
            // this task, never on the flusher's, which would send it.
            let Flushed { answers, log: call } = (self.flush)(vec![item]).await;
            let answer = per_item(answers, 1, &call)
                .pop()
                .expect("one answer per item");
            merge(log, call);
            return answer;
        }
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(gather(
                receiver,
                self.max,
                self.linger,
                self.in_flight.clone(),
                self.key,
                self.flush.clone(),
            ));
            sender
        });
        let (reply, answer) = oneshot::channel();
        let lost = || {
            // It may have been sent: the next attempt looks before it creates.
            BoardError::new(
                ErrorClass::Ambiguous,
                None,
                "the batch carrying this posting ended before the board's answer was read",
            )
        };
        let waiting = Waiting {
            item,
            reply,
            max_answer_bytes: http::max_answer_bytes(),
        };
        if queue.send(waiting).is_err() {
            return Err(lost());
        }
        let (answer, call) = answer.await.map_err(|_| lost())?;
        merge(log, call);
        answer
    }
}

/// Records the batch's call in an attempt's own log.
fn merge(log: &mut CallLog, call: CallLog) {
    if call.http_status.is_some() {
        log.http_status = call.http_status;
    }
    if call.request_hash.is_some() {
        log.request_hash = call.request_hash;
    }
    log.notes.extend(call.notes);
}

/// The flusher: one batch at a time is put together, and each is sent by a
/// task of its own.
async fn gather<T: Send + 'static, R: Send + 'static>(
    mut queue: mpsc::UnboundedReceiver<Waiting<T, R>>,
    max: usize,
    linger: Duration,
    in_flight: Arc<Semaphore>,
    key: fn(&T) -> &str,
    flush: Flush<T, R>,
) {
    // Items that could not join the last batch (full, or their key taken).
    let mut carried: VecDeque<Waiting<T, R>> = VecDeque::new();
    loop {
        let first = match carried.pop_front() {
            Some(waiting) => waiting,
            None => match queue.recv().await {
                Some(waiting) => waiting,
                // Every sender is gone: the board was dropped.
                None => return,
            },
        };
        if max > 1 && carried.is_empty() && !linger.is_zero() {
            tokio::time::sleep(linger).await;
        }
        let permit = in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let mut batch = vec![first];
        let mut left = std::mem::take(&mut carried);
        loop {
            let next = match left.pop_front() {
                Some(waiting) => waiting,
                None if batch.len() < max => match queue.try_recv() {
                    Ok(waiting) => waiting,
                    Err(_) => break,
                },
                None => break,
            };
            let taken = batch
                .iter()
                .any(|waiting| key(&waiting.item) == key(&next.item));
            if batch.len() < max && !taken {
                batch.push(next);
            } else {
                carried.push_back(next);
            }
        }
        tokio::spawn(send(batch, flush.clone(), permit));
    }
}

async fn send<T, R>(batch: Vec<Waiting<T, R>>, flush: Flush<T, R>, permit: OwnedSemaphorePermit) {
    let limit = batch
        .iter()
        .map(|waiting| waiting.max_answer_bytes)
        .min()
        .unwrap_or(http::DEFAULT_MAX_ANSWER_BYTES);
    let (items, replies): (Vec<T>, Vec<_>) = batch
        .into_iter()
        .map(|waiting| (waiting.item, waiting.reply))
        .unzip();
    let sent = items.len();
    let Flushed { answers, log } = http::MAX_ANSWER_BYTES.scope(limit, flush(items)).await;
    drop(permit);
    for (reply, answer) in replies.into_iter().zip(per_item(answers, sent, &log)) {
        // An attempt that gave up (its deadline) no longer listens.
        let _ = reply.send((answer, log.clone()));
    }
}

/// One answer per item sent: the batch's own, or, when the request failed
/// or answered another number of elements, the same error for each.
fn per_item<R>(
    answers: Result<Vec<Result<R, BoardError>>, BoardError>,
    sent: usize,
    log: &CallLog,
) -> Vec<Result<R, BoardError>> {
    match answers {
        Ok(answers) if answers.len() == sent => answers,
        Ok(answers) => {
            let error = BoardError::new(
                ErrorClass::Ambiguous,
                log.http_status,
                format!(
                    "the board answered {} elements for the {sent} sent",
                    answers.len()
                ),
            );
            (0..sent).map(|_| Err(error.clone())).collect()
        }
        Err(error) => (0..sent).map(|_| Err(error.clone())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use std::sync::Mutex;

    /// A flush that answers each item with its batch's number and size, and
    /// keeps the batches it saw.
    fn recording(seen: Arc<Mutex<Vec<Vec<String>>>>) -> Flush<String, (usize, usize)> {
        Arc::new(move |items: Vec<String>| {
            let seen = seen.clone();
            async move {
                let mut all = seen.lock().unwrap();
                all.push(items.clone());
                let number = all.len();
                Flushed {
                    answers: Ok(items.iter().map(|_| Ok((number, items.len()))).collect()),
                    log: CallLog {
                        http_status: Some(200),
                        request_hash: Some(format!("batch-{number}")),
                        notes: Vec::new(),
                    },
                }
            }
            .boxed()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_items_share_batches_of_at_most_max_and_keys_never_meet() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let coalescer = Coalescer::new(
            4,
            8,
            Duration::from_millis(5),
            |item: &String| item.split('#').next().unwrap(),
            recording(seen.clone()),
        );
        // Ten items, two of them for key "a".
        let items: Vec<String> = ["a#1", "b", "c", "a#2", "d", "e", "f", "g", "h", "i"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let answers = futures_util::future::join_all(items.iter().map(|item| {
            let coalescer = &coalescer;
            async move {
                let mut log = CallLog::default();
                let answer = coalescer.submit(item.clone(), &mut log).await.unwrap();
                (answer, log)
            }
        }))
        .await;
        let batches = seen.lock().unwrap().clone();
        assert_eq!(batches.len(), 3, "{batches:?}");
        for batch in &batches {
            assert!(batch.len() <= 4, "{batches:?}");
            let with_a = batch.iter().filter(|item| item.starts_with("a#")).count();
            assert!(with_a <= 1, "one key twice in a batch: {batches:?}");
        }
        let mut all: Vec<String> = batches.concat();
        all.sort();
        let mut sent = items.clone();
        sent.sort();
        assert_eq!(all, sent, "every item sent once");
        // Each attempt got its own batch's answer and that call's log.
        for ((number, size), log) in &answers {
            assert_eq!(batches[number - 1].len(), *size);
            assert_eq!(log.request_hash, Some(format!("batch-{number}")));
            assert_eq!(log.http_status, Some(200));
        }
    }

    #[tokio::test]
    async fn a_failed_request_fails_every_item_and_a_short_answer_is_ambiguous() {
        let failing: Flush<String, ()> = Arc::new(|_items: Vec<String>| {
            async {
                Flushed {
                    answers: Err(BoardError::new(ErrorClass::Transient, Some(503), "busy")),
                    log: CallLog::default(),
                }
            }
            .boxed()
        });
        let coalescer = Coalescer::new(10, 1, Duration::ZERO, |s: &String| s.as_str(), failing);
        let error = coalescer
            .submit("x".into(), &mut CallLog::default())
            .await
            .unwrap_err();
        assert_eq!(error.class, ErrorClass::Transient);

        let short: Flush<String, ()> = Arc::new(|_items: Vec<String>| {
            async {
                Flushed {
                    answers: Ok(Vec::new()),
                    log: CallLog::default(),
                }
            }
            .boxed()
        });
        let coalescer = Coalescer::new(10, 1, Duration::ZERO, |s: &String| s.as_str(), short);
        let error = coalescer
            .submit("x".into(), &mut CallLog::default())
            .await
            .unwrap_err();
        assert_eq!(error.class, ErrorClass::Ambiguous);
        assert!(
            error.message.contains("0 elements for the 1 sent"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_flush_that_panics_leaves_its_items_ambiguous_and_the_next_batch_goes() {
        let calls = Arc::new(Mutex::new(0));
        let flush: Flush<String, ()> = {
            let calls = calls.clone();
            Arc::new(move |items: Vec<String>| {
                let first = {
                    let mut calls = calls.lock().unwrap();
                    *calls += 1;
                    *calls == 1
                };
                async move {
                    assert!(!first, "board code that panics");
                    Flushed {
                        answers: Ok(items.iter().map(|_| Ok(())).collect()),
                        log: CallLog::default(),
                    }
                }
                .boxed()
            })
        };
        let coalescer = Coalescer::new(10, 1, Duration::ZERO, |s: &String| s.as_str(), flush);
        let error = coalescer
            .submit("x".into(), &mut CallLog::default())
            .await
            .unwrap_err();
        assert_eq!(error.class, ErrorClass::Ambiguous);
        coalescer
            .submit("y".into(), &mut CallLog::default())
            .await
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn items_gather_while_every_request_is_out() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let flush: Flush<String, ()> = {
            let (seen, gate) = (seen.clone(), gate.clone());
            Arc::new(move |items: Vec<String>| {
                let (seen, gate) = (seen.clone(), gate.clone());
                async move {
                    seen.lock().unwrap().push(items.len());
                    // Held until the test lets this request answer.
                    gate.acquire().await.unwrap().forget();
                    Flushed {
                        answers: Ok(items.iter().map(|_| Ok(())).collect()),
                        log: CallLog::default(),
                    }
                }
                .boxed()
            })
        };
        let coalescer = Arc::new(Coalescer::new(
            100,
            1,
            Duration::ZERO,
            |s: &String| s.as_str(),
            flush,
        ));
        let submit = |item: &str| {
            let (coalescer, item) = (coalescer.clone(), item.to_owned());
            tokio::spawn(async move { coalescer.submit(item, &mut CallLog::default()).await })
        };
        let first = submit("first");
        // Paused time advances only once every task waits: the first
        // request is out and the five below are queued behind it.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let rest: Vec<_> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|item| submit(item))
            .collect();
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(*seen.lock().unwrap(), vec![1], "one request at a time");
        gate.add_permits(2);
        first.await.unwrap().unwrap();
        for item in rest {
            item.await.unwrap().unwrap();
        }
        assert_eq!(*seen.lock().unwrap(), vec![1, 5], "the five went together");
    }
}
