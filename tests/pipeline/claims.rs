//! Claims share one parsed job: every posting of a job claimed while another
//! attempt of it is in flight gets the same `Arc<Job>`, read from PostgreSQL
//! and parsed once; a later revision of the job is never served from it.

use std::sync::Arc;
use std::time::Duration;

use boardcast::boards::feed::FeedChecks;
use boardcast::dispatch::claims::Claimer;
use boardcast::intake::{self, Processed};
use boardcast::store::feeds;
use boardcast::store::job_cache::JobCache;
use boardcast::store::postings::{self, Claimed};

use crate::helpers::test_env;
use crate::{LINKEDIN, STEPSTONE, WTTJ};

const INDEED_FEED: &str = "indeed-feed";
const LEASE: Duration = Duration::from_secs(60);

fn job_of(claimed: &Claimed) -> Arc<boardcast::intake::message::Job> {
    claimed.job.clone().expect("the stored job parses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_share_one_parsed_job_until_a_new_revision_arrives() {
    let env = test_env().await;
    let boards = env.settings.board_ids();
    let raw = env.accept_sample().await;
    let cache = JobCache::default();

    // One board's batch: several languages of one job, one parse.
    let wttj = postings::claim(&env.pool, &cache, WTTJ, 10, LEASE, "test-worker", false)
        .await
        .expect("claiming");
    assert!(wttj.len() > 1, "the sample has several WTTJ postings");
    let first = job_of(&wttj[0]);
    for posting in &wttj {
        assert!(
            Arc::ptr_eq(&first, &job_of(posting)),
            "posting {} has its own copy of the job",
            posting.id
        );
        assert!(first.ads.contains_key(&posting.locale));
    }
    // Another board's claim, while those attempts hold the job: the same parse.
    let linkedin = postings::claim(&env.pool, &cache, LINKEDIN, 10, LEASE, "test-worker", false)
        .await
        .expect("claiming");
    assert!(!linkedin.is_empty());
    for posting in &linkedin {
        assert!(Arc::ptr_eq(&first, &job_of(posting)));
    }

    // A new revision with a new title, while the old parse is still held.
    let mut message: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    message["message_id"] = serde_json::json!(uuid::Uuid::new_v4().to_string());
    message["job"]["revision"] = serde_json::json!(first.revision + 1);
    let ads = message["job"]["ads"].as_object_mut().unwrap();
    for ad in ads.values_mut() {
        ad["title"] = serde_json::json!("Account Executive, revised");
    }
    let processed = intake::process(
        &env.pool,
        &env.settings,
        &boards,
        &FeedChecks::default(),
        &serde_json::to_vec(&message).unwrap(),
        "post-job",
        false,
    )
    .await
    .expect("the database answers");
    assert!(
        matches!(processed, Processed::Accepted { .. }),
        "{processed:?}"
    );

    let stepstone = postings::claim(
        &env.pool,
        &cache,
        STEPSTONE,
        10,
        LEASE,
        "test-worker",
        false,
    )
    .await
    .expect("claiming");
    assert!(!stepstone.is_empty());
    let revised = job_of(&stepstone[0]);
    assert!(
        !Arc::ptr_eq(&first, &revised),
        "served the old revision's parse"
    );
    assert_eq!(revised.revision, first.revision + 1);
    assert!(
        revised
            .ads
            .values()
            .all(|ad| ad.title == "Account Executive, revised")
    );
    for posting in &stepstone {
        assert!(Arc::ptr_eq(&revised, &job_of(posting)));
    }
    // The old parse stays with the attempts that claimed it.
    assert_eq!(first.revision, wttj[0].revision);
    drop((wttj, linkedin, first));

    env.cleanup().await;
}

/// Boards' claims that meet at the claimer are one statement, and each
/// board still gets only its own postings, no more than it asked for, and
/// none while it is paused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_taken_together_keep_each_boards_limit_and_pause() {
    let env = test_env().await;
    env.accept_sample().await;
    sqlx::query("INSERT INTO board_pauses (board, paused_by, reason) VALUES ($1, 'test', 'test')")
        .bind(STEPSTONE)
        .execute(&env.pool)
        .await
        .unwrap();

    let (claimer, task) = Claimer::start(
        env.pool.clone(),
        Arc::new(JobCache::default()),
        LEASE,
        "test-worker".to_owned(),
    );
    let (wttj, linkedin, stepstone) = tokio::join!(
        claimer.claim(WTTJ, 1),
        claimer.claim(LINKEDIN, 10),
        claimer.claim(STEPSTONE, 10),
    );
    let (wttj, linkedin, stepstone) = (
        wttj.expect("claiming"),
        linkedin.expect("claiming"),
        stepstone.expect("claiming"),
    );
    assert_eq!(wttj.len(), 1, "WTTJ asked for one of its several postings");
    assert!(!linkedin.is_empty());
    assert!(wttj.iter().all(|p| p.board == WTTJ));
    assert!(linkedin.iter().all(|p| p.board == LINKEDIN));
    assert!(stepstone.is_empty(), "a paused board claims nothing");

    // What the claimer handed out is exactly what the database leased.
    let mut handed: Vec<i64> = wttj.iter().chain(&linkedin).map(|p| p.id).collect();
    handed.sort_unstable();
    let leased: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM postings WHERE status = 'in_flight' AND leased_by = 'test-worker' ORDER BY id",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert_eq!(handed, leased);

    drop(claimer);
    task.await.expect("the claimer ends with its last handle");
    env.cleanup().await;
}

/// A feed lists a job once per language: its rows share one parse of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feeds_rows_share_one_parsed_job() {
    let mut env = test_env().await;
    env.settings
        .boards
        .get_mut("indeed_feed")
        .expect("the feed board is configured")
        .enabled = true;
    env.accept_sample().await;
    // As if the crawler had taken them: the feed lists posted rows.
    let posted = sqlx::query(
        "UPDATE postings SET status = 'posted', sent_hash = content_hash
         WHERE board = $1 AND status <> 'skipped'",
    )
    .bind(INDEED_FEED)
    .execute(&env.pool)
    .await
    .unwrap()
    .rows_affected();
    assert!(
        posted > 1,
        "the sample has several languages for the feed: {posted}"
    );

    let rows = feeds::rows(&env.pool, INDEED_FEED)
        .await
        .expect("reading the feed");
    assert!(
        rows.len() > 1,
        "the sample has several languages for the feed"
    );
    let first = rows[0].job.clone().expect("the stored job parses");
    for row in &rows {
        let job = row.job.clone().expect("the stored job parses");
        assert!(Arc::ptr_eq(&first, &job), "row {} has its own copy", row.id);
        assert!(job.ads.contains_key(&row.locale));
    }

    env.cleanup().await;
}
