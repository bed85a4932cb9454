//! End-to-end: messages through RabbitMQ, postings in PostgreSQL, boards over
//! HTTP through the sandbox. Nothing of ours is mocked.

mod activity;
mod batching;
mod claims;
mod console;
mod controls;
mod dashboard;
mod deploy;
mod events;
mod feeds;
mod helpers;
mod hostile;
mod invalid;
mod ops;
mod preview;
mod recovery;
mod revisions;
mod tenants;

use std::collections::BTreeMap;

use boardcast::sandbox::Faults;
use helpers::{sample, spawn_app};

const WTTJ: &str = "welcome-to-the-jungle";
const LINKEDIN: &str = "linkedin";
const STEPSTONE: &str = "stepstone";

/// Every sample lands: each posting a board can take ends `posted` with the
/// board's id and URL, and the board holds exactly that one live copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_message_ends_posted_on_every_board_that_takes_it() {
    let app = spawn_app().await;
    for name in [
        "account-executive.publish.json",
        "account-manager.publish.json",
        "sales-account-executive.publish.json",
    ] {
        app.publish_sample(name).await;
    }

    // 18 + 8 + 6 postings: (board × language) for each message's targets.
    let rows = app.settled(32).await;
    let mut posted: BTreeMap<(String, String), usize> = BTreeMap::new();
    for row in &rows {
        match row.status.as_str() {
            "posted" => {
                assert!(row.external_id.is_some(), "{row:?}");
                assert!(
                    row.external_url
                        .as_deref()
                        .is_some_and(|u| u.starts_with("https://")),
                    "{row:?}"
                );
                *posted
                    .entry((row.job_id.clone(), row.board.clone()))
                    .or_default() += 1;
            }
            "skipped" => assert!(row.last_error.is_some(), "a skip says why: {row:?}"),
            other => panic!("unexpected status {other}: {row:?}"),
        }
    }
    let expected: BTreeMap<(String, String), usize> = [
        (("AE-2026-014", WTTJ), 3),
        (("AE-2026-014", LINKEDIN), 6),
        (("AE-2026-014", STEPSTONE), 2),
        (("AM-118", LINKEDIN), 2),
        (("SAE-77", WTTJ), 1),
        (("SAE-77", LINKEDIN), 2),
        (("SAE-77", STEPSTONE), 1),
    ]
    .into_iter()
    .map(|((job, board), n)| ((job.to_owned(), board.to_owned()), n))
    .collect();
    assert_eq!(posted, expected);

    // The sandbox agrees: one live copy per posted posting, created once.
    for board in [WTTJ, LINKEDIN, STEPSTONE] {
        let held = app.held(board);
        let ours: Vec<_> = rows
            .iter()
            .filter(|r| r.board == board && r.status == "posted")
            .collect();
        assert_eq!(held.len(), ours.len(), "{board}");
        for row in ours {
            let copy = held
                .iter()
                .find(|h| h.reference == row.reference)
                .expect("held by the board");
            assert!(copy.live);
            assert_eq!(copy.creates, 1);
            assert_eq!(Some(&copy.external_id), row.external_id.as_ref());
        }
    }
    // Greek arrives intact at LinkedIn.
    let greek = app
        .held(LINKEDIN)
        .into_iter()
        .find(|h| h.title == "Στέλεχος Λογαριασμών Πωλήσεων");
    assert!(
        greek.is_some(),
        "the Greek ad reached LinkedIn byte for byte"
    );
    app.stop().await;
}

/// A board that fails twice (503) and then answers is retried on the durable
/// schedule and ends posted, with all three attempts kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_failing_twice_is_retried_with_backoff_until_posted() {
    let app = spawn_app().await;
    app.faults(
        WTTJ,
        Faults {
            fail_times: 2,
            fail_status: 503,
            ..Faults::default()
        },
    );
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let rows = app.settled(6).await;
    let row = rows
        .iter()
        .find(|r| r.board == WTTJ && r.locale == "en")
        .unwrap();
    assert_eq!(row.status, "posted");
    assert_eq!(row.attempts, 3);

    let history = boardcast::store::postings::attempts(&app.pool, row.id)
        .await
        .unwrap();
    let outcomes: Vec<&str> = history.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["transient", "transient", "posted"]);
    assert_eq!(history[0].http_status, Some(503));
    // The second wait is longer than the first: backoff, not a tight loop.
    let gap = |a: usize, b: usize| history[b].started_at - history[a].started_at;
    assert!(
        gap(0, 1) >= time::Duration::milliseconds(40),
        "{:?}",
        gap(0, 1)
    );
    assert!(
        gap(1, 2) >= time::Duration::milliseconds(80),
        "{:?}",
        gap(1, 2)
    );
    app.stop().await;
}

