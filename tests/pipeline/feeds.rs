//! Feed boards: the feed follows publish, update and withdraw; the board's
//! crawler fetching it moves postings to `posted`; what it refuses fails.

use boardcast::sandbox::crawler::{CrawlOutcome, CrawlRequest};
use boardcast::sandbox::indeed_feed::FEED;
use serde_json::{Value, json};

use crate::helpers::{TestApp, sample, spawn_app_with};

const INDEED_FEED: &str = "indeed-feed";

async fn feed_app() -> TestApp {
    spawn_app_with(|settings| {
        for (key, board) in settings.boards.iter_mut() {
            board.enabled = key == "indeed_feed";
        }
        settings.dispatch.crawl_report_poll_ms = 50;
    })
    .await
}

impl TestApp {
    async fn crawl(&self) -> CrawlOutcome {
        let request = CrawlRequest {
            feed_url: format!("{}/feeds/indeed.xml", self.public_url),
            username: None,
            password: None,
        };
        self.sandbox
            .crawl(&FEED, &request)
            .await
            .expect("the crawler reached the feed")
    }

    async fn feed_rows(
        &self,
        status: &str,
        revision: i64,
    ) -> Vec<boardcast::store::postings::PostingView> {
        self.wait_for(
            &format!("the feed postings to be {status} at revision {revision}"),
            || async {
                let rows: Vec<_> = self
                    .postings()
                    .await
                    .into_iter()
                    .filter(|r| r.board == INDEED_FEED && r.status != "skipped")
                    .collect();
                (!rows.is_empty()
                    && rows
                        .iter()
                        .all(|r| r.status == status && r.revision == revision))
                .then_some(rows)
            },
        )
        .await
    }
}

fn message(name: &str) -> Value {
    let mut message: Value = serde_json::from_slice(&sample(name)).unwrap();
    message["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_follows_the_job_and_a_fetch_posts_it() {
    let app = feed_app().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;

    // In the feed, not yet fetched.
    let rows = app.feed_rows("submitted", 1).await;
    assert_eq!(rows.len(), 2, "pt and en: {rows:?}");
    assert!(app.held(INDEED_FEED).is_empty());

    // Indeed's crawler fetches the feed: both postings are posted, byte for byte.
    let first = app.crawl().await;
    assert_eq!(first.http_status, 200);
    assert_eq!(first.report.accepted.len(), 2, "{first:?}");
    assert!(first.report.rejected.is_empty(), "{first:?}");
    let rows = app.feed_rows("posted", 1).await;
    let held = app.held(INDEED_FEED);
    assert_eq!(held.len(), 2);
    let job = &message("sales-account-executive.publish.json")["job"];
    for row in &rows {
        let copy = held.iter().find(|h| h.reference == row.reference).unwrap();
        assert!(copy.live);
        assert_eq!(
            copy.title,
            job["ads"][&row.locale]["title"].as_str().unwrap()
        );
        let summary = job["ads"][&row.locale]["summary"].as_str().unwrap();
        assert!(
            copy.content["description"]
                .as_str()
                .unwrap()
                .contains(summary),
            "{} arrives intact: {}",
            row.locale,
            copy.content["description"]
        );
    }
    let history = boardcast::store::postings::attempts(&app.env.pool, rows[0].id)
        .await
        .unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.operation.as_str(), last.outcome.as_str()),
        ("fetch", "posted")
    );
    assert!(
        last.detail
            .as_deref()
            .unwrap()
            .contains("indeed-feed-crawler"),
        "{last:?}"
    );

    // Nothing changed: the crawler's ETag gets a 304.
    let again = app.crawl().await;
    assert_eq!(again.http_status, 304);
    assert_eq!(again.etag, first.etag);

    // Revision 2 renames the Portuguese ad: back to submitted, posted on the next fetch.
    let mut update = message("sales-account-executive.publish.json");
    update["action"] = json!("update");
    update["job"]["revision"] = json!(2);
    update["job"]["ads"]["pt"]["title"] = json!("Executivo(a) Sénior de Contas");
    app.publish(update.to_string().as_bytes()).await;
    app.wait_for("the Portuguese posting back in the feed", || async {
        app.postings().await.into_iter().find(|r| {
            r.board == INDEED_FEED && r.locale == "pt" && r.revision == 2 && r.status == "submitted"
        })
    })
    .await;
    let third = app.crawl().await;
    assert_eq!(third.http_status, 200);
    assert_ne!(third.etag, first.etag);
    app.wait_for("the new revision posted", || async {
        let rows = app.postings().await;
        rows.iter()
            .filter(|r| r.board == INDEED_FEED && r.status != "skipped")
            .all(|r| r.status == "posted" && r.revision == 2)
            .then_some(())
    })
    .await;
    let held = app.held(INDEED_FEED);
    let portuguese = held
        .iter()
        .find(|h| h.title == "Executivo(a) Sénior de Contas")
        .expect("the renamed ad, accents intact");
    assert_eq!((portuguese.creates, portuguese.updates), (1, 1));

    // Withdrawn: gone from the feed, so the board drops it on its next crawl.
    let mut withdraw = message("account-executive.withdraw.json");
    withdraw["job"]["id"] = json!("SAE-77");
    app.publish(withdraw.to_string().as_bytes()).await;
    app.feed_rows("withdrawn", 2).await;
    let fourth = app.crawl().await;
    assert_eq!(fourth.http_status, 200);
    assert!(fourth.report.accepted.is_empty());
    assert!(
        app.held(INDEED_FEED)
            .iter()
            .all(|h| !h.live && h.withdrawals == 1)
    );
    app.stop().await;
}

