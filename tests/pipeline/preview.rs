//! Preflight (issue 10): `POST /api/v1/preview` and `boardcast preview`
//! answer what each board would get, and send nothing anywhere.

use serde_json::Value;

use crate::WTTJ;
use crate::helpers::{OPS_TOKEN, TestApp, crate_dir, sample, spawn_app, spawn_app_with};

const SAMPLES: [&str; 3] = [
    "account-executive.publish.json",
    "account-manager.publish.json",
    "sales-account-executive.publish.json",
];

async fn post_preview(app: &TestApp, body: Vec<u8>, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/api/v1/preview", app.ops_url))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Rows of every table a message would touch, and every request the boards saw.
async fn footprint(app: &TestApp) -> (i64, u64) {
    let rows: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM postings)
              + (SELECT count(*) FROM posting_attempts) + (SELECT count(*) FROM submissions)
              + (SELECT count(*) FROM outbox)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let requests = app
        .settings
        .board_ids()
        .iter()
        .map(|board| app.sandbox.requests(board))
        .sum();
    (rows, requests)
}

/// The account-executive sample with the English ad's requirements removed:
/// Welcome to the Jungle requires a candidate profile (docs/boards).
fn without_english_requirements() -> Vec<u8> {
    let mut message: Value = serde_json::from_slice(&sample(SAMPLES[0])).unwrap();
    message["job"]["ads"]["en"]["requirements"] = Value::Array(Vec::new());
    serde_json::to_vec(&message).unwrap()
}

/// The app with these boards enabled too (the pipeline's three are by default).
async fn spawn_with(boards: &[&str]) -> TestApp {
    spawn_app_with(|settings| {
        for board in boards {
            settings
                .boards
                .get_mut(*board)
                .expect("a configured board")
                .enabled = true;
        }
    })
    .await
}

/// One posting of a preview answer.
fn posting<'a>(answer: &'a Value, board: &str, locale: &str) -> &'a Value {
    answer["postings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["board"] == board && p["locale"] == locale)
        .unwrap_or_else(|| panic!("no {board} {locale} posting in {answer}"))
}

