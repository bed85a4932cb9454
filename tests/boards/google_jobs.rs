//! Google for Jobs: the pure JSON-LD against golden files, the job page, and
//! the adapter against its sandbox twin over real HTTP — the twin's
//! Googlebot fetching job pages from a small page server in this test, which
//! renders them with the worker's own `job_pages::page_html`. No database or
//! broker.
//!
//! `UPDATE_GOLDEN=1 cargo test --test board_google_jobs golden` rewrites the golden files.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{BoardTwin, context, publish_samples, sample, settings};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use boardcast::boards::google_jobs::{
    self, GoogleJobs, ID, SCOPE, ServiceAccountClaims, json_ld, page_url, quota_reset,
};
use boardcast::boards::render::escape_html;
use boardcast::boards::{
    Board, BoardConfig, BoardError, CallLog, ErrorClass, PostingContext, Receipt,
};
use boardcast::feeds::job_pages::{PageLinks, page_html, sitemap_xml};
use boardcast::intake::message::{Job, Location, PayPeriod, Salary, Workplace};
use boardcast::plan::posting_reference;
use boardcast::sandbox::google_jobs::{
    self as twin_google, SERVICE_ACCOUNT, generate_private_key_pem, quota_used,
};
use boardcast::sandbox::{Faults, HeldPosting};
use secrecy::SecretString;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio_util::sync::CancellationToken;

/// The fixed `datePosted` of the golden files.
const FIRST_PUBLISHED: OffsetDateTime = datetime!(2026-11-23 09:00:00 UTC);
const REFERENCE: &str = "bcgj0000000000000001";

// ---------------------------------------------------------------------------
// Golden JSON-LD and the rules.

/// Every sample × every language: the JSON-LD matches its golden file, and
/// the twin's own check (Googlebot's rules) takes it.
#[test]
fn golden_json_ld() {
    let settings = settings();
    let languages = &settings.board(ID).expect("[boards.google_jobs]").languages;
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            assert!(languages.iter().any(|l| l == locale), "{locale} is served");
            let reference = posting_reference(&tenant, &job.id, locale);
            let posting = context(&job, ad, &reference, locale);
            let markup = json_ld(&posting, FIRST_PUBLISHED)
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            twin_google::check(&markup, FIRST_PUBLISHED)
                .unwrap_or_else(|e| panic!("the twin refuses {stem}.{locale}: {e}"));
            let rendered = serde_json::to_string_pretty(&markup).unwrap() + "\n";
            crate::support::golden(ID, &format!("{stem}.publish.{locale}.json"), &rendered);
            compared += 1;
        }
    }
    assert!(
        compared >= 10,
        "every sample variant is compared ({compared})"
    );
}

#[test]
fn required_and_recommended_properties() {
    let (_, job) = sample("account-executive");
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    let markup = json_ld(&posting, FIRST_PUBLISHED).unwrap();
    assert_eq!(markup["@context"], "https://schema.org/");
    assert_eq!(markup["@type"], "JobPosting");
    assert_eq!(markup["title"], job.ads["en"].title.as_str());
    assert_eq!(markup["datePosted"], "2026-11-23T09:00:00Z");
    assert_eq!(markup["validThrough"], "2027-01-31T23:59:59Z");
    assert_eq!(markup["employmentType"], "FULL_TIME");
    assert_eq!(markup["hiringOrganization"]["name"], "Northwind Traders");
    assert_eq!(
        markup["hiringOrganization"]["sameAs"],
        "https://northwind.example"
    );
    assert_eq!(markup["identifier"]["value"], REFERENCE);
    let places = markup["jobLocation"].as_array().unwrap();
    assert_eq!(places.len(), job.locations.len());
    assert_eq!(places[3]["address"]["addressCountry"], "GR");
    assert_eq!(places[3]["address"]["postalCode"], "105 57");
    assert_eq!(
        markup["baseSalary"],
        json!({"@type": "MonetaryAmount", "currency": "EUR", "value": {
            "@type": "QuantitativeValue", "minValue": 48000, "maxValue": 72000, "unitText": "YEAR"}})
    );
    // Hybrid is not remote for Google: no TELECOMMUTE.
    assert!(markup.get("jobLocationType").is_none());
    // Google recognises p, ul and li: headings become paragraphs.
    let description = markup["description"].as_str().unwrap();
    assert!(!description.contains("<h3>"), "{description}");
    assert!(description.contains("<ul><li>"), "{description}");
}

#[test]
fn a_remote_job_is_telecommute_with_applicant_countries() {
    let (_, job) = sample("sales-account-executive");
    assert_eq!(job.workplace, Workplace::Remote);
    let posting = context(&job, &job.ads["pt"], REFERENCE, "pt");
    let markup = json_ld(&posting, FIRST_PUBLISHED).unwrap();
    assert_eq!(markup["jobLocationType"], "TELECOMMUTE");
    assert_eq!(
        markup["applicantLocationRequirements"],
        json!([{"@type": "Country", "name": "PT"}])
    );
    assert!(markup.get("jobLocation").is_none(), "{markup:#}");
    // An EU job without a range is not refused (the directive allows "before the interview").
    assert!(markup.get("baseSalary").is_none());

    let mut many = job.clone();
    many.locations.push(Location {
        city: "Madrid".into(),
        region: None,
        country: "ES".into(),
        postal_code: None,
    });
    many.locations.push(many.locations[0].clone());
    let posting = context(&many, &many.ads["pt"], REFERENCE, "pt");
    let markup = json_ld(&posting, FIRST_PUBLISHED).unwrap();
    assert_eq!(
        markup["applicantLocationRequirements"],
        json!([{"@type": "Country", "name": "PT"}, {"@type": "Country", "name": "ES"}])
    );
}

