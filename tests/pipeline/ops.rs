//! The ops surface: see what failed and why, retry it, and the ATS hears both.

use boardcast::sandbox::Faults;
use serde_json::{Value, json};

use crate::WTTJ;
use crate::helpers::{OPS_TOKEN, TestApp, spawn_app};

/// Runs the `boardcast` CLI against this test's database; returns stdout.
async fn cli(app: &TestApp, args: &[&str]) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_boardcast"))
        .args([
            "--config-dir",
            crate::helpers::crate_dir().join("config").to_str().unwrap(),
        ])
        .args(args)
        .envs(app.worker_env())
        .output()
        .await
        .expect("running boardcast");
    assert!(
        output.status.success(),
        "boardcast {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The board turns the ad down (422), whatever we send.
fn refusing_every_ad() -> Faults {
    Faults {
        fail_times: 1_000,
        fail_status: 422,
        ..Faults::default()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn api(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client()
        .request(method, format!("{}{path}", app.ops_url))
        .bearer_auth(OPS_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_posting_is_seen_with_its_reason_retried_and_announced() {
    let app = spawn_app().await;
    let mut ats = app.listen_to_events().await;
    app.faults(WTTJ, refusing_every_ad());
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.settled(6).await;

    let (status, body) = api(
        &app,
        reqwest::Method::GET,
        "/api/v1/postings?status=failed",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let failed = body["postings"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{body}");
    let posting = &failed[0];
    assert_eq!(posting["board"], WTTJ);
    assert!(
        posting["last_error"]
            .as_str()
            .unwrap()
            .contains("told to fail"),
        "the board's own words: {posting}"
    );
    let id = posting["id"].as_i64().unwrap();
    let (_, detail) = api(
        &app,
        reqwest::Method::GET,
        &format!("/api/v1/postings/{id}"),
        None,
    )
    .await;
    assert_eq!(detail["attempts"][0]["http_status"], 422);

    // The CLI sees the same failure, and its dry run counts it.
    let failed_by_cli = cli(&app, &["postings", "--status", "failed", "--json"]).await;
    let lines: Vec<Value> = failed_by_cli
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], id);
    assert_eq!(lines[0]["last_error"], posting["last_error"]);
    let dry = cli(&app, &["retry", "--job", "SAE-77", "--dry-run", "--json"]).await;
    assert_eq!(serde_json::from_str::<Value>(&dry).unwrap()["affected"], 1);

    // A dry run counts without changing anything.
    let (_, dry) = api(
        &app,
        reqwest::Method::POST,
        "/api/v1/retry",
        Some(json!({"board": WTTJ, "dry_run": true})),
    )
    .await;
    assert_eq!(dry["affected"], 1);
    let (_, still) = api(
        &app,
        reqwest::Method::GET,
        "/api/v1/postings?status=failed",
        None,
    )
    .await;
    assert_eq!(still["postings"].as_array().unwrap().len(), 1);

    // Heal the board, retry the job's failed postings.
    app.faults(WTTJ, Faults::default());
    let (status, retried) = api(
        &app,
        reqwest::Method::POST,
        "/api/v1/jobs/northwind/SAE-77/retry",
        None,
    )
    .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["affected"], 1);
    let rows = app.settled(6).await;
    let again = rows.iter().find(|r| r.id == id).unwrap();
    assert_eq!(again.status, "posted");

    // The ATS heard the failure, then the success.
    let mut for_wttj = Vec::new();
    while for_wttj.last().map(String::as_str) != Some("posting.posted") {
        let (key, body) = ats.next().await;
        if body["board"] == WTTJ && body["locale"] == "en" {
            for_wttj.push(key);
        }
    }
    assert_eq!(for_wttj, ["posting.failed", "posting.posted"]);

    // The action is on record with who asked.
    let actor: String =
        sqlx::query_scalar("SELECT actor FROM operator_actions WHERE action = 'retry'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(actor, "test-operator");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_needs_the_token_and_matches_its_openapi_document() {
    let app = spawn_app().await;
    let url = |path: &str| format!("{}{path}", app.ops_url);
    let anonymous = client().get(url("/api/v1/postings")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = client()
        .get(url("/api/v1/postings"))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        client().get(url("/healthz")).send().await.unwrap().status(),
        200
    );
    let ready = client().get(url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());

    // Every documented route answers (with sample path values) on the listener
    // the document names for it, and the document is the served one.
    let document: Value = client()
        .get(url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 15);
    for (path, item) in paths {
        // Paths with servers of their own are the public listener's.
        let base = match item.get("servers") {
            Some(servers) => {
                assert!(servers.to_string().contains("public listener"), "{path}");
                &app.public_url
            }
            None => &app.ops_url,
        };
        for method in item.as_object().unwrap().keys() {
            if method == "servers" {
                continue;
            }
            let concrete = path
                .replace("{id}", "1")
                .replace("{tenant}", "northwind")
                .replace("{job}", "nothing");
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let response = client()
                .request(method.clone(), format!("{base}{concrete}"))
                .bearer_auth(OPS_TOKEN)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            // 404 is fine only as the API's own "no such posting/job" answer, not a missing route.
            assert!(status != 405, "{method} {path}: method not routed");
            assert!(
                status != 404 || body.contains("\"error\""),
                "{method} {path}: not routed"
            );
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_when_postings_do() {
    let app = spawn_app().await;
    let before = app.metrics().await;
    assert!(!before.contains("boardcast_postings{board=\"linkedin\",status=\"posted\"}"));
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.settled(6).await;
    let after = app.metrics().await;
    assert!(
        after.contains("boardcast_postings{board=\"linkedin\",status=\"posted\"} 2"),
        "{after}"
    );
    assert!(
        after.contains("boardcast_intake_messages_total{result=\"accepted\"} 1"),
        "{after}"
    );
    assert!(
        after.contains("boardcast_attempts_total{board=\"stepstone\",outcome=\"posted\"} 1"),
        "{after}"
    );
    assert!(
        after.contains(
            "boardcast_attempt_duration_seconds_count{board=\"welcome-to-the-jungle\"} 1"
        ),
        "{after}"
    );
    assert!(after.trim_end().ends_with("# EOF"));
    app.stop().await;
}

/// A message rejected for a reason ops can fix is replayed after the fix
/// (here: corrected in the replay request) and goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_message_can_be_replayed_corrected() {
    let app = spawn_app().await;
    let mut message: Value = serde_json::from_slice(&crate::helpers::sample(
        "sales-account-executive.publish.json",
    ))
    .unwrap();
    message["job"]["locations"][0]["country"] = json!("Portugal");
    app.publish(message.to_string().as_bytes()).await;
    let (_, listed) = app
        .wait_for("the rejection", || async {
            let (status, body) = api(&app, reqwest::Method::GET, "/api/v1/rejected", None).await;
            (status == 200 && !body["rejected"].as_array().unwrap().is_empty())
                .then_some((status, body))
        })
        .await;
    let rejected = &listed["rejected"][0];
    assert_eq!(rejected["reason"], "bad_country");
    let id = rejected["id"].as_i64().unwrap();

    message["job"]["locations"][0]["country"] = json!("PT");
    let (status, replayed) = api(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/rejected/{id}/replay"),
        Some(message),
    )
    .await;
    assert_eq!(status, 200, "{replayed}");
    let rows = app.settled(6).await;
    assert!(rows.iter().any(|r| r.status == "posted"));
    let (_, boards) = api(&app, reqwest::Method::GET, "/api/v1/boards", None).await;
    let linkedin = boards["boards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["board"] == "linkedin")
        .unwrap();
    assert_eq!(linkedin["posted"], 2);
    assert_eq!(linkedin["circuit_open"], false);
    app.stop().await;
}

/// `{}` used to select every unsettled posting: a bulk action now needs a
/// selection or an explicit `"all": true`, and says why when it has neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_action_needs_an_explicit_selection() {
    let app = spawn_app().await;
    for action in ["/api/v1/cancel", "/api/v1/retry"] {
        let (status, body) = api(&app, reqwest::Method::POST, action, Some(json!({}))).await;
        assert_eq!(status, 400, "{action}: {body}");
        let why = body["error"].as_str().unwrap();
        assert!(
            why.contains("selects no postings") && why.contains("\"all\": true"),
            "{why}"
        );
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            action,
            Some(json!({"dry_run": true})),
        )
        .await;
        assert_eq!(status, 400, "{action} with only dry_run: {body}");
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            action,
            Some(json!({"status": "failed"})),
        )
        .await;
        assert_eq!(
            status, 400,
            "{action}: a state alone is every posting in it: {body}"
        );
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            action,
            Some(json!({"all": true, "status": "failed", "dry_run": true})),
        )
        .await;
        assert_eq!(status, 200, "{action}: {body}");
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            action,
            Some(json!({"all": true, "dry_run": true})),
        )
        .await;
        assert_eq!(status, 200, "{action}: {body}");
        let (status, body) = api(
            &app,
            reqwest::Method::POST,
            action,
            Some(json!({"board": WTTJ, "dry_run": true})),
        )
        .await;
        assert_eq!(status, 200, "{action}: {body}");
    }
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM operator_actions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(recorded, 0, "refused requests and dry runs change nothing");
    app.stop().await;
}

/// `older_than_minutes` near `i64::MAX` overflowed PostgreSQL's interval and
/// answered 503 "database unavailable": it is a bad request, with the range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_of_range_age_filter_is_a_bad_request() {
    let app = spawn_app().await;
    for minutes in [i64::MAX.to_string(), "5256001".to_owned(), "-1".to_owned()] {
        let (status, body) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/postings?older_than_minutes={minutes}"),
            None,
        )
        .await;
        assert_eq!(status, 400, "{minutes}: {body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("older_than_minutes must be between 0 and 5256000"),
            "{body}"
        );
    }
    let (status, body) = api(
        &app,
        reqwest::Method::GET,
        "/api/v1/postings?older_than_minutes=5256000",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

/// The public listener (which faces the internet) serves feeds, job pages,
/// the sitemap and health only; the API, dashboard and metrics are on the
/// ops listener alone, which in turn serves nothing public.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_and_ops_routes_are_on_separate_listeners() {
    let app = spawn_app().await;
    let status = |base: &str, method: reqwest::Method, path: &str| {
        let request = client()
            .request(method, format!("{base}{path}"))
            .bearer_auth(OPS_TOKEN);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    assert_eq!(status(&app.public_url, get.clone(), "/healthz").await, 200);
    assert_eq!(
        status(&app.public_url, get.clone(), "/sitemap.xml").await,
        200
    );
    for (method, path) in [
        (get.clone(), "/api/v1/postings"),
        (get.clone(), "/api/v1/boards"),
        (post.clone(), "/api/v1/cancel"),
        (get.clone(), "/metrics"),
        (get.clone(), "/readyz"),
        (get.clone(), "/openapi.json"),
        (get.clone(), "/"),
        (get.clone(), "/login"),
        (post.clone(), "/login"),
        (post.clone(), "/logout"),
        (get.clone(), "/jobs/northwind/SAE-77"),
        (post.clone(), "/dashboard/postings/1/cancel"),
        (get.clone(), "/postings"),
        (get.clone(), "/postings/1"),
        (post.clone(), "/postings/bulk"),
        (get.clone(), "/boards"),
        (post.clone(), "/boards/stepstone/pause"),
        (get.clone(), "/rejected"),
        (get.clone(), "/operator-log"),
    ] {
        let answer = status(&app.public_url, method.clone(), path).await;
        assert!(
            answer == 404 || answer == 405,
            "public {method} {path}: {answer}"
        );
    }
    assert_eq!(status(&app.ops_url, get.clone(), "/metrics").await, 200);
    assert_eq!(status(&app.ops_url, get.clone(), "/readyz").await, 200);
    assert_eq!(status(&app.ops_url, get.clone(), "/healthz").await, 200);
    for path in ["/sitemap.xml", "/feeds/linkedin.xml"] {
        assert_eq!(
            status(&app.ops_url, get.clone(), path).await,
            404,
            "ops {path}"
        );
    }
    app.stop().await;
}

/// `boardcast job` starts with one line per board (posted with its link,
/// failed with the board's reason, skipped with why), then the detail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_prints_one_line_per_board_before_the_detail() {
    let app = spawn_app().await;
    app.faults(WTTJ, refusing_every_ad());
    let name = "sales-account-executive.publish.json";
    app.publish_sample(name).await;
    let rows = app.settled(6).await;
    let message: Value = serde_json::from_slice(&crate::helpers::sample(name)).unwrap();
    let (tenant, job) = (
        message["tenant_id"].as_str().unwrap(),
        message["job"]["id"].as_str().unwrap(),
    );
    let out = cli(&app, &["job", tenant, job]).await;
    let (summary, detail) = out
        .split_once("\n\n")
        .expect("a blank line after the boards");
    assert!(detail.starts_with("TENANT"), "{out}");
    let boards: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.board.as_str()).collect();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), boards.len(), "{out}");
    let mut seen = Vec::new();
    for line in lines {
        let mut words = line.split_whitespace();
        let (board, status) = (words.next().unwrap(), words.next().unwrap());
        seen.push(board);
        let of_board: Vec<_> = rows.iter().filter(|r| r.board == board).collect();
        let posted = of_board.iter().find(|r| r.status == "posted");
        if board == WTTJ {
            assert_eq!(status, "failed", "{line}");
            let failed = of_board.iter().find(|r| r.status == "failed").unwrap();
            let reason = failed.last_error.as_deref().unwrap();
            assert!(line.contains(reason), "{line}");
        } else if let Some(posted) = posted {
            assert_eq!(status, "posted", "{line}");
            let link = posted
                .external_url
                .as_deref()
                .or(posted.external_id.as_deref());
            assert!(line.contains(link.unwrap()), "{line}");
        } else {
            assert_eq!(status, "skipped", "{line}");
            assert!(
                line.contains(of_board[0].last_error.as_deref().unwrap()),
                "{line}"
            );
        }
    }
    assert_eq!(seen, boards.into_iter().collect::<Vec<_>>());
    app.stop().await;
}