/// Every planned posting of every sample has a payload, a skip reason or a
/// broken rule; every enabled board shows up and nothing reaches a board,
/// the database or a credential into the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_answers_every_posting_and_sends_nothing() {
    let app = spawn_app().await;
    let before = footprint(&app).await;
    let mut boards_sending = std::collections::BTreeSet::new();
    for name in SAMPLES {
        let (status, answer) = post_preview(&app, sample(name), Some(OPS_TOKEN)).await;
        assert_eq!(status, 200, "{name}: {answer}");
        let postings = answer["postings"].as_array().unwrap();
        assert!(!postings.is_empty(), "{name}: {answer}");
        assert!(answer["job"]["job_id"].is_string(), "{answer}");
        for posting in postings {
            let meaningful = match posting["outcome"].as_str().unwrap() {
                "would_send" => posting["payload"]["body"]
                    .as_str()
                    .is_some_and(|body| !body.trim().is_empty()),
                "would_skip" => posting["reason"].as_str().is_some_and(|r| !r.is_empty()),
                "unavailable" => false,
                "rule_failed" => posting["rules"].as_array().is_some_and(|r| !r.is_empty()),
                other => panic!("unknown outcome {other}"),
            };
            assert!(meaningful, "{name}: {posting}");
            if posting["outcome"] == "would_send" {
                boards_sending.insert(posting["board"].as_str().unwrap().to_owned());
            }
        }
        let text = answer.to_string();
        for (board, credentials) in app.sandbox.credentials() {
            for (key, value) in credentials {
                assert!(
                    value.len() < 4 || !text.contains(value.as_str()),
                    "{board}'s {key} is in the preview of {name}"
                );
            }
        }
    }
    // The samples together reach every board the deployment enables.
    let enabled: std::collections::BTreeSet<String> = app
        .settings
        .board_ids()
        .into_iter()
        .filter(|board| app.settings.board(board).is_some_and(|b| b.enabled))
        .collect();
    let missing: Vec<_> = enabled.difference(&boards_sending).collect();
    assert!(missing.is_empty(), "no would_send preview for {missing:?}");
    assert_eq!(
        footprint(&app).await,
        before,
        "preview left rows or requests"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_needs_a_token_and_names_the_invalid_field() {
    let app = spawn_app().await;
    let (status, _) = post_preview(&app, sample(SAMPLES[0]), None).await;
    assert_eq!(status, 401);
    let (status, _) = post_preview(&app, sample(SAMPLES[0]), Some("not-the-token")).await;
    assert_eq!(status, 401);

    let mut message: Value = serde_json::from_slice(&sample(SAMPLES[0])).unwrap();
    message["job"].as_object_mut().unwrap().remove("locations");
    let (status, answer) =
        post_preview(&app, serde_json::to_vec(&message).unwrap(), Some(OPS_TOKEN)).await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["detail"].as_str().unwrap().contains("locations"),
        "{answer}"
    );
    assert!(answer["reason"].is_string(), "{answer}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_reports_the_board_rule_a_message_breaks() {
    let app = spawn_app().await;
    let before = footprint(&app).await;
    let (status, answer) =
        post_preview(&app, without_english_requirements(), Some(OPS_TOKEN)).await;
    assert_eq!(status, 200, "{answer}");
    let postings = answer["postings"].as_array().unwrap();
    let wttj = |locale: &str| {
        postings
            .iter()
            .find(|p| p["board"] == WTTJ && p["locale"] == locale)
            .unwrap_or_else(|| panic!("no {WTTJ} {locale} posting in {answer}"))
    };
    let english = wttj("en");
    assert_eq!(english["outcome"], "rule_failed", "{english}");
    assert!(english["payload"].is_null(), "{english}");
    assert!(
        english["rules"][0]
            .as_str()
            .unwrap()
            .contains("candidate profile"),
        "{english}"
    );
    // The other languages keep their requirements and would go out.
    assert_eq!(wttj("fr")["outcome"], "would_send", "{}", wttj("fr"));
    assert_eq!(footprint(&app).await, before);
    app.stop().await;
}

/// `boardcast preview` needs no worker, database, broker or credential:
/// it runs on the built-in configuration with an empty environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_previews_a_file_or_stdin_with_exit_codes() {
    let file = std::env::temp_dir().join(format!("preview-{}.json", std::process::id()));
    std::fs::write(&file, without_english_requirements()).unwrap();
    let run = |args: Vec<String>, stdin: Option<Vec<u8>>| async move {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_boardcast"))
            .args([
                "--config-dir".to_owned(),
                crate_dir().join("config").to_str().unwrap().to_owned(),
                "preview".to_owned(),
            ])
            .args(args)
            .env_clear()
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("running boardcast");
        let mut pipe = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            tokio::io::AsyncWriteExt::write_all(&mut pipe, &bytes)
                .await
                .unwrap();
        }
        drop(pipe);
        child.wait_with_output().await.unwrap()
    };

    let table = run(vec![file.to_str().unwrap().to_owned()], None).await;
    let stdout = String::from_utf8_lossy(&table.stdout);
    assert_eq!(table.status.code(), Some(1), "{stdout}");
    let line = stdout
        .lines()
        .find(|line| line.starts_with(WTTJ) && line.contains(" en "))
        .unwrap_or_else(|| panic!("no {WTTJ} en line in {stdout}"));
    assert!(
        line.contains("rule_failed") && line.contains("candidate profile"),
        "{line}"
    );

    let json = run(
        vec!["--json".to_owned(), "-".to_owned()],
        Some(sample(SAMPLES[0])),
    )
    .await;
    let answer: Value = serde_json::from_slice(&json.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&json.stderr));
    });
    let french = answer["postings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["board"] == WTTJ && p["locale"] == "fr")
        .unwrap();
    assert_eq!(french["outcome"], "would_send", "{french}");
    assert!(
        french["payload"]["body"].as_str().unwrap().contains('{'),
        "{french}"
    );

    let invalid = run(
        vec!["-".to_owned()],
        Some(b"{\"schema_version\":1}".to_vec()),
    )
    .await;
    assert_eq!(invalid.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&invalid.stderr).contains("invalid message"),
        "{}",
        String::from_utf8_lossy(&invalid.stderr)
    );
    std::fs::remove_file(file).ok();
}