/// Only Indeed's crawler checks that a title does not name the location: the
/// posting goes into the feed, and fails once the crawl report refuses it,
/// even when only one of its location instances (`<ref>-1`) was refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_crawler_refuses_fails_with_its_reason() {
    let app = feed_app().await;
    let mut message = message("account-executive.publish.json");
    // Berlin is the job's second location: Indeed's instance `<ref>-1`.
    message["job"]["ads"]["en"]["title"] = json!("Account Executive Berlin");
    app.publish(message.to_string().as_bytes()).await;
    app.feed_rows("submitted", 1).await;

    let outcome = app.crawl().await;
    assert_eq!(outcome.report.rejected.len(), 1, "{outcome:?}");
    assert!(
        outcome.report.rejected[0].reference.ends_with("-1"),
        "{outcome:?}"
    );
    let row = app
        .wait_for("the refused posting to fail", || async {
            app.postings()
                .await
                .into_iter()
                .find(|r| r.board == INDEED_FEED && r.status == "failed")
        })
        .await;
    assert_eq!(row.locale, "en");
    assert_eq!(
        row.last_error.as_deref(),
        Some(
            "Indeed's crawler refused it: <title> names the location (Berlin); Indeed wants it in <city> only"
        )
    );
    let others = app.postings().await;
    assert!(
        others
            .iter()
            .filter(|r| r.board == INDEED_FEED && r.locale != "en")
            .all(|r| r.status == "posted"),
        "{others:?}"
    );
    app.stop().await;
}

/// A board's feed can require HTTP Basic; the crawler given the credentials
/// gets it, anyone else a 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_can_require_credentials() {
    let app = spawn_app_with(|settings| {
        for (key, board) in settings.boards.iter_mut() {
            board.enabled = key == "indeed_feed";
        }
        let board = settings.boards.get_mut("indeed_feed").unwrap();
        board
            .options
            .insert("feed_username".into(), "indeed".into());
        board.credentials.insert(
            "feed_password".into(),
            secrecy::SecretString::from("crawl-me"),
        );
    })
    .await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.feed_rows("submitted", 1).await;

    let url = format!("{}/feeds/indeed.xml", app.public_url);
    let anonymous = reqwest::get(&url).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let mut request = CrawlRequest {
        feed_url: url,
        username: Some("indeed".into()),
        password: Some("not-it".into()),
    };
    assert_eq!(
        app.sandbox
            .crawl(&FEED, &request)
            .await
            .unwrap()
            .http_status,
        401
    );
    assert!(app.held(INDEED_FEED).is_empty());

    request.password = Some("crawl-me".into());
    let outcome = app.sandbox.crawl(&FEED, &request).await.unwrap();
    assert_eq!(outcome.http_status, 200);
    app.feed_rows("posted", 1).await;
    app.stop().await;
}