/// A 429 with Retry-After snoozes the posting without using an attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_board_is_waited_for_without_using_attempts() {
    let app = spawn_app().await;
    app.faults(
        STEPSTONE,
        Faults {
            throttle_times: 1,
            retry_after_secs: 1,
            ..Faults::default()
        },
    );
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let rows = app.settled(6).await;
    let row = rows
        .iter()
        .find(|r| r.board == STEPSTONE && r.locale == "en")
        .unwrap();
    assert_eq!(row.status, "posted");
    assert_eq!(row.attempts, 1, "the throttled call was given back");
    let history = boardcast::store::postings::attempts(&app.pool, row.id)
        .await
        .unwrap();
    assert_eq!(history[0].outcome, "throttled");
    assert_eq!(history[0].http_status, Some(429));
    let waited = history[1].started_at - history[0].started_at;
    assert!(
        waited >= time::Duration::seconds(1),
        "Retry-After honoured: {waited:?}"
    );
    app.stop().await;
}

/// A rule the adapter knows fails the posting before anything is sent, with
/// the rule named; the other boards go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ad_breaking_a_board_rule_fails_there_without_retry() {
    let app = spawn_app().await;
    let mut message: serde_json::Value =
        serde_json::from_slice(&sample("sales-account-executive.publish.json")).unwrap();
    message["job"]["ads"]["en"]["title"] =
        serde_json::Value::String("Sales Account Executive ".repeat(9));
    app.publish(message.to_string().as_bytes()).await;
    let rows = app.settled(6).await;
    let wttj = rows
        .iter()
        .find(|r| r.board == WTTJ && r.locale == "en")
        .unwrap();
    assert_eq!(wttj.status, "failed");
    assert_eq!(wttj.attempts, 1);
    assert_eq!(
        wttj.last_error.as_deref(),
        Some("title is 216 characters; Welcome to the Jungle allows 200")
    );
    assert!(app.held(WTTJ).is_empty(), "nothing was sent");
    // StepStone takes up to 150 characters too; LinkedIn up to 200.
    let stepstone = rows
        .iter()
        .find(|r| r.board == STEPSTONE && r.locale == "en")
        .unwrap();
    assert_eq!(stepstone.status, "failed");
    let linkedin = rows
        .iter()
        .find(|r| r.board == LINKEDIN && r.locale == "pt")
        .unwrap();
    assert_eq!(linkedin.status, "posted", "other variants go on");
    app.stop().await;
}

/// The same message published twice makes one set of postings and one copy per board.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_message_twice_makes_one_set_of_postings() {
    let app = spawn_app().await;
    app.publish_sample("account-executive.publish.json").await;
    app.publish_sample("account-executive.publish.json").await;
    // One consumer takes messages in order: once the third is in, the second was seen.
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let rows = app.settled(24).await;
    let submissions: i64 = sqlx::query_scalar("SELECT count(*) FROM submissions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(submissions, 2);
    assert_eq!(
        app.dead_letters().await,
        0,
        "a duplicate is acked, not rejected"
    );
    assert_eq!(rows.iter().filter(|r| r.status == "posted").count(), 15);
    for board in [WTTJ, LINKEDIN, STEPSTONE] {
        for held in app.held(board) {
            assert_eq!(held.creates, 1, "{board} {}", held.reference);
        }
    }
    app.stop().await;
}

