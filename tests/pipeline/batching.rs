//! Batched intake (issue 9): deliveries already buffered are committed in one
//! transaction, a savepoint each. Every outcome must be what one-at-a-time
//! gives, every accepted delivery acked, nothing lost or doubled.

use std::time::Duration;

use boardcast::intake::amqp::{Publisher, connect};
use boardcast::intake::message::{InvalidMessage, Limits, Submission, parse};
use boardcast::intake::{Delivery, Processed, commit, commit_batch, process};
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::helpers::{PATIENCE, TestEnv, impatient_pool, sample, start_worker, test_env};

fn valid() -> Value {
    serde_json::from_slice(&sample("sales-account-executive.publish.json")).unwrap()
}

fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut message = valid();
    message["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    edit(&mut message);
    message.to_string().into_bytes()
}

/// Publishes every message (confirmed) before any worker consumes, so the
/// worker finds them buffered together.
async fn publish_all(env: &TestEnv, messages: &[Vec<u8>]) {
    let publisher = Publisher::connect(&env.settings.amqp).await.unwrap();
    for body in messages {
        let id = boardcast::intake::message::identify(body)
            .0
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        publisher.publish(body, &id).await.expect("publishing");
    }
    publisher.close().await;
}

/// One metric's value from the worker's /metrics.
async fn metric(env: &TestEnv, name: &str) -> f64 {
    env.metrics()
        .await
        .lines()
        .find_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            (key == name).then(|| value.parse().unwrap())
        })
        .unwrap_or(0.0)
}