#[test]
fn greek_and_portuguese_survive_byte_for_byte() {
    let (_, job) = sample("account-executive");
    for locale in ["el", "pt"] {
        let ad = &job.ads[locale];
        let posting = context(&job, ad, REFERENCE, locale);
        let markup = json_ld(&posting, FIRST_PUBLISHED).unwrap();
        assert_eq!(
            markup["title"].as_str().unwrap().as_bytes(),
            ad.title.as_bytes()
        );
        let description = markup["description"].as_str().unwrap();
        assert!(
            description.contains(&escape_html(&ad.summary)),
            "{description}"
        );
        for item in ad.responsibilities.iter().chain(&ad.requirements) {
            assert!(description.contains(&escape_html(item)), "{item}");
        }
        // And in the page: raw UTF-8, not \u escapes.
        let page = page_html(
            &posting,
            FIRST_PUBLISHED,
            &PageLinks::single("https://jobs.example/jobs/x", locale),
            true,
        )
        .unwrap();
        assert!(page.contains(&format!("\"title\": \"{}\"", ad.title)));
    }
    assert!(
        job.ads["el"]
            .title
            .chars()
            .any(|c| ('\u{370}'..='\u{3ff}').contains(&c))
    );
}

fn rule(job: &Job, locale: &str) -> BoardError {
    let posting = context(job, &job.ads[locale], REFERENCE, locale);
    let error = json_ld(&posting, FIRST_PUBLISHED).expect_err("a rule is broken");
    assert_eq!(error.class, ErrorClass::Rejected);
    assert_eq!(error.http_status, None);
    error
}

fn assert_names(error: &BoardError, words: &[&str]) {
    for word in words {
        assert!(
            error.message.contains(word),
            "\"{}\" should name {word}",
            error.message
        );
    }
}

#[test]
fn each_rule_broken_once_is_refused_by_name() {
    let (_, base) = sample("account-executive");

    let mut job = base.clone();
    job.ads.get_mut("en").unwrap().title = "  ".into();
    assert_names(&rule(&job, "en"), &["title is required"]);

    let mut job = base.clone();
    let ad = job.ads.get_mut("en").unwrap();
    ad.summary = String::new();
    ad.responsibilities.clear();
    ad.requirements.clear();
    ad.benefits.clear();
    assert_names(&rule(&job, "en"), &["description is required"]);

    let mut job = base.clone();
    let ad = job.ads.get_mut("en").unwrap();
    ad.summary = ad.title.clone();
    ad.responsibilities.clear();
    ad.requirements.clear();
    ad.benefits.clear();
    assert_names(
        &rule(&job, "en"),
        &["description must not be the same as title"],
    );

    let mut job = base.clone();
    job.company.name = " ".into();
    assert_names(&rule(&job, "en"), &["hiringOrganization.name is required"]);

    let mut job = base.clone();
    job.locations[1].country = "Germany".into();
    assert_names(
        &rule(&job, "en"),
        &[
            "jobLocation.address.addressCountry",
            "\"Germany\"",
            "alpha-2",
        ],
    );

    let mut job = base.clone();
    job.locations.clear();
    assert_names(&rule(&job, "en"), &["jobLocation is required"]);

    let mut job = base.clone();
    job.workplace = Workplace::Remote;
    job.locations.clear();
    assert_names(
        &rule(&job, "en"),
        &["applicantLocationRequirements is required", "TELECOMMUTE"],
    );

    let mut job = base.clone();
    job.valid_through = Some(datetime!(2026-11-01 00:00:00 UTC));
    assert_names(
        &rule(&job, "en"),
        &["validThrough 2026-11-01T00:00:00Z", "not after datePosted"],
    );

    let mut job = base.clone();
    job.salary = Some(Salary {
        currency: "EUR".into(),
        min: 0.0,
        max: 0.0,
        period: PayPeriod::Year,
    });
    assert_names(&rule(&job, "en"), &["baseSalary.value.maxValue is 0"]);
}

#[test]
fn pay_transparency_wants_a_range_where_the_law_does() {
    let (_, base) = sample("account-manager");
    assert!(
        json_ld(
            &context(&base, &base.ads["en"], REFERENCE, "en"),
            FIRST_PUBLISHED
        )
        .is_ok()
    );
    // Boston, MA, without a salary: not one of the states §5 names.
    let mut job = base.clone();
    job.salary = None;
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    assert!(json_ld(&posting, FIRST_PUBLISHED).is_ok());

    for (region, name) in [
        ("CA", "California (US-CA)"),
        ("Colorado", "Colorado (US-CO)"),
        ("wa", "Washington (US-WA)"),
        ("NY", "New York (US-NY)"),
    ] {
        let mut job = job.clone();
        job.locations[0].region = Some(region.into());
        assert_names(
            &rule(&job, "en"),
            &["baseSalary is required for Google for Jobs", name],
        );
    }
    let mut remote = job.clone();
    remote.workplace = Workplace::Remote;
    assert_names(
        &rule(&remote, "en"),
        &["baseSalary is required", "remote in the US"],
    );

    // A single amount is `value`, not a range.
    let mut single = base.clone();
    single.salary = Some(Salary {
        currency: "USD".into(),
        min: 35.5,
        max: 35.5,
        period: PayPeriod::Hour,
    });
    let posting = context(&single, &single.ads["en"], REFERENCE, "en");
    let markup = json_ld(&posting, FIRST_PUBLISHED).unwrap();
    assert_eq!(
        markup["baseSalary"]["value"],
        json!({"@type": "QuantitativeValue", "value": 35.5, "unitText": "HOUR"})
    );
}

// ---------------------------------------------------------------------------
// The page and the sitemap.

/// The JSON-LD of a served page.
fn page_json_ld(html: &str) -> Value {
    let open = "<script type=\"application/ld+json\">";
    let start = html.find(open).expect("a JSON-LD script") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("the JSON-LD parses")
}

