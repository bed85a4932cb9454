//! A worker killed with SIGKILL while boards hold its requests: after a
//! restart every posting ends posted, and no board holds a second copy.

use std::process::Stdio;

use boardcast::sandbox::Faults;
use tokio::process::{Child, Command};

use crate::helpers::{PATIENCE, TestEnv, crate_dir, test_env};
use crate::{LINKEDIN, STEPSTONE, WTTJ};

fn start_worker(env: &TestEnv) -> Child {
    let log = if std::env::var("TEST_LOG").is_ok() {
        Stdio::inherit()
    } else {
        Stdio::null()
    };
    Command::new(env!("CARGO_BIN_EXE_boardcast"))
        .args([
            "--config-dir",
            crate_dir().join("config").to_str().unwrap(),
            "run",
        ])
        .envs(env.worker_env())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("starting boardcast run")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_send_loses_nothing_and_duplicates_nothing() {
    let mut env = test_env().await;
    // The lease must outlive a board call; the rescuer reclaims after it.
    env.settings.dispatch.request_timeout_ms = 4_000;
    env.settings.dispatch.lease_ms = 5_000;
    // Each board applies the request, then answers only 3 s later: a kill in
    // that window leaves the board holding ads the worker never heard about.
    for board in [WTTJ, LINKEDIN, STEPSTONE] {
        env.faults(
            board,
            Faults {
                latency_ms: 3_000,
                ..Faults::default()
            },
        );
    }

    let mut first = start_worker(&env);
    env.publish_sample("account-executive.publish.json").await;
    env.wait_for(
        "every board to hold ads the worker has not heard back about",
        || async {
            [WTTJ, LINKEDIN, STEPSTONE]
                .iter()
                .all(|board| !env.held(board).is_empty())
                .then_some(())
        },
    )
    .await;
    first.start_kill().expect("SIGKILL");
    first.wait().await.expect("the first worker is gone");
    let in_flight: i64 =
        sqlx::query_scalar("SELECT count(*) FROM postings WHERE status = 'in_flight'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(in_flight > 0, "the kill landed mid-send");

    for board in [WTTJ, LINKEDIN, STEPSTONE] {
        env.faults(board, Faults::default());
    }
    let mut second = start_worker(&env);
    let rows = tokio::time::timeout(PATIENCE * 2, env.settled(18))
        .await
        .expect("settled after the restart");
    assert_eq!(
        rows.iter().filter(|r| r.status == "posted").count(),
        11,
        "{rows:#?}"
    );

    // No board holds a second copy, and none was created twice.
    for board in [WTTJ, LINKEDIN, STEPSTONE] {
        let held = env.held(board);
        let posted = rows
            .iter()
            .filter(|r| r.board == board && r.status == "posted")
            .count();
        assert_eq!(held.len(), posted, "{board}: {held:#?}");
        for copy in held {
            assert_eq!(copy.creates, 1, "{board} {}", copy.reference);
            assert!(copy.live);
        }
    }
    // The history shows the rescue.
    let rescued: i64 =
        sqlx::query_scalar("SELECT count(*) FROM posting_attempts WHERE outcome = 'lease_expired'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(rescued > 0);
    // And ops see it per board, whichever replica rescued it.
    let health = boardcast::store::ops::board_health(&env.pool)
        .await
        .unwrap();
    assert_eq!(
        health.iter().map(|h| h.rescued_last_day).sum::<i64>(),
        rescued,
        "{health:?}"
    );

    second.start_kill().ok();
    second.wait().await.ok();
    env.cleanup().await;
}

/// Completions written together in one batch keep each one's lease fence: a
/// completion whose lease was taken over is refused (its attempt kept in the
/// history only) while the others of its batch land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_completions_keeps_each_lease_fence() {
    use std::time::Duration;

    use boardcast::dispatch::completions::CompletionWriter;
    use boardcast::store::PostingStatus;
    use boardcast::store::postings::{self, AttemptRecord, Completion};

    let env = test_env().await;
    env.accept_sample().await;
    let claimed = postings::claim(
        &env.pool,
        &boardcast::store::job_cache::JobCache::default(),
        WTTJ,
        2,
        Duration::from_secs(60),
        "test-worker",
        false,
    )
    .await
    .expect("claiming");
    assert_eq!(
        claimed.len(),
        2,
        "the sample has three WTTJ postings: two claimed"
    );

    let completion = |posting: &postings::Claimed, lease_token| Completion {
        posting_id: posting.id,
        lease_token,
        wanted_at_claim: posting.wanted.clone(),
        hash_at_claim: posting.content_hash.clone(),
        revision_at_claim: posting.revision,
        status: PostingStatus::Posted,
        attempts_delta: 0,
        retry_in: None,
        external_id: Some(format!("ext-{}", posting.id)),
        external_url: None,
        board_task: None,
        may_exist: true,
        board_shows: Some(posting.content_hash.clone()),
        fixed_fields: None,
        replaced: false,
        last_error: None,
        attempt: AttemptRecord {
            started_at: posting.claimed_at,
            operation: "create",
            outcome: "posted",
            http_status: Some(201),
            detail: None,
            duration: Duration::from_millis(5),
            request_hash: None,
            worker: "test-worker".to_owned(),
        },
    };
    let (writer, task) = CompletionWriter::start(env.pool.clone(), 16);
    // The second one's lease is not the claim's: another worker holds it now.
    let (kept, fenced) = tokio::join!(
        writer.write(completion(&claimed[0], claimed[0].lease_token)),
        writer.write(completion(&claimed[1], uuid::Uuid::new_v4())),
    );
    drop(writer);
    task.await.expect("the writer ends with its last handle");

    assert_eq!(kept.expect("written"), Some(PostingStatus::Posted));
    assert_eq!(
        fenced.expect("written"),
        None,
        "a lost lease writes no status"
    );
    let statuses: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, status::text FROM postings WHERE id = ANY($1) ORDER BY id")
            .bind(vec![claimed[0].id, claimed[1].id])
            .fetch_all(&env.pool)
            .await
            .unwrap();
    let status_of = |id| statuses.iter().find(|(i, _)| *i == id).unwrap().1.clone();
    assert_eq!(status_of(claimed[0].id), "posted");
    assert_eq!(status_of(claimed[1].id), "in_flight");
    // Both attempts are in the history, the fenced one too.
    let history: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM posting_attempts WHERE posting_id = ANY($1) AND operation = 'create'",
    )
    .bind(vec![claimed[0].id, claimed[1].id])
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(history, 2);
    env.cleanup().await;
}

/// Issue 9: the set-based batch statement keeps each completion's own fence
/// and next state: a kept lease lands, a lost lease writes no status but keeps
/// its attempt, and a posting whose job changed since its claim goes round
/// again (queued, attempts from zero), all in one statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_based_batch_mixes_kept_and_lost_leases_and_a_changed_job() {
    use std::time::Duration;

    use boardcast::store::PostingStatus;
    use boardcast::store::postings::{self, AttemptRecord, Completion};

    let env = test_env().await;
    env.accept_sample().await;
    let claimed = postings::claim(
        &env.pool,
        &boardcast::store::job_cache::JobCache::default(),
        WTTJ,
        3,
        Duration::from_secs(60),
        "test-worker",
        false,
    )
    .await
    .expect("claiming");
    assert_eq!(claimed.len(), 3, "the sample has three WTTJ postings");
    // The third one's job changed after the claim (a new revision's content).
    sqlx::query("UPDATE postings SET content_hash = 'changed-since-claim' WHERE id = $1")
        .bind(claimed[2].id)
        .execute(&env.pool)
        .await
        .unwrap();

    let completion = |posting: &postings::Claimed, lease_token| Completion {
        posting_id: posting.id,
        lease_token,
        wanted_at_claim: posting.wanted.clone(),
        hash_at_claim: posting.content_hash.clone(),
        revision_at_claim: posting.revision,
        status: PostingStatus::Posted,
        attempts_delta: 0,
        retry_in: None,
        external_id: Some(format!("ext-{}", posting.id)),
        external_url: Some(format!("https://board.example/{}", posting.id)),
        board_task: None,
        may_exist: false,
        board_shows: Some(posting.content_hash.clone()),
        fixed_fields: Some(Some("fixed".to_owned())),
        replaced: false,
        last_error: None,
        attempt: AttemptRecord {
            started_at: posting.claimed_at,
            operation: "publish",
            outcome: "posted",
            http_status: Some(201),
            detail: Some(format!("batch {}", posting.id)),
            duration: Duration::from_millis(5),
            request_hash: None,
            worker: "test-worker".to_owned(),
        },
    };
    let kept = completion(&claimed[0], claimed[0].lease_token);
    // Another worker holds this one's lease now.
    let lost = completion(&claimed[1], uuid::Uuid::new_v4());
    let changed = completion(&claimed[2], claimed[2].lease_token);
    let written = postings::complete_batch(&env.pool, &[&kept, &lost, &changed])
        .await
        .expect("one statement writes the batch");
    assert_eq!(
        written,
        vec![
            Some(PostingStatus::Posted),
            None,
            Some(PostingStatus::Queued)
        ],
        "in batch order: kept, lost, changed"
    );

    #[derive(sqlx::FromRow, Debug)]
    struct Row {
        id: i64,
        status: String,
        attempts: i32,
        external_id: Option<String>,
        sent_hash: Option<String>,
        fixed_fields: Option<String>,
        lease_token: Option<uuid::Uuid>,
        due_now: Option<bool>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, status::text AS status, attempts, external_id, sent_hash, fixed_fields,
                lease_token, next_attempt_at <= now() AS due_now
         FROM postings WHERE id = ANY($1) ORDER BY id",
    )
    .bind(claimed.iter().map(|c| c.id).collect::<Vec<_>>())
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let row = |id| rows.iter().find(|r| r.id == id).unwrap();

    let posted = row(claimed[0].id);
    assert_eq!(posted.status, "posted");
    assert_eq!(posted.external_id, Some(format!("ext-{}", claimed[0].id)));
    assert_eq!(posted.sent_hash, claimed[0].content_hash);
    assert_eq!(posted.fixed_fields.as_deref(), Some("fixed"));
    assert_eq!(posted.lease_token, None);
    assert_eq!(posted.due_now, None, "posted waits for nothing");

    let fenced = row(claimed[1].id);
    assert_eq!(fenced.status, "in_flight", "a lost lease changes nothing");
    assert_eq!(fenced.lease_token, Some(claimed[1].lease_token));
    assert_eq!(fenced.external_id, None);

    let again = row(claimed[2].id);
    assert_eq!(again.status, "queued", "the job changed: sent again");
    assert_eq!(again.attempts, 0);
    assert_eq!(again.due_now, Some(true));

    // Every attempt is in the history, in batch order, the fenced one too,
    // each starting when its claim took the posting.
    let history: Vec<(i64, String, time::OffsetDateTime)> = sqlx::query_as(
        "SELECT posting_id, detail, started_at FROM posting_attempts
         WHERE posting_id = ANY($1) AND operation = 'publish' ORDER BY id",
    )
    .bind(claimed.iter().map(|c| c.id).collect::<Vec<_>>())
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let expected: Vec<(i64, String, time::OffsetDateTime)> = claimed
        .iter()
        .map(|c| (c.id, format!("batch {}", c.id), c.claimed_at))
        .collect();
    assert_eq!(history, expected);
    let (claim_started,): (time::OffsetDateTime,) =
        sqlx::query_as("SELECT attempt_started_at FROM postings WHERE id = $1")
            .bind(claimed[1].id)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(
        claim_started, claimed[1].claimed_at,
        "the claim hands back the start it wrote"
    );
    env.cleanup().await;
}