/// LinkedIn cannot change a listed job's title: in its feed, a new title
/// withdraws the old item and lists a new one under the next reference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_field_in_a_feed_closes_the_item_and_lists_a_new_one() {
    use boardcast::sandbox::linkedin_feed::FEED as LINKEDIN_FEED;
    const BOARD: &str = "linkedin-feed";
    let app = spawn_app_with(|settings| {
        for (key, board) in settings.boards.iter_mut() {
            board.enabled = key == "linkedin_feed";
        }
    })
    .await;
    let crawl = || async {
        let request = CrawlRequest {
            feed_url: app.settings.feed_url(LINKEDIN_FEED.file),
            username: None,
            password: None,
        };
        app.sandbox.crawl(&LINKEDIN_FEED, &request).await.unwrap()
    };
    let english = |status: &'static str, revision: i64| {
        let app = &app;
        async move {
            app.wait_for(
                &format!("the English posting {status} at revision {revision}"),
                || async {
                    app.postings().await.into_iter().find(|r| {
                        r.board == BOARD
                            && r.locale == "en"
                            && r.status == status
                            && r.revision == revision
                    })
                },
            )
            .await
        }
    };
    // LinkedIn wants an apply URL on https://www.
    let mut message = message("sales-account-executive.publish.json");
    message["job"]["apply"]["url"] = json!("https://www.northwind.example/careers/SAE-77/apply");
    app.publish(message.to_string().as_bytes()).await;
    let first = english("submitted", 1).await;
    assert_eq!(crawl().await.http_status, 200);
    english("posted", 1).await;

    message["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    message["action"] = json!("update");
    message["job"]["revision"] = json!(2);
    message["job"]["ads"]["en"]["title"] = json!("Senior Sales Account Executive");
    app.publish(message.to_string().as_bytes()).await;
    english("submitted", 2).await;
    crawl().await;
    let row = english("posted", 2).await;
    assert_eq!(row.id, first.id);

    let held = app.held(BOARD);
    let old = held
        .iter()
        .find(|h| h.reference == first.reference)
        .unwrap();
    assert!(!old.live, "the old item left the feed");
    assert_eq!(old.title, "Sales Account Executive");
    let new_reference = boardcast::plan::board_reference(&first.reference, 1);
    let new = held.iter().find(|h| h.reference == new_reference).unwrap();
    assert!(new.live);
    assert_eq!(new.title, "Senior Sales Account Executive");
    let history = boardcast::store::postings::attempts(&app.env.pool, row.id)
        .await
        .unwrap();
    assert!(
        history
            .iter()
            .any(|a| a.operation == "replace" && a.outcome == "closed"),
        "{history:?}"
    );
    app.stop().await;
}