/// LinkedIn's token is fetched once and shared; when it expires the adapter
/// refreshes it once and the call goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_oauth_token_is_refreshed_once() {
    let app = spawn_app().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.settled(6).await;
    assert_eq!(
        app.sandbox.tokens_issued("linkedin"),
        1,
        "one token for every call"
    );

    app.sandbox.expire_tokens("linkedin");
    let mut update: serde_json::Value =
        serde_json::from_slice(&sample("sales-account-executive.publish.json")).unwrap();
    update["message_id"] = serde_json::json!(uuid::Uuid::new_v4().to_string());
    update["action"] = serde_json::json!("update");
    update["job"]["revision"] = serde_json::json!(2);
    update["job"]["ads"]["en"]["title"] = serde_json::json!("Senior Sales Account Executive");
    app.publish(update.to_string().as_bytes()).await;
    let rows = app
        .wait_for("the update to reach LinkedIn", || async {
            let rows = app.postings().await;
            rows.iter()
                .filter(|r| r.board == LINKEDIN)
                .all(|r| r.revision == 2 && r.status == "posted")
                .then_some(rows)
        })
        .await;
    assert_eq!(
        app.sandbox.tokens_issued("linkedin"),
        2,
        "refreshed once, then reused"
    );
    let english = rows
        .iter()
        .find(|r| r.board == LINKEDIN && r.locale == "en")
        .unwrap();
    let history = boardcast::store::postings::attempts(&app.pool, english.id)
        .await
        .unwrap();
    assert!(
        history.iter().all(|a| a.outcome != "auth"),
        "the refresh was invisible: {history:?}"
    );
    app.stop().await;
}

/// With every board this build has an adapter for, the six-language sample
/// ends with each (board, language) posted, or skipped or failed with a
/// reason: never silently absent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_board_answers_for_every_language_of_the_sample() {
    let app = helpers::spawn_app_with(|settings| {
        for (key, board) in settings.boards.iter_mut() {
            board.enabled =
                boardcast::boards::mechanism(&boardcast::config::board_id(key)).is_some();
        }
    })
    .await;
    let boards: Vec<String> = app
        .settings
        .boards
        .iter()
        .filter(|(_, b)| b.enabled)
        .map(|(key, _)| boardcast::config::board_id(key))
        .collect();
    assert!(boards.len() >= 5, "{boards:?}");
    app.publish_sample("account-executive.publish.json").await;
    let languages = ["de", "el", "en", "es", "fr", "pt"];
    // Feed boards post once their crawler fetched the feed: let it, once
    // every feed posting is in.
    let feeds: Vec<_> = boardcast::sandbox::FEED_TWINS
        .iter()
        .filter(|twin| boards.iter().any(|b| b == twin.board))
        .collect();
    app.wait_for("every feed posting to be in its feed", || async {
        let rows = app.postings().await;
        (rows.len() == boards.len() * languages.len()
            && rows
                .iter()
                .filter(|r| feeds.iter().any(|f| f.board == r.board))
                .all(|r| ["submitted", "skipped", "failed"].contains(&r.status.as_str())))
        .then_some(())
    })
    .await;
    for twin in &feeds {
        let request = boardcast::sandbox::crawler::CrawlRequest {
            feed_url: app.settings.feed_url(twin.file),
            username: None,
            password: None,
        };
        app.sandbox.crawl(twin, &request).await.unwrap();
    }
    let rows = app.settled(boards.len() * languages.len()).await;

    let mut served: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for board in &boards {
        for language in languages {
            let row = rows
                .iter()
                .find(|r| &r.board == board && r.locale == language)
                .unwrap_or_else(|| panic!("{board}/{language} is absent"));
            match row.status.as_str() {
                "posted" => served.entry(language).or_default().push(board.clone()),
                "skipped" | "failed" => assert!(
                    row.last_error.as_deref().is_some_and(|r| !r.is_empty()),
                    "{board}/{language} {} without a reason",
                    row.status
                ),
                other => panic!("{board}/{language} ended {other}"),
            }
        }
    }
    eprintln!("boards per language: {served:?}");
    // At least three boards reach each of the sample's six languages.
    for language in languages {
        assert!(
            served[language].len() >= 3,
            "{language}: {:?}",
            served[language]
        );
    }
    app.stop().await;
}

/// A board's request rate spaces its calls out (here 120 a minute: one every
/// half second), whatever the number of free request slots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_s_request_rate_spaces_its_calls() {
    let app = helpers::spawn_app_with(|settings| {
        settings
            .boards
            .get_mut("welcome_to_the_jungle")
            .unwrap()
            .requests_per_minute = Some(120);
    })
    .await;
    app.publish_sample("account-executive.publish.json").await;
    let rows = app.settled(18).await;
    let mut started = Vec::new();
    for row in rows
        .iter()
        .filter(|r| r.board == WTTJ && r.status == "posted")
    {
        let history = boardcast::store::postings::attempts(&app.pool, row.id)
            .await
            .unwrap();
        started.extend(history.iter().map(|a| a.started_at));
    }
    started.sort();
    assert_eq!(started.len(), 3);
    for pair in started.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= time::Duration::milliseconds(450),
            "calls {gap:?} apart"
        );
    }
    app.stop().await;
}