/// Messages ready in the intake queue. With the worker stopped, an unacked
/// delivery is ready again, so 0 means every delivery was settled.
async fn queued(env: &TestEnv) -> u32 {
    let connection = connect(&env.settings.amqp, "test").await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    let queue = channel
        .queue_declare(
            env.settings.amqp.queue.clone().into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    queue.message_count()
}

async fn count(env: &TestEnv, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&env.pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_with_bad_messages_inside_is_batched_and_every_delivery_settled() {
    let mut env = test_env().await;
    let mut messages: Vec<Vec<u8>> = (0..10)
        .map(|i| edited(|m| m["job"]["id"] = json!(format!("BURST-{i:02}"))))
        .collect();
    // A message the parser rejects, and one the database refuses inside its
    // savepoint (a revision older than the one just before it in the batch).
    messages.push(edited(|m| {
        m["job"]["ads"]["en"]["title"] = json!("Account\u{0}Executive")
    }));
    messages.push(edited(|m| {
        m["job"]["id"] = json!("BURST-05");
        m["action"] = json!("update");
        m["job"]["revision"] = json!(1);
    }));
    messages.extend((10..20).map(|i| edited(|m| m["job"]["id"] = json!(format!("BURST-{i:02}")))));
    publish_all(&env, &messages).await;
    let pool = impatient_pool(&env).await;
    let worker = start_worker(&mut env, pool).await;

    env.wait_for("every message to be committed", || async {
        let accepted = metric(&env, "boardcast_intake_messages_total{result=\"accepted\"}").await;
        let rejected = metric(&env, "boardcast_intake_messages_total{result=\"rejected\"}").await;
        (accepted + rejected >= 22.0).then_some(())
    })
    .await;
    assert_eq!(
        metric(&env, "boardcast_intake_messages_total{result=\"accepted\"}").await,
        20.0
    );
    assert_eq!(
        metric(&env, "boardcast_intake_messages_total{result=\"rejected\"}").await,
        2.0
    );
    // Each delivery was in exactly one committed batch, and some batch held more than one.
    let batched = metric(&env, "boardcast_intake_batch_size_sum").await;
    let batches = metric(&env, "boardcast_intake_batch_size_count").await;
    assert_eq!(batched, 22.0);
    assert!(batches < 22.0, "no batch held more than one delivery");

    assert_eq!(count(&env, "SELECT count(*) FROM submissions").await, 20);
    assert_eq!(count(&env, "SELECT count(*) FROM jobs").await, 20);
    assert_eq!(
        count(&env, "SELECT count(*) FROM jobs WHERE revision = 1").await,
        20,
        "the stale update changed nothing"
    );
    assert_eq!(count(&env, "SELECT count(*) FROM postings").await, 20 * 6);
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT reason FROM rejected_messages ORDER BY reason")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert_eq!(reasons, ["control_character", "stale_revision"]);

    worker.stop().await;
    assert_eq!(queued(&env).await, 0, "a delivery was left unacked");
    assert_eq!(env.dead_letters().await, 2);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_revisions_of_a_job_in_one_batch_end_as_sequential_processing_does() {
    let publish = edited(|m| m["job"]["id"] = json!("TWICE"));
    let update = edited(|m| {
        m["job"]["id"] = json!("TWICE");
        m["action"] = json!("update");
        m["job"]["revision"] = json!(2);
        m["job"]["ads"]["en"]["title"] = json!("Senior Account Executive");
    });
    // The same message twice (a republish): the second is a duplicate.
    let messages = vec![publish, update.clone(), update];

    let sequential = test_env().await;
    let boards = sequential.settings.board_ids();
    let mut outcomes = Vec::new();
    for raw in &messages {
        let processed = process(
            &sequential.pool,
            &sequential.settings,
            &boards,
            &sequential.feed_checks(),
            raw,
            "post-job",
            false,
        )
        .await
        .unwrap();
        outcomes.push(match processed {
            Processed::Accepted { .. } => "accepted",
            Processed::Duplicate => "duplicate",
            Processed::Rejected(_) => "rejected",
        });
    }
    assert_eq!(outcomes, ["accepted", "accepted", "duplicate"]);

    let mut batched = test_env().await;
    publish_all(&batched, &messages).await;
    let pool = impatient_pool(&batched).await;
    let worker = start_worker(&mut batched, pool).await;
    batched
        .wait_for("every message to be settled", || async {
            let accepted = metric(
                &batched,
                "boardcast_intake_messages_total{result=\"accepted\"}",
            )
            .await;
            let duplicate = metric(
                &batched,
                "boardcast_intake_messages_total{result=\"duplicate\"}",
            )
            .await;
            (accepted + duplicate >= 3.0).then_some(())
        })
        .await;
    assert_eq!(
        metric(
            &batched,
            "boardcast_intake_messages_total{result=\"duplicate\"}"
        )
        .await,
        1.0
    );
    assert!(
        metric(&batched, "boardcast_intake_batch_size_count").await < 3.0,
        "the three were not batched"
    );

    let job = "SELECT revision, content, withdrawn FROM jobs WHERE job_id = 'TWICE'";
    let postings = "SELECT board, locale, revision, wanted::text, content_hash FROM postings
                    ORDER BY board, locale";
    type Posting = (String, String, i64, String, Option<String>);
    let (seq_job, seq_postings): ((i64, Value, bool), Vec<Posting>) = (
        sqlx::query_as(job)
            .fetch_one(&sequential.pool)
            .await
            .unwrap(),
        sqlx::query_as(postings)
            .fetch_all(&sequential.pool)
            .await
            .unwrap(),
    );
    let (bat_job, bat_postings): ((i64, Value, bool), Vec<Posting>) = (
        sqlx::query_as(job).fetch_one(&batched.pool).await.unwrap(),
        sqlx::query_as(postings)
            .fetch_all(&batched.pool)
            .await
            .unwrap(),
    );
    assert_eq!(seq_job.0, 2, "the later revision wins");
    assert_eq!(bat_job, seq_job);
    assert_eq!(bat_postings, seq_postings);
    assert_eq!(count(&batched, "SELECT count(*) FROM submissions").await, 2);

    worker.stop().await;
    assert_eq!(queued(&batched).await, 0);
    sequential.cleanup().await;
    batched.cleanup().await;
}

/// A database outage while a batch is in hand: the batch is held unacked and
/// retried whole; afterwards each message is committed once, none dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_held_through_a_database_outage_loses_and_doubles_nothing() {
    let mut env = test_env().await;
    env.settings.amqp.delivery_limit = 2;
    let database = env.database.clone();
    let mut admin = PgConnection::connect(&std::env::var("DATABASE_URL").expect("DATABASE_URL"))
        .await
        .unwrap();
    let pool = impatient_pool(&env).await;
    let worker = start_worker(&mut env, pool).await;

    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&database)
    .execute(&mut admin)
    .await
    .unwrap();
    let messages: Vec<Vec<u8>> = (0..16)
        .map(|i| edited(|m| m["job"]["id"] = json!(format!("HELD-{i:02}"))))
        .collect();
    publish_all(&env, &messages).await;
    // Held: every delivery has left the queue for the worker, which cannot ack it.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut ready = queued(&env).await;
    while ready > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
        ready = queued(&env).await;
    }
    // The outage goes on a while with the batch in hand: its length is the
    // scenario, not a synchronisation.
    if ready == 0 {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    // Restored before any assertion, so a failure leaves no database cut off.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    admin.close().await.ok();
    assert_eq!(ready, 0, "the worker never took the deliveries");

    env.wait_for("every message to be committed", || async {
        let accepted = metric(&env, "boardcast_intake_messages_total{result=\"accepted\"}").await;
        (accepted >= 16.0).then_some(())
    })
    .await;
    assert!(
        metric(
            &env,
            "boardcast_intake_messages_total{result=\"database_error\"}"
        )
        .await
            >= 1.0,
        "the outage was never met"
    );
    worker.stop().await;
    assert_eq!(count(&env, "SELECT count(*) FROM submissions").await, 16);
    assert_eq!(count(&env, "SELECT count(*) FROM postings").await, 16 * 6);
    assert_eq!(
        count(&env, "SELECT count(*) FROM rejected_messages").await,
        0
    );
    assert_eq!(queued(&env).await, 0);
    assert_eq!(env.dead_letters().await, 0);
    env.cleanup().await;
}

/// One message of [`the_set_based_intake_ends_every_message_as_one_at_a_time_does`].
struct Message {
    raw: Vec<u8>,
    /// Given past the parser a NUL in its tenant_id, which the database refuses.
    nul_tenant: bool,
}

fn message(edit: impl FnOnce(&mut Value)) -> Message {
    Message {
        raw: edited(edit),
        nul_tenant: false,
    }
}

fn publish(job: &str) -> Message {
    message(|m| m["job"]["id"] = json!(job))
}

fn update(job: &str, revision: i64) -> Message {
    message(|m| {
        m["action"] = json!("update");
        m["job"]["id"] = json!(job);
        m["job"]["revision"] = json!(revision);
        m["job"]["ads"]["en"]["title"] = json!(format!("Account Executive, revision {revision}"));
    })
}

fn delivery(raw: &[u8]) -> Delivery<'_> {
    Delivery {
        raw,
        max_bytes: 262_144,
        routing_key: "post-job",
        redelivered: false,
    }
}

