//! Hostile input at intake (issue 12) on real RabbitMQ and PostgreSQL: data
//! errors are rejections, outages lose nothing, rejections stay bounded.

use std::time::Duration;

use boardcast::intake::amqp::{AmqpError, Publisher};
use boardcast::intake::message::{Limits, RejectReason, parse};
use boardcast::intake::{Delivery, Processed, commit, process};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

use crate::helpers::{impatient_pool, sample, start_worker, test_env};

fn valid() -> Value {
    serde_json::from_slice(&sample("sales-account-executive.publish.json")).unwrap()
}

fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut message = valid();
    message["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    edit(&mut message);
    message.to_string().into_bytes()
}

async fn admin() -> PgConnection {
    PgConnection::connect(&std::env::var("DATABASE_URL").expect("DATABASE_URL"))
        .await
        .expect("connecting as admin")
}

/// Finding 1: a PostgreSQL data error (NUL in text, SQLSTATE 22021; a job.id
/// too large for its index, 54000) was taken for an outage and the message
/// requeued forever. It is now a rejection, kept with its reason. The parser
/// refuses both first, so the submissions are built past it, as a future
/// field the parser misses would be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_data_error_rejects_the_message_instead_of_requeueing_it() {
    let env = test_env().await;
    let boards = env.settings.board_ids();
    // Incompressible, so TOAST cannot shrink the index entry under 2704 bytes.
    let too_big_for_the_index: String = (0..600)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect();
    let cases = [
        ("tenant_id", "north\u{0}wind".to_owned(), "SQLSTATE 22"),
        ("job_id", too_big_for_the_index, "SQLSTATE 54"),
    ];
    for (field, value, code) in &cases {
        let raw = edited(|_| {});
        let mut submission = parse(&raw, &Limits::new(262_144, &boards)).unwrap();
        match *field {
            "tenant_id" => submission.tenant_id = value.clone(),
            _ => submission.job_id = value.clone(),
        }
        let delivery = Delivery {
            raw: &raw,
            max_bytes: env.settings.amqp.max_message_bytes,
            routing_key: "post-job",
            redelivered: false,
        };
        let outcome = commit(
            &env.pool,
            &env.settings,
            &env.feed_checks(),
            &delivery,
            submission,
        )
        .await
        .expect("a data error is not an outage");
        let Processed::Rejected(invalid) = outcome else {
            panic!("{field}: not rejected: {outcome:?}");
        };
        assert_eq!(invalid.reason, RejectReason::RefusedByDatabase);
        assert!(invalid.detail.contains(code), "{}", invalid.detail);
    }
    let rows = boardcast::store::rejected::list(&env.pool, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.reason == "refused_by_database"));
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 0, "nothing of them was committed");
    env.cleanup().await;
}

/// Finding 8: a rejected message was stored whole (8 MiB) and listed whole.
/// Now at most `max_message_bytes` is kept, with its full size and SHA-256,
/// and the list answers a preview.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_message_is_stored_and_listed_bounded() {
    let env = test_env().await;
    let max = env.settings.amqp.max_message_bytes;
    let huge = edited(|m| m["job"]["ads"]["en"]["summary"] = json!("x".repeat(4 * max)));
    let boards = env.settings.board_ids();
    let outcome = process(
        &env.pool,
        &env.settings,
        &boards,
        &env.feed_checks(),
        &huge,
        "post-job",
        false,
    )
    .await
    .unwrap();
    assert!(matches!(outcome, Processed::Rejected(ref i) if i.reason == RejectReason::Oversized));

    let (stored, size, sha): (i32, i64, String) =
        sqlx::query_as("SELECT octet_length(raw), raw_size, raw_sha256 FROM rejected_messages")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(stored as usize, max, "at most max_message_bytes kept");
    assert_eq!(size as usize, huge.len());
    assert_eq!(sha, hex::encode(Sha256::digest(&huge)));

    let listed = boardcast::store::rejected::list(&env.pool, 1000)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].raw_bytes, huge.len());
    assert!(listed[0].raw_truncated);
    assert_eq!(
        listed[0].raw.len(),
        boardcast::store::rejected::PREVIEW_BYTES
    );
    assert!(serde_json::to_string(&listed).unwrap().len() < 16 * 1024);
    env.cleanup().await;
}

/// Finding 11: a message_id longer than an AMQP short string panicked the
/// publisher (`boardcast publish` and the replay both use it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_id_longer_than_a_short_string_is_refused_by_the_publisher() {
    let env = test_env().await;
    let publisher = Publisher::connect(&env.settings.amqp).await.unwrap();
    let long_id = "m".repeat(300);
    let refused = publisher.publish(b"{}", &long_id).await.unwrap_err();
    assert!(
        matches!(refused, AmqpError::MessageIdTooLong(300)),
        "{refused}"
    );
    // The channel is still good for the next message.
    publisher
        .publish(&edited(|_| {}), &uuid::Uuid::new_v4().to_string())
        .await
        .unwrap();
    publisher.close().await;
    env.cleanup().await;
}