/// Issue 13: every feed board's posting has its public job page at
/// `/jobs/<reference>` (not only Google's), the feed's `<url>` is that
/// page, each language variant names one canonical page and lists the
/// others as hreflang alternates, and a withdrawn job's page is gone (410).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feed_posting_has_a_job_page_and_the_feed_links_it() {
    let app = feed_app().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let rows = app.feed_rows("submitted", 1).await;
    let http = reqwest::Client::new();
    let feed = http
        .get(format!("{}/feeds/indeed.xml", app.public_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let job = &message("sales-account-executive.publish.json")["job"];
    let page_of = |locale: &str| {
        let row = rows.iter().find(|r| r.locale == locale).unwrap();
        format!("{}/jobs/{}", app.public_url, row.reference)
    };
    let mut pages = Vec::new();
    for row in &rows {
        let url = page_of(&row.locale);
        assert!(
            feed.contains(&format!("<url><![CDATA[{url}]]></url>")),
            "{url} in {feed}"
        );
        let answer = http.get(&url).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{url}");
        let html = answer.text().await.unwrap();
        let title = job["ads"][&row.locale]["title"].as_str().unwrap();
        assert!(html.contains(title), "{html}");
        // Not sent to Google: no JobPosting markup on the page.
        assert!(!html.contains("application/ld+json"), "{html}");
        pages.push(html);
    }
    // One canonical page (the lowest language tag, "en"), both variants as alternates.
    let canonical = page_of("en");
    for html in &pages {
        assert!(
            html.contains(&format!("<link rel=\"canonical\" href=\"{canonical}\">")),
            "{html}"
        );
        for locale in ["en", "pt"] {
            assert!(
                html.contains(&format!(
                    "<link rel=\"alternate\" hreflang=\"{locale}\" href=\"{}\">",
                    page_of(locale)
                )),
                "{html}"
            );
        }
    }

    let mut withdraw = message("account-executive.withdraw.json");
    withdraw["job"]["id"] = json!("SAE-77");
    app.publish(withdraw.to_string().as_bytes()).await;
    app.wait_for("both feed postings withdrawn", || async {
        let rows: Vec<_> = app
            .postings()
            .await
            .into_iter()
            .filter(|r| r.board == INDEED_FEED && r.status != "skipped")
            .collect();
        rows.iter().all(|r| r.status == "withdrawn").then_some(())
    })
    .await;
    let answer = http.get(page_of("pt")).send().await.unwrap();
    assert_eq!(answer.status(), 410);
    let unknown = http
        .get(format!("{}/jobs/bc0000000000000000zz", app.public_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    app.stop().await;
}

/// Issue 13: Google's 200 is "notified": the posting waits in `submitted`
/// until Search Console's URL Inspection API (the twin's) reports the page
/// indexed with a valid job posting, then it is `posted`, with both steps
/// in its history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_postings_are_posted_once_url_inspection_confirms() {
    let app = spawn_app_with(|settings| {
        for (key, board) in settings.boards.iter_mut() {
            board.enabled = key == "google_jobs";
        }
    })
    .await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let rows = app
        .wait_for("Google's postings to be posted", || async {
            let rows: Vec<_> = app
                .postings()
                .await
                .into_iter()
                .filter(|r| r.board == "google-jobs" && r.status != "skipped")
                .collect();
            (!rows.is_empty() && rows.iter().all(|r| r.status == "posted")).then_some(rows)
        })
        .await;
    for row in &rows {
        let history = boardcast::store::postings::attempts(&app.env.pool, row.id)
            .await
            .unwrap();
        let steps: Vec<(&str, &str)> = history
            .iter()
            .map(|a| (a.operation.as_str(), a.outcome.as_str()))
            .collect();
        assert!(steps.contains(&("publish", "accepted")), "{steps:?}");
        assert!(
            steps
                .iter()
                .any(|(operation, outcome)| *operation == "confirm" && *outcome == "posted"),
            "{steps:?}"
        );
    }
    app.stop().await;
}

/// Issue 12, finding 10: anyone may fetch the feed, but only the board's
/// crawler (here by its User-Agent, `crawler_user_agents`) posts what it held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_boards_crawler_moves_postings_to_posted() {
    let app = feed_app().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.feed_rows("submitted", 1).await;

    let anonymous = reqwest::Client::new()
        .get(format!("{}/feeds/indeed.xml", app.public_url))
        .header("user-agent", "curl/8.5")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 200);
    let body = anonymous.text().await.unwrap();
    assert_eq!(body.matches("<job>").count(), 2, "{body}");
    let rows = app.postings().await;
    assert!(
        rows.iter()
            .filter(|r| r.board == INDEED_FEED && r.status != "skipped")
            .all(|r| r.status == "submitted"),
        "an anonymous fetch posts nothing: {rows:?}"
    );
    let recorded: Vec<(bool, Option<String>)> =
        sqlx::query_as("SELECT crawler, client FROM feed_fetches ORDER BY id")
            .fetch_all(&app.env.pool)
            .await
            .unwrap();
    assert_eq!(recorded, vec![(false, Some("curl/8.5".to_owned()))]);
    let status = boardcast::store::feeds::status(&app.env.pool, INDEED_FEED)
        .await
        .unwrap();
    assert_eq!(status.last_fetched_by, None, "{status:?}");
    assert_eq!(status.fetches_last_day, 1);

    // The crawler's fetch of the same (cached) document posts both.
    let outcome = app.crawl().await;
    assert_eq!(outcome.report.accepted.len(), 2, "{outcome:?}");
    app.feed_rows("posted", 1).await;
    let status = boardcast::store::feeds::status(&app.env.pool, INDEED_FEED)
        .await
        .unwrap();
    assert_eq!(
        status.last_fetched_by.as_deref(),
        Some("indeed-feed-crawler (boardcast sandbox)")
    );
    app.stop().await;
}