fn parsed(env: &TestEnv, message: &Message) -> Result<Submission, InvalidMessage> {
    let boards = env.settings.board_ids();
    let mut submission = parse(&message.raw, &Limits::new(262_144, &boards))?;
    if message.nul_tenant {
        submission.tenant_id = "north\u{0}wind".to_owned();
    }
    Ok(submission)
}

/// What a test compares of an outcome: its kind, and a rejection's reason.
fn outcome(processed: &Processed) -> String {
    match processed {
        Processed::Accepted { .. } => "accepted".to_owned(),
        Processed::Duplicate => "duplicate".to_owned(),
        Processed::Rejected(invalid) => format!("rejected: {}", invalid.reason.as_str()),
    }
}

/// Applies `messages` one at a time, each in its own transaction.
async fn one_at_a_time(env: &TestEnv, messages: &[Message]) -> Vec<String> {
    let boards = env.settings.board_ids();
    let feeds = env.feed_checks();
    let mut outcomes = Vec::new();
    for message in messages {
        let processed = if message.nul_tenant {
            let submission = parsed(env, message).unwrap();
            commit(
                &env.pool,
                &env.settings,
                &feeds,
                &delivery(&message.raw),
                submission,
            )
            .await
        } else {
            process(
                &env.pool,
                &env.settings,
                &boards,
                &feeds,
                &message.raw,
                "post-job",
                false,
            )
            .await
        };
        outcomes.push(outcome(&processed.unwrap()));
    }
    outcomes
}

/// Applies `messages` as one batch; the outcomes and how many took the set-based path.
async fn as_a_batch(env: &TestEnv, messages: &[Message]) -> (Vec<String>, usize) {
    let batch = messages
        .iter()
        .map(|message| (delivery(&message.raw), parsed(env, message)))
        .collect();
    let batch = commit_batch(&env.pool, &env.settings, &env.feed_checks(), batch)
        .await
        .unwrap();
    (
        batch.processed.iter().map(outcome).collect(),
        batch.set_based,
    )
}

