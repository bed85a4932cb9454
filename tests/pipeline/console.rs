//! The ops console on real services: the postings list's filters, paging and
//! escaping, the bulk actions' dry run and confirmation over HTTP, and the
//! on-call flow in headless Chromium (sign in → filter one board's failed
//! postings → heal the board → bulk retry via dry run and confirm → they are
//! posted). Screenshots of each page are kept in `target/tmp/console-*.png`.

use std::time::Duration;

use base64::Engine;

use boardcast::sandbox::Faults;
use fantoccini::Locator;

use crate::dashboard::{browser, save, sign_in_browser};
use crate::helpers::{OPS_TOKEN, TestApp, spawn_app};
use crate::{LINKEDIN, STEPSTONE, WTTJ};

const SAMPLE: &str = "sales-account-executive.publish.json";
/// A second job, published while StepStone is paused.
const OTHER_JOB: &str = "account-executive.publish.json";
const OTHER_JOB_ID: &str = "AE-2026-014";

/// A console page fetched with the ops token: its status and HTML.
async fn get(app: &TestApp, path_and_query: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{}{path_and_query}", app.ops_url))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The number a bulk page shows as the dry run's count.
fn bulk_count(html: &str) -> i64 {
    html.split_once("id=\"bulk-count\">")
        .and_then(|(_, rest)| rest.split_once('<'))
        .map(|(count, _)| count.parse().unwrap())
        .unwrap_or_else(|| panic!("no bulk count in {html}"))
}

async fn retries_logged(app: &TestApp) -> Vec<(String, serde_json::Value, i32)> {
    sqlx::query_as("SELECT actor, filter, affected FROM operator_actions WHERE action = 'retry'")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postings_page_filters_pages_and_escapes_what_boards_said() {
    let app = spawn_app().await;
    app.publish_sample(SAMPLE).await;
    let rows = app.settled(6).await;
    let hostile = rows.iter().find(|r| r.board == WTTJ).unwrap();
    sqlx::query("UPDATE postings SET last_error = $1 WHERE id = $2")
        .bind("<script>alert(document.cookie)</script>")
        .bind(hostile.id)
        .execute(&app.pool)
        .await
        .unwrap();

    let (status, page) = get(&app, &format!("/postings?board={STEPSTONE}&status=")).await;
    assert_eq!(status, 200, "{page}");
    for row in &rows {
        let shown = page.contains(&format!("<tr id=\"posting-{}\">", row.id));
        assert_eq!(shown, row.board == STEPSTONE, "{}: {page}", row.board);
    }

    let (_, page) = get(&app, &format!("/postings?board={WTTJ}")).await;
    assert!(
        page.contains("&#60;script&#62;alert(document.cookie)&#60;/script&#62;"),
        "{page}"
    );
    assert!(!page.contains("<script"), "{page}");

    // Keyset paging: the page before the newest posting holds the others.
    let newest = rows.iter().map(|r| r.id).max().unwrap();
    let (_, page) = get(&app, &format!("/postings?before_id={newest}")).await;
    assert!(
        !page.contains(&format!("<tr id=\"posting-{newest}\">")),
        "{page}"
    );
    for row in rows.iter().filter(|r| r.id != newest) {
        assert!(page.contains(&format!("<tr id=\"posting-{}\">", row.id)));
    }

    // Search: the job id, or the ad's title in the posting's language.
    let (_, page) = get(&app, "/postings?q=executivo").await;
    for row in &rows {
        let shown = page.contains(&format!("<tr id=\"posting-{}\">", row.id));
        assert_eq!(shown, row.locale == "pt", "{}: {page}", row.locale);
    }
    let (_, page) = get(&app, "/postings?q=sae-7").await;
    assert!(
        rows.iter()
            .all(|row| page.contains(&format!("<tr id=\"posting-{}\">", row.id)))
    );
    let (_, page) = get(&app, "/postings?q=%25").await;
    assert!(
        page.contains("No posting matches."),
        "a % is literal: {page}"
    );

    let (status, page) = get(&app, "/postings?status=exploded").await;
    assert_eq!(status, 400);
    assert!(page.contains("unknown status &#34;exploded&#34;"), "{page}");

    // A posting's page: its attempts, and the next step in words.
    let (status, page) = get(&app, &format!("/postings/{}", hostile.id)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"attempts\""), "{page}");
    assert!(!page.contains("<script"), "{page}");
    app.stop().await;
}

/// The live-update script runs under the CSP by its digest, never `'unsafe-inline'`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_script_is_allowed_by_its_digest_only() {
    let app = spawn_app().await;
    let response = reqwest::Client::new()
        .get(format!("{}/", app.ops_url))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = response.text().await.unwrap();
    let script = page
        .split_once("<script>")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .expect("the overview carries its live script")
        .0;
    let digest = base64::engine::general_purpose::STANDARD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(script.as_bytes()));
    assert!(
        policy.contains(&format!("script-src 'sha256-{digest}'")),
        "{policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(page.contains("data-live"), "{page}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_dry_run_counts_exactly_the_filter_and_changes_nothing() {
    let app = spawn_app().await;
    app.faults(
        WTTJ,
        Faults {
            fail_times: 1_000,
            fail_status: 422,
            ..Faults::default()
        },
    );
    app.publish_sample(SAMPLE).await;
    let rows = app.settled(6).await;
    let failed: Vec<i64> = rows
        .iter()
        .filter(|r| r.board == WTTJ && r.status == "failed")
        .map(|r| r.id)
        .collect();
    assert!(!failed.is_empty());

    let (status, page) = get(
        &app,
        &format!("/postings/bulk?board={WTTJ}&status=failed&action=retry"),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(bulk_count(&page), failed.len() as i64);
    assert!(
        page.contains(&format!("board {WTTJ}, status failed")),
        "{page}"
    );
    assert!(
        retries_logged(&app).await.is_empty(),
        "a dry run logs nothing"
    );
    let still_failed = app.postings().await;
    assert!(
        still_failed
            .iter()
            .filter(|r| failed.contains(&r.id))
            .all(|r| r.status == "failed")
    );

    // Nothing selects everything by accident.
    let (status, _) = get(&app, "/postings/bulk?action=retry").await;
    assert_eq!(status, 400);
    let (status, page) = get(&app, "/postings/bulk?action=retry&all=true").await;
    assert_eq!(status, 200);
    assert_eq!(
        bulk_count(&page),
        failed.len() as i64,
        "only failed ones retry"
    );

    // A confirmation of another count is shown again, not acted on.
    let form = [
        ("board", WTTJ),
        ("status", "failed"),
        ("action", "retry"),
        ("expected", "999"),
    ];
    let page = reqwest::Client::new()
        .post(format!("{}/postings/bulk", app.ops_url))
        .bearer_auth(OPS_TOKEN)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("The count changed from 999"), "{page}");
    assert!(retries_logged(&app).await.is_empty());
    app.stop().await;
}

/// A language filter narrows the bulk action as it narrows the list: the dry
/// run counts the listed postings, the action retries only them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_retry_with_a_language_filter_acts_on_that_language_only() {
    let app = spawn_app().await;
    // Every board of the sample refuses, so failures come in its two languages.
    for board in [WTTJ, STEPSTONE, LINKEDIN] {
        app.faults(
            board,
            Faults {
                fail_times: 1_000,
                fail_status: 422,
                ..Faults::default()
            },
        );
    }
    app.publish_sample(SAMPLE).await;
    let rows = app.settled(6).await;
    let failed: Vec<_> = rows.iter().filter(|r| r.status == "failed").collect();
    let locale = failed.first().expect("failed postings").locale.clone();
    let chosen: Vec<i64> = failed
        .iter()
        .filter(|r| r.locale == locale)
        .map(|r| r.id)
        .collect();
    let others: Vec<i64> = failed
        .iter()
        .filter(|r| r.locale != locale)
        .map(|r| r.id)
        .collect();
    assert!(
        !others.is_empty(),
        "the sample fails in two languages: {failed:?}"
    );

    let filter = format!("status=failed&locale={locale}");
    let (status, list) = get(&app, &format!("/postings?{filter}")).await;
    assert_eq!(status, 200, "{list}");
    let listed = list.matches("id=\"posting-").count();
    assert_eq!(listed, chosen.len(), "{list}");
    let (status, page) = get(&app, &format!("/postings/bulk?{filter}&action=retry")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(bulk_count(&page), listed as i64, "{page}");

    // A search narrows the bulk action as the list: by the job id, or by the
    // title in the posting's own language ("executivo" is only the Portuguese one).
    let portuguese = failed.iter().filter(|r| r.locale == "pt").count();
    assert!(portuguese > 0, "{failed:?}");
    let (_, page) = get(
        &app,
        "/postings/bulk?status=failed&q=executivo&action=retry",
    )
    .await;
    assert_eq!(bulk_count(&page), portuguese as i64, "{page}");
    let (_, page) = get(&app, "/postings/bulk?status=failed&q=sae-7&action=retry").await;
    assert_eq!(bulk_count(&page), failed.len() as i64, "{page}");

    for board in [WTTJ, STEPSTONE, LINKEDIN] {
        app.faults(board, Faults::default());
    }
    let count = chosen.len().to_string();
    let form = [
        ("status", "failed"),
        ("locale", locale.as_str()),
        ("action", "retry"),
        ("expected", count.as_str()),
    ];
    let response = reqwest::Client::new()
        .post(format!("{}/postings/bulk", app.ops_url))
        .bearer_auth(OPS_TOKEN)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.wait_for("the retried language to be posted", || async {
        let rows = app.postings().await;
        rows.iter()
            .filter(|r| chosen.contains(&r.id))
            .all(|r| r.status == "posted")
            .then_some(())
    })
    .await;
    let rows = app.postings().await;
    for row in rows.iter().filter(|r| others.contains(&r.id)) {
        assert_eq!(row.status, "failed", "{row:?} was not selected");
    }
    let logged = retries_logged(&app).await;
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].1["locale"], locale.as_str());
    assert_eq!(logged[0].2 as usize, chosen.len());
    app.stop().await;
}

