//! Board controls every replica honours, kept in PostgreSQL: a pause ops set
//! on one replica holds the board's postings everywhere, and a board's
//! request budget holds for all replicas together.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{OPS_TOKEN, TestEnv, sample, spawn_app, spawn_app_with, test_env};
use crate::{LINKEDIN, STEPSTONE, WTTJ};

/// The account-executive sample as job `id`: StepStone takes its en and de ads.
fn job_copy(id: usize) -> Vec<u8> {
    let mut message: Value =
        serde_json::from_slice(&sample("account-executive.publish.json")).unwrap();
    message["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    message["job"]["id"] = json!(format!("BUDGET-{id}"));
    message["targets"] = json!([{ "board": STEPSTONE }]);
    serde_json::to_vec(&message).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_board_holds_its_postings_without_attempts_until_resumed() {
    let app = spawn_app().await;
    let ops = |path: &str| {
        reqwest::Client::new()
            .post(format!("{}/api/v1/boards/{WTTJ}/{path}", app.ops_url))
            .bearer_auth(OPS_TOKEN)
    };
    let refused = ops("pause")
        .json(&json!({ "reason": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "a pause says why");
    let paused = ops("pause")
        .json(&json!({ "reason": "WTTJ incident 4711: their API answers 500" }))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 200);

    app.publish_sample("account-executive.publish.json").await;
    // Another board's postings go through while WTTJ's wait.
    app.wait_for("LinkedIn to post while WTTJ is paused", || async {
        let rows = app.postings().await;
        let linkedin: Vec<_> = rows.iter().filter(|p| p.board == LINKEDIN).collect();
        (!linkedin.is_empty() && linkedin.iter().all(|p| p.status == "posted")).then_some(())
    })
    .await;
    let waiting: Vec<_> = app
        .postings()
        .await
        .into_iter()
        .filter(|p| p.board == WTTJ && p.status != "skipped")
        .collect();
    assert!(!waiting.is_empty());
    for posting in &waiting {
        assert_eq!(posting.status, "queued", "{posting:?}");
        assert_eq!(posting.attempts, 0, "a pause uses no attempts: {posting:?}");
    }
    assert!(
        app.held(WTTJ).is_empty(),
        "nothing reached the paused board"
    );

    let boards: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/boards", app.ops_url))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wttj = boards["boards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["board"] == WTTJ)
        .unwrap();
    assert_eq!(
        wttj["paused"]["reason"],
        "WTTJ incident 4711: their API answers 500"
    );
    assert_eq!(wttj["paused"]["paused_by"], "test-operator");

    assert_eq!(ops("resume").send().await.unwrap().status(), 200);
    app.wait_for("WTTJ's postings to go once resumed", || async {
        let rows = app.postings().await;
        rows.iter()
            .filter(|p| p.board == WTTJ && p.status != "skipped")
            .all(|p| p.status == "posted")
            .then_some(())
    })
    .await;
    let logged: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM operator_actions WHERE filter->>'board' = $1 ORDER BY id",
    )
    .bind(WTTJ)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(logged, ["pause", "resume"]);
    app.stop().await;
}

fn start_replica(env: &TestEnv, config_dir: &std::path::Path) -> Child {
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .to_string()
    };
    Command::new(env!("CARGO_BIN_EXE_boardcast"))
        .arg("--config-dir")
        .arg(config_dir)
        .arg("run")
        .envs(env.worker_env())
        .env("BOARDCAST__OPS__LISTEN", free_port())
        .env("BOARDCAST__OPS__PUBLIC_LISTEN", free_port())
        .stdout(Stdio::null())
        .stderr(if std::env::var("TEST_LOG").is_ok() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .kill_on_drop(true)
        .spawn()
        .expect("starting a replica")
}

/// Three replicas, one board allowed 4 requests in any 5 seconds: the board
/// never receives more, and the replicas together use all of it (the first
/// window is full, not a third of it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_one_board_budget() {
    const REQUESTS: usize = 4;
    const PERIOD: Duration = Duration::from_secs(5);
    let env = test_env().await;
    let config_dir =
        std::env::temp_dir().join(format!("boardcast-budget-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&config_dir).unwrap();
    // Laid over the built-in defaults, key by key.
    std::fs::write(
        config_dir.join("default.toml"),
        format!(
            "[boards.stepstone]\nbudgets = [{{ requests = {REQUESTS}, period_ms = {} }}]\n",
            PERIOD.as_millis()
        ),
    )
    .unwrap();

    let replicas: Vec<Child> = (0..3).map(|_| start_replica(&env, &config_dir)).collect();
    for id in 0..5 {
        env.publish(&job_copy(id)).await;
    }
    let started = Instant::now();
    env.wait_for("all ten StepStone postings to be posted", || async {
        let rows: Vec<_> = env
            .postings()
            .await
            .into_iter()
            .filter(|p| p.status != "skipped")
            .collect();
        (rows.len() == 10 && rows.iter().all(|p| p.status == "posted")).then_some(())
    })
    .await;

    let received = env.sandbox.request_times(STEPSTONE);
    assert_eq!(received.len(), 10, "one request per posting");
    for (i, first) in received.iter().enumerate() {
        let in_window = received[i..]
            .iter()
            .take_while(|t| t.duration_since(*first) < PERIOD)
            .count();
        assert!(
            in_window <= REQUESTS,
            "{in_window} requests within {PERIOD:?} of request {i}: the board allows {REQUESTS}"
        );
    }
    let first_window = received
        .iter()
        .take_while(|t| t.duration_since(received[0]) < PERIOD)
        .count();
    assert_eq!(
        first_window, REQUESTS,
        "the replicas together use the whole budget"
    );
    // Which replica sends is not asserted: a claim takes what the window
    // allows in one batch, so one replica may take every window's budget.
    // Budgets of each replica's own would show above: the replicas polling
    // within the first window would together send more than it allows.
    eprintln!(
        "ten requests in {:?} under a budget of {REQUESTS} per {PERIOD:?}",
        started.elapsed()
    );

    drop(replicas);
    env.cleanup().await;
    std::fs::remove_dir_all(config_dir).unwrap();
}

/// Google's daily publish calls are a budget of sends for every replica
/// together: with a quota of 2, two ads are sent and confirmed, and the
/// others wait unclaimed (no attempt, no throttled call), while the
/// confirmations of the two still go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_daily_publish_calls_are_a_budget_of_sends() {
    let app = spawn_app_with(|settings| {
        for (key, board) in settings.boards.iter_mut() {
            board.enabled = key == "google_jobs";
        }
        settings
            .boards
            .get_mut("google_jobs")
            .unwrap()
            .options
            .insert("daily_quota".into(), "2".into());
    })
    .await;
    app.publish_sample("account-executive.publish.json").await;
    let google = || async {
        app.postings()
            .await
            .into_iter()
            .filter(|p| p.board == "google-jobs" && p.status != "skipped")
            .collect::<Vec<_>>()
    };
    app.wait_for("two Google ads posted within the quota", || async {
        let rows = google().await;
        (rows.iter().filter(|p| p.status == "posted").count() == 2).then_some(())
    })
    .await;
    let rows = google().await;
    assert!(
        rows.len() > 2,
        "the sample has more languages than the quota"
    );
    for row in rows.iter().filter(|p| p.status != "posted") {
        assert_eq!(row.status, "queued", "{row:?}");
        let history = boardcast::store::postings::attempts(&app.pool, row.id)
            .await
            .unwrap();
        assert!(history.is_empty(), "never claimed: {history:?}");
    }
    app.stop().await;
}

/// Three replicas, one board allowed one request at a time across all of
/// them (`cluster_concurrency = 1`) answering after 400 ms: the board sees
/// each request only after the previous one was answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_one_cluster_wide_concurrency_slot() {
    const LATENCY: Duration = Duration::from_millis(400);
    let env = test_env().await;
    let config_dir =
        std::env::temp_dir().join(format!("boardcast-concurrency-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("default.toml"),
        "[boards.stepstone]\ncluster_concurrency = 1\n",
    )
    .unwrap();
    env.faults(
        STEPSTONE,
        boardcast::sandbox::Faults {
            latency_ms: LATENCY.as_millis() as u64,
            ..Default::default()
        },
    );
    let replicas: Vec<Child> = (0..3).map(|_| start_replica(&env, &config_dir)).collect();
    for id in 0..3 {
        env.publish(&job_copy(id)).await;
    }
    env.wait_for("all six StepStone postings to be posted", || async {
        let rows: Vec<_> = env
            .postings()
            .await
            .into_iter()
            .filter(|p| p.status != "skipped")
            .collect();
        (rows.len() == 6 && rows.iter().all(|p| p.status == "posted")).then_some(())
    })
    .await;
    let received = env.sandbox.request_times(STEPSTONE);
    assert_eq!(received.len(), 6);
    for pair in received.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        // The next claim waits for the answer, which comes LATENCY after the request.
        assert!(
            gap >= LATENCY - Duration::from_millis(50),
            "two requests {gap:?} apart: more than one in flight"
        );
    }
    drop(replicas);
    env.cleanup().await;
    std::fs::remove_dir_all(config_dir).unwrap();
}