#[test]
fn the_page_carries_the_json_ld_and_shows_what_it_marks_up() {
    let (_, job) = sample("account-executive");
    let posting = context(&job, &job.ads["de"], REFERENCE, "de");
    let url = "https://jobs.example/jobs/bcgj0000000000000001";
    let html = page_html(
        &posting,
        FIRST_PUBLISHED,
        &PageLinks::single(url, "de"),
        true,
    )
    .unwrap();
    assert_eq!(
        page_json_ld(&html),
        json_ld(&posting, FIRST_PUBLISHED).unwrap()
    );
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"de\">"));
    assert!(html.contains(&format!("<link rel=\"canonical\" href=\"{url}\">")));
    assert!(html.contains(&format!("<h1>{}</h1>", escape_html(&job.ads["de"].title))));
    assert!(html.contains("Northwind Traders"));
    assert!(html.contains("Athens, Attica, 105 57, GR"));
    assert!(html.contains("EUR 48000–72000 per year"));
    assert!(html.contains("2027-01-31T23:59:59Z"));
    assert!(html.contains("https://northwind.example/careers/AE-2026-014/apply"));

    // No text of the ad can close the script element.
    let mut hostile = job.clone();
    hostile.ads.get_mut("de").unwrap().summary =
        "Wir </script><script>alert(1)</script> suchen".into();
    let posting = context(&hostile, &hostile.ads["de"], REFERENCE, "de");
    let html = page_html(
        &posting,
        FIRST_PUBLISHED,
        &PageLinks::single(url, "de"),
        true,
    )
    .unwrap();
    assert_eq!(html.matches("</script>").count(), 1, "{html}");
    let markup = page_json_ld(&html);
    assert!(
        markup["description"]
            .as_str()
            .unwrap()
            .contains("&lt;/script&gt;")
    );

    // A page whose markup breaks a rule is not made.
    let mut broken = job.clone();
    broken.company.name = String::new();
    let posting = context(&broken, &broken.ads["de"], REFERENCE, "de");
    assert!(
        page_html(
            &posting,
            FIRST_PUBLISHED,
            &PageLinks::single(url, "de"),
            true
        )
        .is_err()
    );
}

#[test]
fn the_sitemap_lists_pages_with_lastmod() {
    let xml = sitemap_xml(&[
        (
            "https://jobs.example/jobs/a?x=1&y=2".to_owned(),
            datetime!(2026-11-23 09:00:00.5 UTC),
        ),
        ("https://jobs.example/jobs/b".to_owned(), FIRST_PUBLISHED),
    ]);
    assert_eq!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n  \
         <url><loc>https://jobs.example/jobs/a?x=1&amp;y=2</loc><lastmod>2026-11-23T09:00:00Z</lastmod></url>\n  \
         <url><loc>https://jobs.example/jobs/b</loc><lastmod>2026-11-23T09:00:00Z</lastmod></url>\n\
         </urlset>\n"
    );
}

/// The worker's public router takes the two routes, and the ops router
/// its dashboard's `/jobs/{tenant}/{job}` (axum refuses conflicting routes when built).
#[tokio::test]
async fn the_public_router_serves_job_pages_and_the_sitemap() {
    use boardcast::ops::http::{OpsState, public_router, router};
    let settings = settings();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://nobody@127.0.0.1:1/none")
        .unwrap();
    let state = OpsState {
        pool,
        settings: Arc::new(settings.clone()),
        wakers: Arc::new(boardcast::dispatch::Wakers::new(
            Vec::<String>::new().iter(),
        )),
        metrics: Arc::default(),
        consuming: Arc::default(),
        feeds: boardcast::feeds::Feeds::default(),
    };
    let _ = router(state.clone());
    let _ = public_router(state);
    assert_eq!(
        page_url(&settings.public_url(), REFERENCE),
        format!("http://{}/jobs/{REFERENCE}", settings.ops.public_listen)
    );
}

// ---------------------------------------------------------------------------
// A page server for the twin's Googlebot.

#[derive(Clone)]
enum Page {
    Live { job: Box<Job>, locale: String },
    Gone,
    Raw(u16, String),
}

type Pages = Arc<Mutex<BTreeMap<String, Page>>>;

struct PageServer {
    url: String,
    pages: Pages,
    stop: CancellationToken,
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn serve_page(
    State((pages, base)): State<(Pages, String)>,
    Path(reference): Path<String>,
) -> Response {
    let page = pages.lock().unwrap().get(&reference).cloned();
    match page {
        Some(Page::Live { job, locale }) => {
            let posting = PostingContext {
                reference: &reference,
                tenant_id: "northwind",
                locale: &locale,
                job: &job,
                ad: &job.ads[&locale],
                external_id: None,
                live_at_board: true,
                may_exist: false,
                idempotency_key: uuid::Uuid::nil(),
                first_published_at: None,
            };
            match page_html(
                &posting,
                FIRST_PUBLISHED,
                &PageLinks::single(&page_url(&base, &reference), &locale),
                true,
            ) {
                Ok(html) => {
                    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
                }
                Err(_) => StatusCode::NOT_FOUND.into_response(),
            }
        }
        Some(Page::Gone) => StatusCode::GONE.into_response(),
        Some(Page::Raw(status, html)) => (
            StatusCode::from_u16(status).unwrap(),
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl PageServer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let pages: Pages = Arc::default();
        let app = axum::Router::new()
            .route("/jobs/{reference}", axum::routing::get(serve_page))
            .with_state((pages.clone(), url.clone()));
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stopped.cancelled().await })
                .await
                .unwrap();
        });
        Self { url, pages, stop }
    }

    fn set(&self, reference: &str, page: Page) {
        self.pages
            .lock()
            .unwrap()
            .insert(reference.to_owned(), page);
    }

    fn live(&self, reference: &str, job: &Job, locale: &str) {
        self.set(
            reference,
            Page::Live {
                job: Box::new(job.clone()),
                locale: locale.to_owned(),
            },
        );
    }

    fn page_url(&self, reference: &str) -> String {
        page_url(&self.url, reference)
    }
}