/// Issue 12, finding 10: the document is built once per change of the
/// feed's postings, not per fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_built_once_per_change() {
    let app = feed_app().await;
    let mut settings = app.env.settings.clone();
    for (key, board) in settings.boards.iter_mut() {
        board.enabled = key == "indeed_feed";
    }
    let feeds = boardcast::feeds::Feeds::from_boards(&boardcast::boards::build(&settings).unwrap());
    let format = feeds.get("indeed.xml").unwrap();
    let empty = feeds
        .document(&app.env.pool, format.as_ref())
        .await
        .unwrap();
    let again = feeds
        .document(&app.env.pool, format.as_ref())
        .await
        .unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&empty, &again),
        "unchanged: not rebuilt"
    );

    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.feed_rows("submitted", 1).await;
    let first = feeds
        .document(&app.env.pool, format.as_ref())
        .await
        .unwrap();
    assert_eq!(first.served.len(), 2);
    let second = feeds
        .document(&app.env.pool, format.as_ref())
        .await
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &second));
    app.stop().await;
}

/// The feed server as the worker builds it, for calling `Feeds::document` directly.
fn indeed_feeds(app: &TestApp) -> boardcast::feeds::Feeds {
    let mut settings = app.env.settings.clone();
    for (key, board) in settings.boards.iter_mut() {
        board.enabled = key == "indeed_feed";
    }
    boardcast::feeds::Feeds::from_boards(&boardcast::boards::build(&settings).unwrap())
}

impl TestApp {
    /// Publishes the sales sample as job `job_id`.
    async fn publish_job(&self, job_id: &str) {
        let mut message = message("sales-account-executive.publish.json");
        message["job"]["id"] = json!(job_id);
        self.publish(message.to_string().as_bytes()).await;
    }

    /// Waits until the feed holds `count` postings, all `submitted`.
    async fn submitted_feed_postings(&self, count: usize) {
        self.submitted_feed_postings_where(count, |_| true).await;
    }

    /// Waits until the feed's postings that match `which` are `count`, all
    /// `submitted`.
    async fn submitted_feed_postings_where(
        &self,
        count: usize,
        which: impl Fn(&boardcast::store::postings::PostingView) -> bool,
    ) {
        self.wait_for(&format!("{count} feed postings submitted"), || async {
            let rows: Vec<_> = self
                .postings()
                .await
                .into_iter()
                .filter(|r| r.board == INDEED_FEED && r.status != "skipped" && which(r))
                .collect();
            (rows.len() == count && rows.iter().all(|r| r.status == "submitted")).then_some(())
        })
        .await;
    }
}

/// Issue 9: a fetch after a change renders only what changed; the other
/// items are reused from the last build.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_posting_renders_only_its_own_items() {
    let app = feed_app().await;
    let feeds = indeed_feeds(&app);
    let format = feeds.get("indeed.xml").unwrap();
    app.publish_job("SAE-1").await;
    app.submitted_feed_postings(2).await;
    let first = feeds
        .document(&app.env.pool, format.as_ref())
        .await
        .unwrap();
    assert_eq!((first.rendered, first.served.len()), (2, 2));

    app.publish_job("SAE-2").await;
    app.submitted_feed_postings(4).await;
    let second = feeds
        .document(&app.env.pool, format.as_ref())
        .await
        .unwrap();
    assert_eq!(
        (second.rendered, second.served.len()),
        (2, 4),
        "only the new job's two postings are rendered"
    );
    assert_eq!(second.submitted.len(), 4);
    let body = second.text();
    assert_eq!(body.matches("<job>").count(), 4, "{body}");
    // What a build from nothing gives: the reused items are the same bytes.
    let fresh = boardcast::feeds::build(&app.env.pool, format.as_ref())
        .await
        .unwrap();
    assert_eq!(fresh.rendered, 4);
    assert_eq!((fresh.text(), &fresh.etag), (body, &second.etag));
    app.stop().await;
}

/// Issue 9: a job's new revision renders its postings' items again (and
/// only theirs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_revision_of_a_job_renders_its_items_again() {
    let app = feed_app().await;
    let feeds = indeed_feeds(&app);
    let format = feeds.get("indeed.xml").unwrap();
    app.publish_job("SAE-1").await;
    app.publish_job("SAE-2").await;
    app.submitted_feed_postings(4).await;
    let first = feeds
        .document(&app.env.pool, format.as_ref())
        .await
        .unwrap();
    assert_eq!(first.rendered, 4);
    const RENAMED: &str = "Executivo(a) Sénior de Contas";
    assert!(!first.text().contains(RENAMED));

    let mut update = message("sales-account-executive.publish.json");
    update["action"] = json!("update");
    update["job"]["id"] = json!("SAE-1");
    update["job"]["revision"] = json!(2);
    update["job"]["ads"]["pt"]["title"] = json!(RENAMED);
    app.publish(update.to_string().as_bytes()).await;
    // SAE-1's two postings at revision 2, submitted.
    app.submitted_feed_postings_where(2, |r| r.job_id == "SAE-1" && r.revision == 2)
        .await;
    let second = feeds
        .document(&app.env.pool, format.as_ref())
        .await
        .unwrap();
    assert_eq!(second.rendered, 2, "SAE-1's two postings, not SAE-2's");
    assert_eq!(second.served.len(), 4);
    assert!(second.text().contains(RENAMED), "{}", second.text());
    app.stop().await;
}

