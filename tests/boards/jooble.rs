//! Jooble's XML feed: golden documents for the samples, the format's rules,
//! JoobleBot's own checks, and one crawl through the sandbox. No database
//! or broker.
//!
//! `UPDATE_GOLDEN=1 cargo test --test board_jooble` rewrites the golden files.

use crate::support::{context, publish_samples, sample};
use boardcast::boards::feed::{FeedEntry, FeedFormat};
use boardcast::boards::jooble::{Jooble, jooble_date};
use boardcast::boards::render::escape_html;
use boardcast::boards::{PostingContext, Receipt};
use boardcast::feeds::job_pages::JobPages;
use boardcast::intake::message::primary_language;
use boardcast::plan::posting_reference;
use boardcast::sandbox::jooble::{FEED, check_at};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

const BOARD: &str = "jooble";

/// Our public URL in these tests: job pages are `<it>/jobs/<reference>`.
const PUBLIC_URL: &str = "https://boardcast.example";

fn jooble() -> Jooble {
    Jooble {
        pages: JobPages::new(PUBLIC_URL),
    }
}

fn entry(posting: PostingContext<'_>) -> FeedEntry<'_> {
    FeedEntry {
        posting,
        first_published: datetime!(2026-11-20 09:00:00 UTC),
        updated: datetime!(2026-11-23 10:00:00 UTC),
    }
}

/// The languages `config/default.toml` gives Jooble.
fn languages() -> Vec<String> {
    crate::support::settings()
        .board(BOARD)
        .expect("[boards.jooble]")
        .languages
        .clone()
}

#[test]
fn golden_documents() {
    let languages = languages();
    assert_eq!(languages.len(), 6, "Jooble serves all six: {languages:?}");
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let item = jooble()
                .items(&entry(context(&job, ad, &reference, locale)))
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            crate::support::golden(
                BOARD,
                &format!("{stem}.publish.{locale}.xml"),
                &jooble().document(&[item]),
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 10);
}

#[test]
fn jooblebot_takes_every_sample_byte_for_byte() {
    let mut items = Vec::new();
    let mut expected = Vec::new();
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            let reference = posting_reference(&tenant, &job.id, locale);
            items.push(
                jooble()
                    .items(&entry(context(&job, ad, &reference, locale)))
                    .unwrap(),
            );
            expected.push((stem.clone(), locale.clone(), reference, job.clone()));
        }
    }
    let document = jooble().document(&items);
    let checked = check_at(document.as_bytes(), date!(2026 - 11 - 24));
    assert_eq!(checked.document_error, None);
    assert_eq!(checked.items.len(), expected.len());
    for (item, (stem, locale, reference, job)) in checked.items.iter().zip(&expected) {
        let ad = &job.ads[locale];
        assert_eq!(item.problem, None, "{stem}.{locale}: {item:?}");
        assert_eq!(&item.reference, reference);
        assert_eq!(
            item.title, ad.title,
            "{stem}.{locale}: the title, byte for byte"
        );
        let description = &item.fields["description"];
        assert!(
            description.contains(&escape_html(&ad.summary)),
            "{stem}.{locale}"
        );
        for line in ad.responsibilities.iter().chain(&ad.requirements) {
            assert!(
                description.contains(&escape_html(line)),
                "{stem}.{locale}: the description is complete"
            );
        }
        assert_eq!(
            item.fields["link"],
            format!("{PUBLIC_URL}/jobs/{}", item.reference),
            "{stem}.{locale}: the job's page"
        );
        assert_eq!(item.fields["pubdate"], "20.11.2026");
        assert_eq!(item.fields["updated"], "23.11.2026");
        let expire = job.valid_through.unwrap().date();
        assert_eq!(item.fields["expire"], jooble_date(expire));
    }
    for text in [
        "Στέλεχος Λογαριασμών Πωλήσεων",
        "Executivo(a) de Contas de Vendas",
    ] {
        assert!(
            checked.items.iter().any(|i| i.title == text),
            "{text} arrives intact"
        );
    }
    let portuguese = checked
        .items
        .iter()
        .find(|i| i.title == "Executivo(a) de Contas de Vendas")
        .unwrap();
    assert!(
        portuguese.fields["description"].contains("satisfação do primeiro contacto ao pós-venda")
    );
}