/// The twin, a page server, and the adapter pointed at both.
struct Setup {
    twin: BoardTwin,
    pages: PageServer,
    board: GoogleJobs,
}

/// The adapter as config/default.toml builds it, with these options and
/// credentials laid over it, pages under `pages`.
fn adapter(
    twin: &BoardTwin,
    pages: &str,
    options: &[(&str, &str)],
    credentials: &[(&str, &str)],
) -> GoogleJobs {
    let mut settings = settings();
    let board = settings.boards.get_mut("google_jobs").unwrap();
    board.base_url = twin.adapter_url.clone();
    board.token_url = boardcast::sandbox::token_url_at(&twin.url, ID);
    board.credentials.insert(
        "private_key_pem".into(),
        SecretString::from(twin.credential("private_key_pem")),
    );
    for (name, value) in credentials {
        board
            .credentials
            .insert((*name).to_owned(), SecretString::from(*value));
    }
    for (name, value) in options {
        board
            .options
            .insert((*name).to_owned(), (*value).to_owned());
    }
    let config = BoardConfig {
        id: ID,
        tenant: None,
        settings: board,
        http: boardcast::boards::http_client(),
        request_timeout: Duration::from_secs(5),
        concurrency: 4,
    };
    GoogleJobs::new(&config, pages).expect("building the Google for Jobs adapter")
}

async fn setup() -> Setup {
    setup_with(&[]).await
}

async fn setup_with(options: &[(&str, &str)]) -> Setup {
    let twin = BoardTwin::start(ID).await;
    let pages = PageServer::start().await;
    let board = adapter(&twin, &pages.url, options, &[]);
    Setup { twin, pages, board }
}

impl Setup {
    async fn publish(&self, posting: &PostingContext<'_>) -> Result<Receipt, BoardError> {
        self.board.publish(posting, &mut CallLog::default()).await
    }
    async fn update(&self, posting: &PostingContext<'_>) -> Result<Receipt, BoardError> {
        self.board.update(posting, &mut CallLog::default()).await
    }
    async fn withdraw(&self, posting: &PostingContext<'_>) -> Result<Receipt, BoardError> {
        self.board.withdraw(posting, &mut CallLog::default()).await
    }
    async fn confirm(
        &self,
        posting: &PostingContext<'_>,
        task: &str,
    ) -> Result<Receipt, BoardError> {
        self.board
            .confirm(posting, task, &mut CallLog::default())
            .await
    }
    fn tokens_issued(&self) -> u64 {
        self.twin.sandbox.tokens_issued(ID)
    }
}

fn northwind() -> Job {
    sample("account-executive").1
}

// ---------------------------------------------------------------------------
// The adapter against the twin.

#[tokio::test]
async fn config_section_and_registration() {
    let settings = settings();
    let board = settings.board(ID).expect("[boards.google_jobs]");
    assert!(board.enabled);
    assert_eq!(board.base_url, "http://127.0.0.1:8650/google-jobs");
    assert_eq!(board.languages, ["en", "es", "de", "fr", "el", "pt"]);
    assert!(board.countries.is_empty());
    assert_eq!(board.options["client_email"], SERVICE_ACCOUNT);
    assert_eq!(
        boardcast::boards::mechanism(ID),
        Some(google_jobs::MECHANISM)
    );
    assert!(
        boardcast::sandbox::TWINS
            .iter()
            .any(|twin| twin.board == ID)
    );
    let twin = BoardTwin::start(ID).await;
    assert_eq!(twin.board.id(), ID);
    assert_eq!(twin.board.limits().requests_per_minute, Some(380));
    assert!(
        twin.credential("private_key_pem")
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
}

#[tokio::test]
async fn publish_update_withdraw_and_back() {
    let s = setup().await;
    let job = northwind();
    s.pages.live(REFERENCE, &job, "en");
    let mut posting = context(&job, &job.ads["en"], REFERENCE, "en");
    let url = s.pages.page_url(REFERENCE);

    // Notified, not yet indexed: Search Console confirms it.
    let receipt = s.publish(&posting).await.unwrap();
    assert_eq!(
        receipt,
        Receipt::Accepted {
            task: url.clone(),
            external_id: Some(url.clone())
        }
    );
    assert_eq!(
        s.confirm(&posting, &url).await.unwrap(),
        Receipt::Live {
            external_id: url.clone(),
            url: Some(url.clone())
        }
    );
    let held = s.twin.only();
    assert_eq!(held.reference, REFERENCE);
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));
    assert_eq!(held.url, url);
    assert_eq!(held.language, "en");
    assert_eq!(held.content, json_ld(&posting, FIRST_PUBLISHED).unwrap());

    // An update: the page shows the new revision; Google is told again.
    let mut revised = job.clone();
    revised.ads.get_mut("en").unwrap().title = "Senior Account Executive".into();
    s.pages.live(REFERENCE, &revised, "en");
    posting.external_id = Some(&url);
    posting.live_at_board = true;
    let revised_posting = PostingContext {
        job: &revised,
        ad: &revised.ads["en"],
        ..posting
    };
    s.update(&revised_posting).await.unwrap();
    let held = s.twin.only();
    assert_eq!((held.creates, held.updates), (1, 1));
    assert_eq!(held.title, "Senior Account Executive");

    // Withdraw: the page answers 410, then URL_DELETED.
    s.pages.set(REFERENCE, Page::Gone);
    assert_eq!(s.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let held = s.twin.only();
    assert!(!held.live);
    assert_eq!(held.withdrawals, 1);
    assert_eq!(s.twin.live_copies(REFERENCE), 0);

    // An update after the withdrawal puts it back.
    s.pages.live(REFERENCE, &revised, "en");
    let back = PostingContext {
        live_at_board: false,
        ..revised_posting
    };
    s.update(&back).await.unwrap();
    let held = s.twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 2, 1));
    assert_eq!(quota_used(&s.twin.sandbox), 4, "four publish calls");
    assert_eq!(s.board.quota().used, 4);
    assert_eq!(s.board.quota().limit, 200);
}

