//! The dashboard in a real browser (headless Chromium through chromedriver):
//! a failed posting is shown with the board's reason, Retry sends it again,
//! and the job's page shows it posted. Screenshots are kept in
//! `target/tmp/dashboard-*.png`.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use boardcast::sandbox::Faults;
use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::WTTJ;
use crate::helpers::{OPS_TOKEN, spawn_app};

/// Starts chromedriver on a free port and waits until it listens.
async fn chromedriver() -> (Child, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver is installed (deploy/dev/test.sh installs Debian's chromium-driver)");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (child, port);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not start listening");
}

fn save(name: &str, png: &[u8]) {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_failure_and_its_retry_button_works() {
    let app = spawn_app().await;
    app.faults(
        WTTJ,
        Faults {
            fail_times: 1_000,
            fail_status: 422,
            ..Faults::default()
        },
    );
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let rows = app.settled(6).await;
    let failed = rows
        .iter()
        .find(|r| r.status == "failed")
        .expect("one posting failed");

    let (_driver, port) = chromedriver().await;
    let profile = tempdir();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1400,900", format!("--user-data-dir={profile}")]
        }),
    );
    let browser = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");

    // Unsigned visitors are sent to sign in.
    browser.goto(&format!("{}/", app.ops_url)).await.unwrap();
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/login")
    );
    browser
        .find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(OPS_TOKEN)
        .await
        .unwrap();
    browser
        .find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The click returns before the redirect has loaded the overview: wait for it.
    let row = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id(&format!("posting-{}", failed.id)))
        .await
        .unwrap();
    let text = row.text().await.unwrap();
    assert!(
        text.contains("failed") && text.contains("told to fail"),
        "{text}"
    );
    // The boards' health table, rescues included.
    let boards = browser
        .find(Locator::Id(&format!("board-{WTTJ}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(boards.starts_with(WTTJ), "{boards}");
    save("dashboard-failed.png", &browser.screenshot().await.unwrap());

    app.faults(WTTJ, Faults::default());
    browser
        .find(Locator::Id(&format!("retry-{}", failed.id)))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.wait_for("the retried posting to be posted", || async {
        let rows = app.postings().await;
        rows.into_iter()
            .find(|r| r.id == failed.id && r.status == "posted")
    })
    .await;

    browser
        .goto(&format!("{}/jobs/northwind/SAE-77", app.ops_url))
        .await
        .unwrap();
    let row = browser
        .find(Locator::Id(&format!("posting-{}", failed.id)))
        .await
        .unwrap();
    let text = row.text().await.unwrap();
    assert!(text.contains("posted"), "{text}");
    save("dashboard-job.png", &browser.screenshot().await.unwrap());
    browser.close().await.unwrap();

    let actor: String =
        sqlx::query_scalar("SELECT actor FROM operator_actions WHERE action = 'retry'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(actor, "test-operator");
    app.stop().await;
}

fn tempdir() -> String {
    let dir = std::env::temp_dir().join(format!(
        "boardcast-chromium-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.to_string_lossy().into_owned()
}