/// Issue 9: a crawler's fetch passes only the postings that were `submitted`
/// when the document was built, so a status change alone must reach the
/// next fetch: a posting the crawl report sends back to `submitted` while the
/// document's bytes stay the same is posted by the next crawl (a 304).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posting_sent_back_to_submitted_is_posted_by_the_next_crawl() {
    let app = feed_app().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.feed_rows("submitted", 1).await;
    let first = app.crawl().await;
    assert_eq!(first.http_status, 200);
    app.feed_rows("posted", 1).await;

    // A later crawl could not read the document: posted goes back to submitted.
    let sent_back = boardcast::store::feeds::apply_verdict(
        &app.env.pool,
        INDEED_FEED,
        "Indeed",
        time::OffsetDateTime::now_utc(),
        Some("the document was cut short"),
        0,
        &[],
    )
    .await
    .unwrap();
    assert_eq!(sent_back, 2);
    app.feed_rows("submitted", 1).await;

    let again = app.crawl().await;
    assert_eq!(again.http_status, 304, "the same bytes: {again:?}");
    assert_eq!(again.etag, first.etag);
    app.feed_rows("posted", 1).await;
    app.stop().await;
}

/// Issue 12, finding 10: fetch history is bounded per board.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_history_is_pruned() {
    let env = crate::helpers::test_env().await;
    sqlx::query(
        "INSERT INTO feed_fetches (board, fetched_at, http_status, etag, items)
         SELECT b, now() - make_interval(days => d), 200, 'e', 0
         -- Oldest first, as fetches arrive.
         FROM unnest(ARRAY['indeed-feed', 'jooble']) AS b, generate_series(9, 0, -1) AS d",
    )
    .execute(&env.pool)
    .await
    .unwrap();
    let pruned = boardcast::store::feeds::prune_fetches(&env.pool, "indeed-feed", 5)
        .await
        .unwrap();
    assert_eq!(pruned, 5);
    let left: Vec<(String, i64)> =
        sqlx::query_as("SELECT board, count(*) FROM feed_fetches GROUP BY board ORDER BY board")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert_eq!(left, vec![("indeed-feed".into(), 5), ("jooble".into(), 10)]);
    // Older than a week goes even within the last N.
    boardcast::store::feeds::prune_fetches(&env.pool, "jooble", 100)
        .await
        .unwrap();
    let (jooble,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM feed_fetches WHERE board = 'jooble'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(jooble, 7, "days 0 to 6");
    env.cleanup().await;
}

/// The Indeed format, except that it panics on Portuguese ads, as the
/// far-future date did in other boards' code (issue 12, finding 2).
struct PanicsOnPortuguese(std::sync::Arc<dyn boardcast::boards::feed::FeedFormat>);

impl boardcast::boards::feed::FeedFormat for PanicsOnPortuguese {
    fn id(&self) -> &'static str {
        self.0.id()
    }
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn file_name(&self) -> &'static str {
        self.0.file_name()
    }
    fn items(
        &self,
        entry: &boardcast::boards::feed::FeedEntry<'_>,
    ) -> Result<String, boardcast::boards::BoardError> {
        assert_ne!(entry.posting.locale, "pt", "no date for the year 10000");
        self.0.items(entry)
    }
    fn parts(&self, items: &[boardcast::boards::feed::Item]) -> Vec<bytes::Bytes> {
        self.0.parts(items)
    }
}