/// The flow, in a real browser against the real worker and boards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_call_filters_failed_postings_of_a_board_and_bulk_retries_them_after_healing() {
    let app = spawn_app().await;
    app.faults(
        STEPSTONE,
        Faults {
            fail_times: 1_000,
            fail_status: 422,
            ..Faults::default()
        },
    );
    app.publish_sample(SAMPLE).await;
    let rows = app.settled(6).await;
    let failed: Vec<i64> = rows
        .iter()
        .filter(|r| r.board == STEPSTONE && r.status == "failed")
        .map(|r| r.id)
        .collect();
    assert!(!failed.is_empty());

    let (_driver, browser) = browser().await;
    sign_in_browser(&browser, &app.ops_url).await;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("attention"))
        .await
        .unwrap();
    save("console-overview.png", &browser.screenshot().await.unwrap());

    // Live: the overview's tables follow the database without a reload.
    sqlx::query("UPDATE postings SET last_error = 'seen live by the overview' WHERE id = $1")
        .bind(failed[0])
        .execute(&app.pool)
        .await
        .unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(
            "//table[@id='attention']//td[contains(., 'seen live by the overview')]",
        ))
        .await
        .expect("the overview updates itself");

    // Filter: the failed postings of one board.
    browser
        .goto(&format!("{}/postings", app.ops_url))
        .await
        .unwrap();
    browser
        .find(Locator::Id("f-board"))
        .await
        .unwrap()
        .select_by_value(STEPSTONE)
        .await
        .unwrap();
    browser
        .find(Locator::Id("f-status"))
        .await
        .unwrap()
        .select_by_value("failed")
        .await
        .unwrap();
    browser
        .find(Locator::Id("apply-filter"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        // The filtered page is the one whose state box arrived set to failed.
        .for_element(Locator::XPath(
            "//select[@id='f-status']/option[@value='failed' and @selected]",
        ))
        .await
        .unwrap();
    let table = browser
        .find(Locator::Id("postings"))
        .await
        .unwrap()
        .html(false)
        .await
        .unwrap();
    for row in &rows {
        let shown = table.contains(&format!("id=\"posting-{}\"", row.id));
        assert_eq!(shown, failed.contains(&row.id), "{}: {table}", row.id);
    }
    save("console-postings.png", &browser.screenshot().await.unwrap());

    // A failed posting's page: the attempts with the board's words.
    browser
        .goto(&format!("{}/postings/{}", app.ops_url, failed[0]))
        .await
        .unwrap();
    let attempts = browser
        .find(Locator::Id("attempts"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(attempts.contains("422"), "{attempts}");
    save("console-posting.png", &browser.screenshot().await.unwrap());
    browser.back().await.unwrap();

    // Heal the board, dry-run the bulk retry on the filter, confirm.
    app.faults(STEPSTONE, Faults::default());
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("bulk-retry"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let count = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("bulk-count"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(count, failed.len().to_string());
    save("console-bulk.png", &browser.screenshot().await.unwrap());
    browser
        .find(Locator::Id("bulk-confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let done = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("bulk-done"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        done.starts_with(&format!("Retried {}", failed.len())),
        "{done}"
    );
    app.wait_for("the bulk-retried postings to be posted", || async {
        let rows = app.postings().await;
        rows.iter()
            .filter(|r| failed.contains(&r.id))
            .all(|r| r.status == "posted")
            .then_some(())
    })
    .await;

    let logged = retries_logged(&app).await;
    assert_eq!(logged.len(), 1, "{logged:?}");
    let (actor, filter, affected) = &logged[0];
    assert_eq!(actor, "test-operator");
    assert_eq!(filter["board"], STEPSTONE);
    assert_eq!(filter["status"], "failed");
    assert_eq!(*affected as usize, failed.len());

    // Pause the board from its page: a new job's StepStone ads wait, using no attempts.
    browser
        .goto(&format!("{}/boards", app.ops_url))
        .await
        .unwrap();
    browser
        .find(Locator::Id(&format!("reason-{STEPSTONE}")))
        .await
        .unwrap()
        .send_keys("StepStone incident 4711")
        .await
        .unwrap();
    browser
        .find(Locator::Id(&format!("pause-{STEPSTONE}")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id(&format!("paused-{STEPSTONE}")))
        .await
        .unwrap();
    let row = browser
        .find(Locator::Id(&format!("board-{STEPSTONE}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("by test-operator") && row.contains("StepStone incident 4711"),
        "{row}"
    );
    // The screenshot shows the board's charts: wait for its SVG to be in the page.
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!(
            "#board-{STEPSTONE} + tr td.chart svg"
        )))
        .await
        .expect("StepStone's activity chart");
    save("console-boards.png", &browser.screenshot().await.unwrap());

    app.publish_sample(OTHER_JOB).await;
    app.wait_for(
        "LinkedIn to post the new job while StepStone is paused",
        || async {
            let rows = app.postings().await;
            let linkedin: Vec<_> = rows
                .iter()
                .filter(|p| p.job_id == OTHER_JOB_ID && p.board == LINKEDIN)
                .collect();
            (!linkedin.is_empty() && linkedin.iter().all(|p| p.status == "posted")).then_some(())
        },
    )
    .await;
    let waiting: Vec<_> = app
        .postings()
        .await
        .into_iter()
        .filter(|p| p.job_id == OTHER_JOB_ID && p.board == STEPSTONE && p.status != "skipped")
        .collect();
    assert!(!waiting.is_empty());
    for posting in &waiting {
        assert_eq!(posting.status, "queued", "{posting:?}");
        assert_eq!(posting.attempts, 0, "a pause uses no attempts: {posting:?}");
    }

    browser
        .find(Locator::Id(&format!("resume-{STEPSTONE}")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.wait_for("StepStone to post the new job once resumed", || async {
        let rows = app.postings().await;
        rows.iter()
            .filter(|p| waiting.iter().any(|w| w.id == p.id))
            .all(|p| p.status == "posted")
            .then_some(())
    })
    .await;

    // The operator log shows the retry, the pause and the resume.
    browser
        .goto(&format!("{}/operator-log", app.ops_url))
        .await
        .unwrap();
    let log = browser
        .find(Locator::Id("operator-log"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for action in ["retry", "pause", "resume"] {
        assert!(log.contains(action), "{action}: {log}");
    }
    save(
        "console-operator-log.png",
        &browser.screenshot().await.unwrap(),
    );
    browser
        .goto(&format!("{}/rejected", app.ops_url))
        .await
        .unwrap();
    browser.find(Locator::Id("rejected")).await.unwrap();
    save("console-rejected.png", &browser.screenshot().await.unwrap());
    browser.close().await.unwrap();
    app.stop().await;
}