/// A bulk retry larger than `--chunk-size` goes in chunks and says how far
/// it got on stderr; every selected posting is retried once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_bulk_retry_shows_its_progress() {
    let app = spawn_app().await;
    app.faults(WTTJ, refusing_every_ad());
    app.publish_sample("account-executive.publish.json").await;
    let rows = app.settled(18).await;
    let failed = rows
        .iter()
        .filter(|r| r.board == WTTJ && r.status == "failed")
        .count();
    assert!(failed >= 2, "{rows:?}");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_boardcast"))
        .args([
            "--config-dir",
            crate::helpers::crate_dir().join("config").to_str().unwrap(),
            "retry",
            "--board",
            WTTJ,
            "--chunk-size",
            "1",
            "--json",
        ])
        .envs(app.worker_env())
        .output()
        .await
        .expect("running boardcast");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for n in 1..=failed {
        assert!(stderr.contains(&format!("{n} of {failed} ")), "{stderr}");
    }
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["affected"], failed as i64, "{result}");
    app.stop().await;
}

/// A dry run holds no locks once it has answered: the confirmed action right
/// after it finds every posting it counted. (A dry run that left its rollback
/// to the pool kept its `FOR UPDATE` locks for a moment, and the console's
/// confirmed bulk retry then skipped them all: "Retried 0".)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_leaves_its_postings_free_for_the_action_that_follows() {
    use boardcast::store::ops::{Selection, retry};

    let app = spawn_app().await;
    app.faults(WTTJ, refusing_every_ad());
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.settled(6).await;
    let selection = Selection {
        board: Some(WTTJ.to_owned()),
        ..Selection::default()
    };
    // The lock, if left, lives only until the pool flushes the rollback, so
    // look many times, each straight after a dry run.
    for round in 0..300 {
        let dry = retry(&app.pool, &selection, true, "test").await.unwrap();
        assert_eq!(dry.affected, 1, "round {round}");
        let free: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT id FROM postings
               WHERE board = $1 AND status = 'failed' FOR UPDATE SKIP LOCKED) f",
        )
        .bind(WTTJ)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(free, 1, "round {round}: the dry run still holds its lock");
    }
    let done = retry(&app.pool, &selection, false, "test").await.unwrap();
    assert_eq!(done.affected, 1);
    app.stop().await;
}