/// Issue 12, finding 2: one posting that cannot render is left out of the
/// shared document and fails with the reason; the others are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posting_that_cannot_render_is_left_out_and_fails() {
    let app = feed_app().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.feed_rows("submitted", 1).await;
    let mut settings = app.env.settings.clone();
    settings.boards.get_mut("indeed_feed").unwrap().enabled = true;
    let indeed = boardcast::boards::build_one(&settings, INDEED_FEED)
        .unwrap()
        .feed()
        .unwrap();
    let document = boardcast::feeds::build(&app.env.pool, &PanicsOnPortuguese(indeed))
        .await
        .unwrap();
    assert_eq!(document.served.len(), 1);
    assert_eq!(
        document.text().matches("<job>").count(),
        1,
        "{}",
        document.text()
    );
    roxmltree::Document::parse(&document.text()).unwrap();
    let failed = app
        .postings()
        .await
        .into_iter()
        .find(|r| r.board == INDEED_FEED && r.locale == "pt")
        .unwrap();
    assert_eq!(failed.status, "failed");
    let reason = failed.last_error.unwrap();
    assert!(
        reason.starts_with("left out of the Indeed feed: internal error: ")
            && reason.contains("no date for the year 10000"),
        "{reason}"
    );
    app.stop().await;
}

/// A new feed posting that passes its format's rules goes into the feed in
/// the intake's own commit: its one attempt is that check, recorded there,
/// with no claim by a board loop. A paused feed board's new postings wait
/// instead, and its board loop puts them in the feed once resumed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_feed_posting_goes_into_the_feed_at_intake_unless_its_board_is_paused() {
    let app = feed_app().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let rows = app.feed_rows("submitted", 1).await;
    // Counted with the board loops' attempts, as before intake made them.
    let counted = format!(
        "boardcast_attempts_total{{board=\"{INDEED_FEED}\",outcome=\"submitted\"}} {}",
        rows.len()
    );
    app.wait_for(
        "intake's feed submissions in the attempts metric",
        || async { app.metrics().await.contains(&counted).then_some(()) },
    )
    .await;
    for row in &rows {
        let history = boardcast::store::postings::attempts(&app.env.pool, row.id)
            .await
            .unwrap();
        assert_eq!(history.len(), 1, "{history:?}");
        let attempt = &history[0];
        assert_eq!(
            (attempt.operation.as_str(), attempt.outcome.as_str()),
            ("publish", "submitted")
        );
        assert!(
            attempt
                .detail
                .as_deref()
                .unwrap()
                .starts_with("checked at intake"),
            "{attempt:?}"
        );
        assert_eq!(row.attempts, 1, "{row:?}");
        assert_eq!(row.external_id.as_deref(), Some(row.reference.as_str()));
    }
    // In the document the crawler fetches, and posted by that fetch.
    let crawl = app.crawl().await;
    assert_eq!(crawl.report.accepted.len(), rows.len(), "{crawl:?}");
    app.feed_rows("posted", 1).await;

    let ops = |path: &str| {
        reqwest::Client::new()
            .post(format!(
                "{}/api/v1/boards/{INDEED_FEED}/{path}",
                app.ops_url
            ))
            .bearer_auth(crate::helpers::OPS_TOKEN)
    };
    let paused = ops("pause")
        .json(&json!({ "reason": "Indeed asked us to hold the feed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 200);
    let mut another = message("sales-account-executive.publish.json");
    another["job"]["id"] = json!("SAE-78");
    app.publish(another.to_string().as_bytes()).await;
    let waiting = app
        .wait_for("the paused board's new postings to be planned", || async {
            let rows: Vec<_> = app
                .postings()
                .await
                .into_iter()
                .filter(|r| r.board == INDEED_FEED && r.job_id == "SAE-78" && r.status != "skipped")
                .collect();
            (!rows.is_empty()).then_some(rows)
        })
        .await;
    for row in &waiting {
        assert_eq!(
            (row.status.as_str(), row.attempts),
            ("queued", 0),
            "{row:?}"
        );
    }

    let resumed = ops("resume").send().await.unwrap();
    assert_eq!(resumed.status(), 200);
    app.wait_for("the board loop to put them in the feed", || async {
        let rows = app.postings().await;
        rows.iter()
            .filter(|r| r.board == INDEED_FEED && r.job_id == "SAE-78" && r.status != "skipped")
            .all(|r| r.status == "submitted")
            .then_some(())
    })
    .await;
    for row in &waiting {
        let history = boardcast::store::postings::attempts(&app.env.pool, row.id)
            .await
            .unwrap();
        assert_eq!(history.len(), 1, "{history:?}");
        assert!(
            !history[0]
                .detail
                .as_deref()
                .unwrap()
                .starts_with("checked at intake"),
            "attempted by the board loop: {history:?}"
        );
    }
    app.stop().await;
}