/// Every AMQP connection offers a small frame size (lapin keeps 64 frames of
/// buffers per connection), and a message larger than one frame still
/// arrives whole: the publisher splits it, the consumer joins it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_offer_a_small_frame_and_large_messages_still_arrive_whole() {
    let mut env = test_env().await;
    let connection = boardcast::intake::amqp::connect(&env.settings.amqp, "test")
        .await
        .unwrap();
    assert_eq!(
        connection.configuration().frame_max(),
        boardcast::intake::amqp::FRAME_MAX
    );
    connection.close(200, "done".into()).await.unwrap();

    let pool = impatient_pool(&env).await;
    let worker = start_worker(&mut env, pool).await;
    // Four ads with summaries near their cap: more than two frames' worth.
    let summary = "Long summary. ".repeat(1_400);
    let message = edited(|m| {
        m["job"]["id"] = json!("LARGE-1");
        m["job"]["ads"]["en"]["summary"] = json!(summary);
        let en = m["job"]["ads"]["en"].clone();
        for language in ["de", "fr", "es"] {
            m["job"]["ads"][language] = en.clone();
        }
    });
    assert!(message.len() > 2 * boardcast::intake::amqp::FRAME_MAX as usize);
    env.publish(&message).await;
    let stored = env
        .wait_for("the large message to be accepted", || async {
            sqlx::query_scalar::<_, String>(
                "SELECT content #>> '{ads,es,summary}' FROM jobs WHERE job_id = 'LARGE-1'",
            )
            .fetch_optional(&env.pool)
            .await
            .ok()
            .flatten()
        })
        .await;
    assert_eq!(stored, summary);
    worker.stop().await;
    env.cleanup().await;
}

/// The URL carries the password: a URL lapin cannot parse is reported
/// without quoting it.
#[tokio::test]
async fn an_invalid_amqp_url_is_reported_without_the_url() {
    let mut settings =
        boardcast::config::Settings::load(&crate::helpers::crate_dir().join("config"))
            .unwrap()
            .amqp;
    settings.url = "amqp://user:s3cret-pass@host:notaport/".to_owned().into();
    let error = boardcast::intake::amqp::connect(&settings, "test")
        .await
        .unwrap_err();
    assert!(matches!(error, AmqpError::InvalidUrl), "{error}");
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

/// Finding 11, the CLI: `boardcast publish` of a file whose message_id is
/// 300 characters exits with an error that says why, not a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boardcast_publish_refuses_a_message_id_longer_than_a_short_string() {
    let env = test_env().await;
    let file = std::env::temp_dir().join(format!("long-id-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, edited(|m| m["message_id"] = json!("m".repeat(300)))).unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_boardcast"))
        .args([
            "--config-dir",
            crate::helpers::crate_dir().join("config").to_str().unwrap(),
            "publish",
            file.to_str().unwrap(),
        ])
        .envs(env.worker_env())
        .output()
        .await
        .expect("running boardcast");
    std::fs::remove_file(&file).ok();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("at most 255 bytes"), "{stderr}");
    env.cleanup().await;
}

/// Finding 16: with the database refusing connections, intake requeued each
/// delivery and dropped its channel; the quorum queue's delivery limit then
/// dead-lettered confirmed, valid ads. Now the delivery is held and its
/// commit retried: the outage outlasts what the old loop took to spend the
/// delivery limit (2 here: three returns, 0.5 + 1 + 2 s of reconnect waits
/// plus 1 s acquire timeouts, under 10 s even with full jitter), and every
/// confirmed message becomes postings, none dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_loses_no_confirmed_message() {
    let mut env = test_env().await;
    env.settings.amqp.delivery_limit = 2;
    let pool = impatient_pool(&env).await;
    let worker = start_worker(&mut env, pool).await;
    let database = env.database.clone();

    let mut admin = admin().await;
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

    let ids = ["OUTAGE-1", "OUTAGE-2", "OUTAGE-3"];
    for id in ids {
        env.publish(&edited(|m| m["job"]["id"] = json!(id))).await;
    }
    // The outage itself: its length is the scenario, not a synchronisation.
    let outage = tokio::time::Instant::now() + Duration::from_secs(12);
    let mut dead_lettered = 0;
    while tokio::time::Instant::now() < outage && dead_lettered == 0 {
        dead_lettered = env.dead_letters().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Restored before any assertion, so a failure leaves no database cut off.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    admin.close().await.ok();
    assert_eq!(dead_lettered, 0, "dead-lettered during the outage");

    env.wait_for("every confirmed message to be committed", || async {
        let jobs: Vec<String> = sqlx::query_scalar("SELECT job_id FROM jobs ORDER BY job_id")
            .fetch_all(&env.pool)
            .await
            .ok()?;
        (jobs == ids).then_some(())
    })
    .await;
    assert_eq!(env.dead_letters().await, 0);
    let rejected = boardcast::store::rejected::list(&env.pool, 10)
        .await
        .unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    // And each became its postings.
    let postings: i64 = sqlx::query_scalar("SELECT count(*) FROM postings")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(postings, 3 * 6);

    worker.stop().await;
    env.cleanup().await;
}
