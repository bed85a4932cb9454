//! The ATS hears about every posting that settles, and once about the job.

use std::collections::BTreeMap;
use std::time::Duration;

use boardcast::ops::events::prune_published;

use crate::helpers::spawn_app;
use crate::{LINKEDIN, STEPSTONE, WTTJ};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ats_hears_each_posting_and_then_the_settled_job() {
    let app = spawn_app().await;
    let mut ats = app.listen_to_events().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let rows = app.settled(6).await;

    let events = ats.until("job.settled").await;
    let (last_key, settled) = events.last().unwrap();
    assert_eq!(last_key, "job.settled");
    assert_eq!(settled["tenant_id"], "northwind");
    assert_eq!(settled["job_id"], "SAE-77");
    assert_eq!(settled["revision"], 1);
    assert_eq!(settled["postings"].as_array().unwrap().len(), 6);

    // One event per posting, matching what the database holds.
    let mut heard: BTreeMap<(String, String), (String, serde_json::Value)> = BTreeMap::new();
    for (key, body) in &events[..events.len() - 1] {
        let board = body["board"].as_str().unwrap().to_owned();
        let locale = body["locale"].as_str().unwrap().to_owned();
        assert_eq!(
            key,
            &format!("posting.{}", body["status"].as_str().unwrap())
        );
        let previous = heard.insert((board, locale), (key.clone(), body.clone()));
        assert!(previous.is_none(), "one event per posting: {key} {body}");
    }
    assert_eq!(heard.len(), 6);
    for row in &rows {
        let (key, body) = &heard[&(row.board.clone(), row.locale.clone())];
        assert_eq!(key, &format!("posting.{}", row.status));
        assert_eq!(body["external_id"].as_str(), row.external_id.as_deref());
        assert_eq!(body["external_url"].as_str(), row.external_url.as_deref());
        if row.status == "skipped" {
            assert!(
                body["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("does not take"))
            );
        }
    }
    for board in [WTTJ, LINKEDIN, STEPSTONE] {
        assert!(heard.keys().any(|(b, _)| b == board));
    }
    app.stop().await;
}

/// Published events are pruned once older than the retention; events not
/// yet published never are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_events_are_pruned_after_their_retention() {
    let app = spawn_app().await;
    let mut ats = app.listen_to_events().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.settled(6).await;
    ats.until("job.settled").await;
    let pool = &app.env.pool;
    let published = app
        .wait_for("the relay to mark the events published", || async {
            let count: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
                    .fetch_one(pool)
                    .await
                    .unwrap();
            (count == 7).then_some(count)
        })
        .await;
    // Stop the relay so nothing publishes the row below behind our back.
    let env = app.stop_worker().await;
    let pool = &env.pool;
    sqlx::query("INSERT INTO outbox (routing_key, body) VALUES ('posting.posted', '{}')")
        .execute(pool)
        .await
        .unwrap();

    let keep_a_week = Duration::from_secs(7 * 24 * 3600);
    assert_eq!(prune_published(pool, keep_a_week).await.unwrap(), 0);
    assert_eq!(
        prune_published(pool, Duration::ZERO).await.unwrap(),
        published as u64
    );
    let left: Vec<Option<i64>> =
        sqlx::query_scalar("SELECT extract(epoch FROM published_at)::bigint FROM outbox")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(left, [None], "only the unpublished event is left");
    env.cleanup().await;
}

/// Issue 9: the events trigger runs once per statement. One statement that
/// settles postings of two jobs writes every posting's event, then each
/// job's `job.settled` once; a later statement of the same transaction that
/// changes a settled posting's board id writes its event but no second
/// `job.settled`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_statement_settling_two_jobs_announces_each_once_after_its_postings() {
    let env = crate::helpers::test_env().await;
    sqlx::query(
        "INSERT INTO postings (tenant_id, job_id, board, locale, reference, revision, wanted,
                               status, max_attempts, last_error)
         VALUES ('t', 'a', 'b1', 'en', 'ra1', 1, 'live', 'in_flight', 12, NULL),
                ('t', 'a', 'b2', 'en', 'ra2', 1, 'live', 'skipped', 12, 'does not take en'),
                ('t', 'b', 'b1', 'en', 'rb1', 1, 'live', 'in_flight', 12, NULL),
                ('t', 'b', 'b2', 'en', 'rb2', 1, 'live', 'in_flight', 12, NULL),
                ('t', 'c', 'b1', 'en', 'rc1', 1, 'live', 'in_flight', 12, NULL)",
    )
    .execute(&env.pool)
    .await
    .unwrap();
    let mut tx = env.pool.begin().await.unwrap();
    sqlx::query(
        "UPDATE postings SET status = 'posted', external_id = 'x-' || reference
         WHERE reference IN ('ra1', 'rb1', 'rb2')",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("UPDATE postings SET external_id = 'y' WHERE reference = 'rb1'")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let events: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT routing_key, body FROM outbox ORDER BY id")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    let summary: Vec<String> = events
        .iter()
        .map(|(key, body)| {
            format!(
                "{key} {} {}",
                body["job_id"].as_str().unwrap(),
                body["external_id"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            "posting.skipped a ",
            "posting.posted a x-ra1",
            "posting.posted b x-rb1",
            "posting.posted b x-rb2",
            "job.settled a ",
            "job.settled b ",
            "posting.posted b y",
        ],
        "job c still has a posting in flight"
    );
    let settled_a = &events[4].1;
    assert_eq!(settled_a["revision"], 1);
    assert_eq!(
        settled_a["postings"],
        serde_json::json!([
            {"board": "b1", "locale": "en", "status": "posted", "external_id": "x-ra1",
             "external_url": null, "reason": null},
            {"board": "b2", "locale": "en", "status": "skipped", "external_id": null,
             "external_url": null, "reason": "does not take en"},
        ])
    );
    env.cleanup().await;
}