#[test]
fn the_formats_rules_fail_by_name() {
    let (tenant, mut job) = sample("sales-account-executive");
    let reference = posting_reference(&tenant, &job.id, "pt");
    job.locations.clear();
    let error = jooble()
        .items(&entry(context(&job, &job.ads["pt"], &reference, "pt")))
        .unwrap_err();
    assert_eq!(
        error.message,
        "Jooble's <region> needs the job's location; the job has none"
    );
}

fn job_xml(id: &str, pubdate: &str, body: &str) -> String {
    format!(
        "<job id=\"{id}\"><link><![CDATA[https://x.example/{id}]]></link>{body}<pubdate>{pubdate}</pubdate></job>"
    )
}

#[test]
fn jooblebot_checks_on_its_own() {
    let crawled_on = date!(2026 - 11 - 23);
    let fresh = jooble_date(crawled_on - Duration::days(44));
    let stale = jooble_date(crawled_on - Duration::days(45));
    let ok = "<name><![CDATA[Chef]]></name><description><![CDATA[<p>Cook &amp; serve</p>]]></description>";
    let document = [
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<jobs>".to_owned(),
        job_xml("j1", &fresh, ok),
        job_xml("j2", &stale, ok),
        job_xml("j3", "2026-11-20", ok),
        job_xml(
            "j4",
            &fresh,
            "<description><![CDATA[<p>No name</p>]]></description>",
        ),
        job_xml(
            "j5",
            &fresh,
            "<name><![CDATA[Chef]]></name><description>Cook &amp; serve</description>",
        ),
        job_xml("j1", &fresh, ok),
        format!(
            "<job><link><![CDATA[https://x.example/0]]></link>{ok}<pubdate>{fresh}</pubdate></job>"
        ),
        format!(
            "<job id=\"j6\"><link><![CDATA[/jobs/6]]></link>{ok}<pubdate>{fresh}</pubdate></job>"
        ),
        job_xml(
            "j7",
            &fresh,
            &format!("{ok}<expire><![CDATA[31/12/2026]]></expire>"),
        ),
        "</jobs>".to_owned(),
    ]
    .concat();
    let checked = check_at(document.as_bytes(), crawled_on);
    assert_eq!(checked.document_error, None);
    let problems: Vec<(&str, &str)> = checked
        .items
        .iter()
        .map(|i| (i.reference.as_str(), i.problem.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        problems,
        [
            ("j1", ""),
            (
                "j2",
                &*format!(
                    "published {stale} (45 days before this crawl); Jooble indexes only jobs published less than 45 days before it first indexes the feed"
                )
            ),
            ("j3", "<pubdate> \"2026-11-20\" is not DD.MM.YYYY"),
            ("j4", "<name> is required"),
            (
                "j5",
                "<description> is not in CDATA; Jooble wants job content in CDATA"
            ),
            ("j1", "job id j1 appears twice"),
            ("", "<job> needs an id attribute"),
            ("j6", "<link> \"/jobs/6\" is not an absolute http(s) URL"),
            ("j7", "<expire> \"31/12/2026\" is not DD.MM.YYYY"),
        ]
    );
    assert_eq!(
        checked.items[0].fields["description"], "<p>Cook &amp; serve</p>",
        "CDATA arrives as written"
    );
    assert_eq!(
        checked.items[4].fields["description"], "Cook & serve",
        "XML references are resolved"
    );

    let broken = check_at(b"<jobs><job id=\"1\"><name>x</job></jobs>", crawled_on);
    assert!(
        broken
            .document_error
            .unwrap()
            .starts_with("not well-formed XML")
    );
    let wrong_root = check_at(b"<source></source>", crawled_on);
    assert_eq!(
        wrong_root.document_error.as_deref(),
        Some("the root element is <source>; expected <jobs>")
    );
}

/// The adapter built from `config/`, a crawl of today's document by the
/// sandbox's JoobleBot, and the crawl report read back by the adapter.
#[tokio::test]
async fn a_crawl_reaches_the_report_the_adapter_reads() {
    let twin = crate::support::BoardTwin::start(BOARD).await;
    let feed = twin.board.feed().expect("Jooble is a feed board");
    assert_eq!(feed.file_name(), FEED.file);
    assert!(
        boardcast::sandbox::FEED_TWINS
            .iter()
            .any(|t| t.board == BOARD)
    );

    let (tenant, job) = sample("sales-account-executive");
    let reference = posting_reference(&tenant, &job.id, "pt");
    let posting = context(&job, &job.ads["pt"], &reference, "pt");
    assert_eq!(
        twin.publish(&posting).await.unwrap(),
        Receipt::Submitted {
            external_id: reference.clone()
        }
    );
    assert_eq!(twin.board.crawl_report().await.unwrap(), None);

    let now = OffsetDateTime::now_utc();
    let fresh = feed
        .items(&FeedEntry {
            posting,
            first_published: now,
            updated: now,
        })
        .unwrap();
    let outcome = twin.crawl_document(feed.document(&[fresh])).await;
    assert_eq!(outcome.http_status, 200);
    assert_eq!(outcome.report.accepted, vec![reference.clone()]);
    assert!(outcome.report.rejected.is_empty());

    let report = twin.board.crawl_report().await.unwrap().expect("a report");
    assert_eq!(report, outcome.report);
    let held = twin.only();
    assert_eq!(held.reference, reference);
    assert_eq!(held.title, "Executivo(a) de Contas de Vendas");
    assert!(held.live);
}

/// Issue 12 finding 2: an expiry past 9999-12-31 in UTC panicked.
#[test]
fn an_expiry_past_the_year_9999_is_refused_not_a_panic() {
    let (tenant, mut job) = sample("account-executive");
    job.valid_through = Some(datetime!(9999-12-31 23:00:00 -5));
    let reference = posting_reference(&tenant, &job.id, "en");
    let error = jooble()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .expect_err("refused");
    crate::support::assert_rejected(&error, &["expire", "year 9999"]);
}

/// Issue 13: the feed's `<link>` is our job page (the job's description
/// page), not the apply URL; a job with only an apply e-mail goes too.
#[test]
fn the_link_is_our_job_page_not_the_apply_url() {
    let (tenant, mut job) = sample("sales-account-executive");
    let reference = posting_reference(&tenant, &job.id, "pt");
    let page = format!("<link><![CDATA[https://boardcast.example/jobs/{reference}]]></link>");
    let item = jooble()
        .items(&entry(context(&job, &job.ads["pt"], &reference, "pt")))
        .expect("Jooble takes it");
    assert!(item.contains(&page), "{item}");
    let apply = job.apply.url.clone().expect("the sample has an apply URL");
    assert!(
        !item.contains(&format!("<link><![CDATA[{apply}]]>")),
        "{item}"
    );

    job.apply.url = None;
    job.apply.email = Some("jobs@northwind.example".into());
    let item = jooble()
        .items(&entry(context(&job, &job.ads["pt"], &reference, "pt")))
        .expect("a job with only an apply e-mail goes");
    assert!(item.contains(&page), "{item}");
}

/// Issue 13: the twin reads the feed with a strict XML 1.0 parser, as a
/// real crawler does: a control character (not allowed in XML 1.0, not
/// even in CDATA) makes the whole document unreadable.
#[test]
fn the_twin_refuses_a_document_a_strict_xml_parser_refuses() {
    crate::support::assert_twin_refuses_a_control_character(&FEED, "jobs", "job");
}