#[tokio::test]
async fn greek_and_portuguese_arrive_byte_for_byte() {
    let s = setup().await;
    let job = northwind();
    for (reference, locale) in [
        ("bcgj00000000000000el", "el"),
        ("bcgj00000000000000pt", "pt"),
    ] {
        s.pages.live(reference, &job, locale);
        let posting = context(&job, &job.ads[locale], reference, locale);
        s.publish(&posting).await.unwrap();
    }
    for held in s.twin.held() {
        let locale = held.language.as_str();
        let ad = &job.ads[locale];
        assert_eq!(held.title.as_bytes(), ad.title.as_bytes());
        let description = held.content["description"].as_str().unwrap();
        assert!(description.contains(&escape_html(&ad.summary)));
    }
    assert_eq!(s.twin.held().len(), 2);
}

#[tokio::test]
async fn a_remote_job_reaches_google_as_telecommute() {
    let s = setup().await;
    let (_, job) = sample("sales-account-executive");
    s.pages.live(REFERENCE, &job, "pt");
    s.publish(&context(&job, &job.ads["pt"], REFERENCE, "pt"))
        .await
        .unwrap();
    let held = s.twin.only();
    assert_eq!(held.content["jobLocationType"], "TELECOMMUTE");
    assert_eq!(
        held.content["applicantLocationRequirements"][0]["name"],
        "PT"
    );
}

#[tokio::test]
async fn a_publish_that_may_have_landed_makes_no_second_copy() {
    let s = setup().await;
    let job = northwind();
    s.pages.live(REFERENCE, &job, "en");
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    s.publish(&posting).await.unwrap();
    let again = PostingContext {
        may_exist: true,
        ..posting
    };
    s.publish(&again).await.unwrap();
    let held = s.twin.only();
    assert_eq!((held.creates, held.updates), (1, 1));
    assert_eq!(s.twin.live_copies(REFERENCE), 1);
}

#[tokio::test]
async fn withdrawing_what_google_never_heard_of_costs_nothing() {
    let s = setup().await;
    let job = northwind();
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    assert_eq!(s.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(s.twin.requests(), 0);
    assert_eq!(s.tokens_issued(), 0);
    // After a lost answer it may be there: URL_DELETED is sent (and is fine
    // for a page Google does not hold).
    s.pages.set(REFERENCE, Page::Gone);
    let unsure = PostingContext {
        may_exist: true,
        ..posting
    };
    assert_eq!(s.withdraw(&unsure).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(s.twin.requests(), 1);
}

#[tokio::test]
async fn a_broken_rule_sends_nothing() {
    let s = setup().await;
    let mut job = northwind();
    job.valid_through = Some(datetime!(2026-01-31 23:59:59 UTC));
    s.pages.live(REFERENCE, &job, "en");
    let error = s
        .publish(&context(&job, &job.ads["en"], REFERENCE, "en"))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert_names(&error, &["validThrough 2026-01-31T23:59:59Z", "expired"]);
    assert_eq!(s.twin.requests(), 0);
    assert_eq!(s.tokens_issued(), 0);
    assert_eq!(s.board.quota().used, 0, "no quota spent");
}

/// Googlebot's own rules, on pages the adapter did not make.
#[tokio::test]
async fn the_twin_judges_the_page_on_its_own() {
    let s = setup().await;
    let job = northwind();
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    let good = json_ld(&posting, FIRST_PUBLISHED).unwrap();
    let page = |markup: &Value| {
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><script type=\"application/ld+json\">{markup}</script></head><body>ad</body></html>"
        )
    };
    let with = |change: &dyn Fn(&mut Value)| {
        let mut markup = good.clone();
        change(&mut markup);
        page(&markup)
    };
    let cases: Vec<(String, &str)> = vec![
        (
            with(&|m| {
                m.as_object_mut().unwrap().remove("hiringOrganization");
            }),
            "Missing field \"hiringOrganization\"",
        ),
        (
            with(&|m| m["description"] = m["title"].clone()),
            "Invalid value in field \"description\"",
        ),
        (
            with(&|m| {
                m.as_object_mut().unwrap().remove("jobLocation");
            }),
            "Missing field \"jobLocation\"",
        ),
        (
            with(&|m| {
                m.as_object_mut().unwrap().remove("jobLocation");
                m["jobLocationType"] = json!("TELECOMMUTE");
            }),
            "Missing field \"applicantLocationRequirements\"",
        ),
        (
            with(&|m| m["validThrough"] = json!("2020-01-01")),
            "Invalid value in field \"validThrough\"",
        ),
        (
            with(&|m| m["baseSalary"]["value"]["unitText"] = json!("ANNUALLY")),
            "Invalid value in field \"baseSalary.value.unitText\"",
        ),
        (
            with(&|m| {
                m["baseSalary"]["value"]["minValue"] = json!(90000);
            }),
            "minValue",
        ),
        (
            with(&|m| m["jobLocation"][0]["address"]["addressCountry"] = json!("Spain")),
            "addressCountry",
        ),
        (
            with(&|m| m["datePosted"] = json!("yesterday")),
            "Invalid value in field \"datePosted\"",
        ),
        (
            "<html><body>no markup</body></html>".to_owned(),
            "no JobPosting markup",
        ),
    ];
    for (html, expected) in cases {
        s.pages.set(REFERENCE, Page::Raw(200, html));
        let error = s.publish(&posting).await.unwrap_err();
        assert_eq!(error.class, ErrorClass::Rejected, "{}", error.message);
        assert_eq!(error.http_status, Some(400));
        assert_names(&error, &["INVALID_ARGUMENT", expected]);
    }
    assert!(s.twin.held().is_empty());

    // The page must exist for URL_UPDATED...
    s.pages.set(REFERENCE, Page::Raw(404, String::new()));
    let error = s.publish(&posting).await.unwrap_err();
    assert_names(&error, &["answered HTTP 404"]);
    // ...and be gone for URL_DELETED.
    s.pages.live(REFERENCE, &job, "en");
    s.publish(&posting).await.unwrap();
    let url = s.pages.page_url(REFERENCE);
    let published = PostingContext {
        external_id: Some(&url),
        live_at_board: true,
        ..posting
    };
    let error = s.withdraw(&published).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert_names(&error, &["URL_DELETED", "answers HTTP 200"]);
    assert!(s.twin.only().live);
}

/// A token as a test signs it, for hand-made requests.
async fn token_reply(s: &Setup, claims: &ServiceAccountClaims, pem: &str) -> (u16, Value) {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let assertion = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &key,
    )
    .unwrap();
    let reply = reqwest::Client::new()
        .post(s.twin.board_url("/token"))
        .form(&[
            ("grant_type", google_jobs::JWT_BEARER),
            ("assertion", &assertion),
        ])
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.json().await.unwrap())
}