/// The console page: the form posts the pasted message and the answer shows
/// the per-board table, payloads escaped (a board's XML is text, not markup).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_page_previews_a_pasted_message_escaped() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}/preview", app.ops_url);
    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);

    let empty = client
        .get(&url)
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 200);
    let html = empty.text().await.unwrap();
    assert!(html.contains("<textarea name=\"message\""), "{html}");
    // In the console's layout: its navigation and sign-out, like every page.
    for link in ["href=\"/postings\"", "href=\"/boards\"", "id=\"sign-out\""] {
        let nav = &html[html.find("<header>").expect("the layout's header")..];
        assert!(nav.contains(link), "{link} missing: {html}");
    }

    let message = String::from_utf8(sample(SAMPLES[0])).unwrap();
    let page = client
        .post(&url)
        .bearer_auth(OPS_TOKEN)
        .form(&[("message", message.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let table = &html[html
        .find("<table id=\"postings\">")
        .expect("the result table")..];
    assert!(table.contains(&format!("<td>{WTTJ}</td>")), "{table}");
    assert!(table.contains("would_send"), "{table}");
    // Welcome to the Jungle creates, then reads the job back: both steps show.
    assert!(table.contains("Step 2: GET "), "{table}");
    // Payloads are shown as text: their markup arrives escaped.
    let first_pre = &table[table.find("<pre>").unwrap() + 5..];
    let body = &first_pre[..first_pre.find("</pre>").unwrap()];
    assert!(!body.contains('<') && !body.contains('"'), "{body}");
    assert!(table.contains("&lt;") || table.contains("&#34;") || table.contains("&quot;"));

    let invalid = client
        .post(&url)
        .bearer_auth(OPS_TOKEN)
        .form(&[("message", "{\"schema_version\": 1}")])
        .send()
        .await
        .unwrap();
    let html = invalid.text().await.unwrap();
    assert!(html.contains("id=\"invalid\""), "{html}");
    assert!(!html.contains("<table"), "{html}");
    app.stop().await;
}

/// A board that works in several steps shows each, in order: InfoJobs fetches
/// a token and three dictionaries before the offer itself; the twin answers
/// the steps in-process, so the test's sandbox still sees nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_shows_every_step_of_a_board_that_works_in_several() {
    let app = spawn_with(&["infojobs", "monster"]).await;
    let before = footprint(&app).await;
    let (status, answer) = post_preview(&app, sample(SAMPLES[0]), Some(OPS_TOKEN)).await;
    assert_eq!(status, 200, "{answer}");
    let infojobs = posting(&answer, "infojobs", "es");
    assert_eq!(infojobs["outcome"], "would_send", "{infojobs}");
    let steps = infojobs["steps"].as_array().unwrap();
    assert!(steps.len() > 1, "{infojobs}");
    assert_eq!(steps[0], infojobs["payload"], "{infojobs}");
    // The last step is the offer, with the Spanish ad's title in it.
    let message: Value = serde_json::from_slice(&sample(SAMPLES[0])).unwrap();
    let title = message["job"]["ads"]["es"]["title"].as_str().unwrap();
    let last = steps.last().unwrap()["body"].as_str().unwrap();
    assert!(last.contains(title), "{title} not in the last step: {last}");
    assert!(
        !steps[0]["body"].as_str().unwrap().contains(title),
        "the first step is not the offer: {infojobs}"
    );
    // A single-request board keeps one step.
    let monster = posting(&answer, "monster", "en");
    assert_eq!(monster["steps"].as_array().unwrap().len(), 1, "{monster}");
    assert_eq!(footprint(&app).await, before, "preview reached a board");
    app.stop().await;
}

/// Every rule a posting breaks is listed, not only the first the adapter met.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_lists_every_rule_a_posting_breaks() {
    let app = spawn_app().await;
    let mut message: Value = serde_json::from_slice(&without_english_requirements()).unwrap();
    // Welcome to the Jungle takes titles of up to 200 characters.
    message["job"]["ads"]["en"]["title"] = Value::String("Account Executive ".repeat(12));
    let (status, answer) =
        post_preview(&app, serde_json::to_vec(&message).unwrap(), Some(OPS_TOKEN)).await;
    assert_eq!(status, 200, "{answer}");
    let english = posting(&answer, WTTJ, "en");
    assert_eq!(english["outcome"], "rule_failed", "{english}");
    let rules: Vec<&str> = english["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule.as_str().unwrap())
        .collect();
    assert!(
        rules
            .iter()
            .any(|rule| rule.starts_with("title is") && rule.contains("allows 200")),
        "{english}"
    );
    assert!(
        rules.iter().any(|rule| rule.contains("candidate profile")),
        "{english}"
    );
    assert!(english["payload"].is_null(), "{english}");
    assert!(english["steps"].as_array().unwrap().is_empty(), "{english}");
    app.stop().await;
}

/// Monster takes Windows-1252: the preview decodes the body by its charset,
/// so "€" and "é" read as themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_decodes_a_windows_1252_body_by_its_charset() {
    let app = spawn_with(&["monster"]).await;
    let mut message: Value = serde_json::from_slice(&sample(SAMPLES[0])).unwrap();
    let title = "Account Executive – 60 000 € – café";
    message["job"]["ads"]["en"]["title"] = Value::String(title.to_owned());
    let (status, answer) =
        post_preview(&app, serde_json::to_vec(&message).unwrap(), Some(OPS_TOKEN)).await;
    assert_eq!(status, 200, "{answer}");
    let monster = posting(&answer, "monster", "en");
    assert_eq!(monster["outcome"], "would_send", "{monster}");
    let content_type = monster["payload"]["content_type"].as_str().unwrap();
    assert!(
        content_type.to_ascii_lowercase().contains("windows-1252"),
        "{monster}"
    );
    let body = monster["payload"]["body"].as_str().unwrap();
    assert!(body.contains(title), "{body}");
    assert!(!body.contains('\u{fffd}'), "{body}");
    app.stop().await;
}