/// Every row intake writes, in an order and form both databases share
/// (ids and timestamps left out: they differ run to run).
async fn intake_rows(env: &TestEnv) -> Vec<String> {
    let queries = [
        "SELECT concat_ws('|', message_id, tenant_id, job_id, action, revision)
         FROM submissions",
        "SELECT concat_ws('|', tenant_id, job_id, revision, content, withdrawn) FROM jobs",
        "SELECT concat_ws('|', tenant_id, job_id, board, locale, reference, revision, wanted,
                          status, content_hash, attempts, max_attempts, last_error,
                          sent_revision, board_task)
         FROM postings",
        "SELECT concat_ws('|', message_id, tenant_id, job_id, reason, detail, md5(raw), routing_key)
         FROM rejected_messages",
        "SELECT concat_ws('|', routing_key, body - 'occurred_at' - 'posting_id') FROM outbox",
    ];
    let mut rows = Vec::new();
    for query in queries {
        let mut table: Vec<String> = sqlx::query_scalar(query)
            .fetch_all(&env.pool)
            .await
            .unwrap();
        table.sort();
        rows.push(format!("-- {query}"));
        rows.extend(table);
    }
    rows
}

/// The set-based path (issue 9) against one message at a time on a second
/// database: same outcomes, same rows, same events. The first batch mixes
/// every case; the second carries a message the database refuses, so its set
/// fails and falls back to one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_set_based_intake_ends_every_message_as_one_at_a_time_does() {
    let sequential = test_env().await;
    let batched = test_env().await;
    let mut earlier = vec![
        publish("SET-AGAIN"),
        publish("SET-STALE"),
        publish("SET-WITHDRAWN"),
        publish("SET-DROPS"),
    ];
    earlier[1] = message(|m| {
        m["job"]["id"] = json!("SET-STALE");
        m["job"]["revision"] = json!(3);
    });
    for env in [&sequential, &batched] {
        let outcomes = one_at_a_time(env, &earlier).await;
        assert_eq!(outcomes, ["accepted"; 4]);
    }

    let resent = Message {
        raw: earlier[0].raw.clone(),
        nul_tenant: false,
    };
    let mut withdraw: Value =
        serde_json::from_slice(&sample("account-executive.withdraw.json")).unwrap();
    withdraw["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    withdraw["job"]["id"] = json!("SET-WITHDRAWN");
    let mixed = vec![
        publish("SET-NEW-1"),
        resent,
        update("SET-STALE", 2),
        publish("SET-TWICE"),
        update("SET-UNKNOWN", 2),
        message(|m| m["job"]["ads"]["en"]["title"] = json!("Account\u{7}Executive")),
        Message {
            raw: withdraw.to_string().into_bytes(),
            nul_tenant: false,
        },
        update("SET-TWICE", 2),
        // The Portuguese ad is dropped: its postings come down.
        message(|m| {
            m["action"] = json!("update");
            m["job"]["id"] = json!("SET-DROPS");
            m["job"]["revision"] = json!(2);
            m["job"]["ads"].as_object_mut().unwrap().remove("pt");
        }),
        publish("SET-NEW-2"),
    ];
    let expected = one_at_a_time(&sequential, &mixed).await;
    assert_eq!(
        expected,
        [
            "accepted",
            "duplicate",
            "rejected: stale_revision",
            "accepted",
            "rejected: unknown_job",
            "rejected: control_character",
            "accepted",
            "accepted",
            "accepted",
            "accepted",
        ]
    );
    let (outcomes, set_based) = as_a_batch(&batched, &mixed).await;
    assert_eq!(outcomes, expected);
    // All but the two messages of SET-TWICE, the withdraw and the unparsable one.
    assert_eq!(set_based, 6, "the set-based path was not taken");
    assert_eq!(intake_rows(&batched).await, intake_rows(&sequential).await);

    let refused = vec![
        publish("SET-FALLBACK"),
        Message {
            nul_tenant: true,
            ..publish("SET-REFUSED")
        },
        update("SET-NEW-1", 2),
    ];
    let expected = one_at_a_time(&sequential, &refused).await;
    assert_eq!(
        expected,
        ["accepted", "rejected: refused_by_database", "accepted"]
    );
    let (outcomes, set_based) = as_a_batch(&batched, &refused).await;
    assert_eq!(outcomes, expected);
    assert_eq!(set_based, 0, "the failed set was not applied one at a time");
    assert_eq!(intake_rows(&batched).await, intake_rows(&sequential).await);

    sequential.cleanup().await;
    batched.cleanup().await;
}