fn claims(s: &Setup) -> ServiceAccountClaims {
    let now = jsonwebtoken::get_current_timestamp();
    ServiceAccountClaims {
        iss: SERVICE_ACCOUNT.to_owned(),
        scope: SCOPE.to_owned(),
        aud: s.twin.board_url("/token"),
        iat: now,
        exp: now + 3600,
    }
}

#[tokio::test]
async fn the_token_endpoint_checks_the_assertion() {
    let s = setup().await;
    let pem = s.twin.credential("private_key_pem").to_owned();
    let (status, body) = token_reply(&s, &claims(&s), &pem).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().unwrap().to_owned();

    let cases: Vec<(ServiceAccountClaims, &str, &str)> = vec![
        (
            ServiceAccountClaims {
                iss: "someone@else.iam.gserviceaccount.com".into(),
                ..claims(&s)
            },
            "invalid_grant",
            "account not found",
        ),
        (
            ServiceAccountClaims {
                scope: "https://www.googleapis.com/auth/cloud-platform".into(),
                ..claims(&s)
            },
            "invalid_scope",
            "indexing",
        ),
        (
            ServiceAccountClaims {
                aud: "https://oauth2.example/token".into(),
                ..claims(&s)
            },
            "invalid_grant",
            "aud",
        ),
        (
            ServiceAccountClaims {
                exp: claims(&s).iat + 7200,
                ..claims(&s)
            },
            "invalid_grant",
            "short-lived",
        ),
        (
            ServiceAccountClaims {
                iat: claims(&s).iat - 7200,
                exp: claims(&s).iat - 3600,
                ..claims(&s)
            },
            "invalid_grant",
            "short-lived",
        ),
    ];
    for (claims, error, words) in cases {
        let (status, body) = token_reply(&s, &claims, &pem).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], error, "{body}");
        assert!(
            body["error_description"].as_str().unwrap().contains(words),
            "{body}"
        );
    }
    let (status, body) = token_reply(&s, &claims(&s), &generate_private_key_pem()).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Invalid JWT Signature."))
    );

    // The Indexing API itself: a hand-made body with an unknown type.
    let reply = reqwest::Client::new()
        .post(s.twin.board_url("/v3/urlNotifications:publish"))
        .bearer_auth(&token)
        .json(&json!({"url": s.pages.page_url(REFERENCE), "type": "URL_CHANGED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("url_notification.type")
    );
    // Without a token.
    let reply = reqwest::Client::new()
        .post(s.twin.board_url("/v3/urlNotifications:publish"))
        .json(&json!({"url": s.pages.page_url(REFERENCE), "type": "URL_UPDATED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_token_is_fetched_once_and_refreshed_once_on_401() {
    let s = setup().await;
    let job = northwind();
    for (i, locale) in ["en", "es", "de"].into_iter().enumerate() {
        let reference = format!("bcgj000000000000000{i}");
        s.pages.live(&reference, &job, locale);
        s.publish(&context(&job, &job.ads[locale], &reference, locale))
            .await
            .unwrap();
    }
    assert_eq!(s.tokens_issued(), 1, "one token for every call");
    assert_eq!(s.twin.held().len(), 3);

    // Google expires it early: one 401, one fresh token, the call goes through.
    s.twin.sandbox.expire_tokens(ID);
    s.pages.live("bcgj00000000000000fr", &job, "fr");
    s.publish(&context(&job, &job.ads["fr"], "bcgj00000000000000fr", "fr"))
        .await
        .unwrap();
    assert_eq!(s.tokens_issued(), 2);
    assert_eq!(s.twin.held().len(), 4);
    assert_eq!(
        s.board.quota().used,
        4,
        "the refused call was not counted twice"
    );
}

#[tokio::test]
async fn a_wrong_key_is_an_auth_failure() {
    let s = setup().await;
    let job = northwind();
    s.pages.live(REFERENCE, &job, "en");
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    let other_key = generate_private_key_pem();
    let wrong = adapter(
        &s.twin,
        &s.pages.url,
        &[],
        &[("private_key_pem", &other_key)],
    );
    let error = wrong
        .publish(&posting, &mut CallLog::default())
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth);
    assert_eq!(error.http_status, Some(400));
    assert_names(&error, &["Invalid JWT Signature", SERVICE_ACCOUNT]);
    assert!(!error.message.contains("PRIVATE KEY"));
    assert_eq!(s.twin.requests(), 0);
    assert_eq!(wrong.quota().used, 0, "a refused token spends no quota");

    let garbage = adapter(
        &s.twin,
        &s.pages.url,
        &[],
        &[("private_key_pem", "not a key")],
    );
    let error = garbage
        .publish(&posting, &mut CallLog::default())
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth);
    assert_names(&error, &["private_key_pem is not an RSA private key"]);

    let stranger = adapter(
        &s.twin,
        &s.pages.url,
        &[("client_email", "stranger@elsewhere.iam.gserviceaccount.com")],
        &[],
    );
    let error = stranger
        .publish(&posting, &mut CallLog::default())
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth);
    assert_names(&error, &["account not found"]);
    assert!(s.twin.held().is_empty());
}

/// `retry_after` is the time from `now` to the next Pacific midnight (give or take the test's own run).
fn assert_until_reset(retry_after: Option<Duration>, now: OffsetDateTime) {
    let wait = retry_after.expect("a wait until the reset");
    let until_reset = (quota_reset(now) - now).unsigned_abs();
    assert!(
        wait.abs_diff(until_reset) < Duration::from_secs(5),
        "{wait:?} vs {until_reset:?}"
    );
    assert!(wait <= Duration::from_secs(25 * 3600));
}

#[tokio::test]
async fn the_daily_quota_is_kept_without_calling_google() {
    let s = setup_with(&[("daily_quota", "2")]).await;
    let job = northwind();
    s.pages.live(REFERENCE, &job, "en");
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    s.publish(&posting).await.unwrap();
    s.publish(&posting).await.unwrap();
    let requests = s.twin.requests();
    assert_eq!(requests, 2);

    let error = s.publish(&posting).await.unwrap_err();
    let now = OffsetDateTime::now_utc();
    assert_eq!(error.class, ErrorClass::Throttled);
    assert_eq!(error.http_status, None);
    assert_names(
        &error,
        &["quota of 2 publish calls a day", "midnight Pacific"],
    );
    assert_until_reset(error.retry_after, now);
    assert_eq!(s.twin.requests(), requests, "nothing sent");
    // Withdrawals count too.
    s.pages.set(REFERENCE, Page::Gone);
    let url = s.pages.page_url(REFERENCE);
    let live = PostingContext {
        external_id: Some(&url),
        ..posting
    };
    assert_eq!(
        s.withdraw(&live).await.unwrap_err().class,
        ErrorClass::Throttled
    );
    assert_eq!(s.twin.requests(), requests);
    let quota = s.board.quota();
    assert_eq!((quota.used, quota.limit), (2, 2));
    assert_eq!(quota.resets_at, quota_reset(OffsetDateTime::now_utc()));
}

#[tokio::test]
async fn googles_own_daily_quota_is_throttled_until_midnight_pacific() {
    // A project granted more than Google's twin allows: the twin says no first.
    let s = setup_with(&[("daily_quota", "1000")]).await;
    let job = northwind();
    s.pages.live(REFERENCE, &job, "en");
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    for _ in 0..twin_google::DAILY_QUOTA {
        s.publish(&posting).await.unwrap();
    }
    assert_eq!(quota_used(&s.twin.sandbox), 200);
    let error = s.publish(&posting).await.unwrap_err();
    let now = OffsetDateTime::now_utc();
    assert_eq!(error.class, ErrorClass::Throttled);
    assert_eq!(error.http_status, Some(429));
    assert_names(&error, &["RESOURCE_EXHAUSTED", "per day"]);
    assert_until_reset(error.retry_after, now);
    // The adapter now knows the day is spent: no further call.
    let requests = s.twin.requests();
    let error = s.publish(&posting).await.unwrap_err();
    assert_eq!(
        (error.class, error.http_status),
        (ErrorClass::Throttled, None)
    );
    assert_eq!(s.twin.requests(), requests);
    assert_eq!(s.twin.only().updates, 199);
}

#[tokio::test]
async fn transient_ambiguous_and_throttled_answers() {
    let s = setup().await;
    let job = northwind();
    s.pages.live(REFERENCE, &job, "en");
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");

    for (status, class) in [
        (503, ErrorClass::Transient),
        (500, ErrorClass::Ambiguous),
        (502, ErrorClass::Ambiguous),
    ] {
        s.twin.faults(Faults {
            fail_times: 1,
            fail_status: status,
            ..Faults::default()
        });
        let error = s.publish(&posting).await.unwrap_err();
        assert_eq!((error.class, error.http_status), (class, Some(status)));
    }
    s.twin.faults(Faults {
        throttle_times: 1,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let error = s.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Throttled);
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
    assert!(s.twin.held().is_empty(), "nothing changed meanwhile");

    // Healed: taken once.
    s.publish(&posting).await.unwrap();
    let held: HeldPosting = s.twin.only();
    assert_eq!((held.creates, held.updates), (1, 0));
}

#[tokio::test]
async fn an_unreachable_board_is_transient_and_costs_no_quota() {
    let s = setup().await;
    let job = northwind();
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    let mut settings = settings();
    let board = settings.boards.get_mut("google_jobs").unwrap();
    board.base_url = "http://127.0.0.1:9/google-jobs".into();
    board.credentials.insert(
        "private_key_pem".into(),
        SecretString::from(s.twin.credential("private_key_pem")),
    );
    let config = BoardConfig {
        id: ID,
        tenant: None,
        settings: board,
        http: boardcast::boards::http_client(),
        request_timeout: Duration::from_secs(5),
        concurrency: 4,
    };
    let nowhere = GoogleJobs::new(&config, &s.pages.url).unwrap();
    let error = nowhere
        .publish(&posting, &mut CallLog::default())
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Transient);
    assert_eq!(nowhere.quota().used, 0);
}

/// Issue 12 finding 2: a validThrough past 9999-12-31 in UTC panicked.
#[test]
fn a_valid_through_past_the_year_9999_is_refused_not_a_panic() {
    let (_, mut job) = sample("account-executive");
    job.valid_through = Some(datetime!(9999-12-31 23:00:00 -5));
    assert_names(&rule(&job, "en"), &["validThrough", "year 9999"]);
}

/// Issue 13: one canonical page per job. Every language variant's page
/// names the job's canonical page and lists each variant as an hreflang
/// alternate (with x-default), instead of calling itself canonical.
#[test]
fn language_variants_name_one_canonical_page_and_each_other() {
    let (_, job) = sample("account-executive");
    let posting = context(&job, &job.ads["es"], REFERENCE, "es");
    let (en, es) = (
        "https://jobs.example/jobs/bcen0000000000000001",
        "https://jobs.example/jobs/bces0000000000000001",
    );
    let links = PageLinks {
        url: es.to_owned(),
        canonical: en.to_owned(),
        alternates: vec![
            ("en".to_owned(), en.to_owned()),
            ("es".to_owned(), es.to_owned()),
        ],
    };
    let html = page_html(&posting, FIRST_PUBLISHED, &links, true).unwrap();
    assert!(
        html.contains(&format!("<link rel=\"canonical\" href=\"{en}\">")),
        "{html}"
    );
    assert!(
        !html.contains(&format!("<link rel=\"canonical\" href=\"{es}\">")),
        "{html}"
    );
    for (lang, url) in [("en", en), ("es", es), ("x-default", en)] {
        assert!(
            html.contains(&format!(
                "<link rel=\"alternate\" hreflang=\"{lang}\" href=\"{url}\">"
            )),
            "{lang}: {html}"
        );
    }
    assert_eq!(html.matches("application/ld+json").count(), 1);

    // A job page for a job Google was not sent carries no JobPosting markup.
    let html = page_html(&posting, FIRST_PUBLISHED, &links, false).unwrap();
    assert!(!html.contains("application/ld+json"), "{html}");
    assert!(html.contains("<h1>"), "{html}");
}

/// Issue 13: a 200 from the Indexing API means Google was notified, not that
/// it indexed a valid page. The posting stays accepted (`submitted`) until
/// Search Console's URL Inspection API says the page is indexed with a valid
/// job posting; an invalid rich result fails it with Google's words.
#[tokio::test]
async fn notified_is_not_indexed_until_url_inspection_confirms() {
    let s = setup().await;
    let job = northwind();
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    let url = s.pages.page_url(REFERENCE);

    // Never notified: Google does not know the URL yet.
    assert_eq!(s.confirm(&posting, &url).await.unwrap(), Receipt::Pending);

    s.pages.live(REFERENCE, &job, "en");
    let receipt = s.publish(&posting).await.unwrap();
    assert!(
        matches!(&receipt, Receipt::Accepted { task, .. } if *task == url),
        "{receipt:?}"
    );
    assert_eq!(
        s.confirm(&posting, &url).await.unwrap(),
        Receipt::Live {
            external_id: url.clone(),
            url: Some(url.clone())
        }
    );

    // Google re-crawls a page whose markup now breaks a rule: the rich
    // result fails, and the posting with it, naming the property.
    let html = page_html(
        &context(&job, &job.ads["en"], REFERENCE, "en"),
        FIRST_PUBLISHED,
        &PageLinks::single(&url, "en"),
        true,
    )
    .unwrap()
    .replace("\"name\": \"Northwind Traders\"", "\"name\": \"\"");
    s.pages.set(REFERENCE, Page::Raw(200, html));
    let error = s.confirm(&posting, &url).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Rejected, "{error:?}");
    assert!(
        error.message.contains("job posting markup is invalid"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("hiringOrganization"),
        "{}",
        error.message
    );

    // The page is gone: Googlebot cannot read it.
    s.pages.set(REFERENCE, Page::Raw(404, String::new()));
    let error = s.confirm(&posting, &url).await.unwrap_err();
    assert!(error.message.contains("NOT_FOUND"), "{}", error.message);
}

/// Issue 13: Google answers 403 to a site not approved for the Indexing
/// API; the error says so (and stops the board, not the postings).
#[tokio::test]
async fn a_403_says_the_site_is_not_approved_for_the_indexing_api() {
    let s = setup().await;
    let job = northwind();
    s.pages.live(REFERENCE, &job, "en");
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    s.twin.faults(Faults {
        fail_times: 1,
        fail_status: 403,
        ..Faults::default()
    });
    let error = s.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert_eq!(error.http_status, Some(403));
    assert!(
        error.message.contains("not approved for the Indexing API"),
        "{}",
        error.message
    );
}

/// Golden requests for every operation the adapter sends besides the page:
/// the notification of a publish/update (`URL_UPDATED`), of a withdrawal
/// (`URL_DELETED`), and the confirmation's URL Inspection request.
#[test]
fn golden_requests_for_every_operation() {
    let url = page_url("https://boardcast.example", REFERENCE);
    for (operation, kind) in [
        ("publish", google_jobs::NotificationType::UrlUpdated),
        ("withdraw", google_jobs::NotificationType::UrlDeleted),
    ] {
        let body = google_jobs::UrlNotification {
            url: url.clone(),
            kind,
        };
        crate::support::golden(
            ID,
            &format!("notification.{operation}.json"),
            &serde_json::to_string_pretty(&body).unwrap(),
        );
    }
    let inspection = google_jobs::InspectionRequest {
        inspection_url: url,
        site_url: "https://boardcast.example/".into(),
        language_code: "en-US".into(),
    };
    crate::support::golden(
        ID,
        "inspection.confirm.json",
        &serde_json::to_string_pretty(&inspection).unwrap(),
    );
}

/// The inspection is of a URL inside the Search Console property the
/// service account may read (option `site_url`); another property's
/// answer is 403, which stops the board and names the property.
#[tokio::test]
async fn an_inspection_outside_the_property_is_refused_naming_it() {
    let s = setup_with(&[("site_url", "https://other.example/")]).await;
    let job = northwind();
    s.pages.live(REFERENCE, &job, "en");
    let posting = context(&job, &job.ads["en"], REFERENCE, "en");
    s.publish(&posting).await.unwrap();
    let error = s
        .confirm(&posting, &s.pages.page_url(REFERENCE))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert_eq!(error.http_status, Some(403));
    assert!(
        error.message.contains("https://other.example/"),
        "{}",
        error.message
    );
}
