//! Careerjet's XML feed: golden documents for the samples, the format's
//! rules, the crawler twin's own checks, and one crawl through the sandbox.
//! No database or broker.
//!
//! `UPDATE_GOLDEN=1 cargo test --test board_careerjet` rewrites the golden files.

use crate::support::{context, publish_samples, sample};
use boardcast::boards::careerjet::Careerjet;
use boardcast::boards::feed::{FeedEntry, FeedFormat};
use boardcast::boards::render::escape_html;
use boardcast::boards::{PostingContext, Receipt};
use boardcast::feeds::job_pages::JobPages;
use boardcast::intake::message::{EmploymentType, primary_language};
use boardcast::plan::posting_reference;
use boardcast::sandbox::careerjet::FEED;
use time::macros::datetime;

const BOARD: &str = "careerjet";

/// Our public URL in these tests: job pages are `<it>/jobs/<reference>`.
const PUBLIC_URL: &str = "https://boardcast.example";

fn careerjet() -> Careerjet {
    Careerjet {
        pages: JobPages::new(PUBLIC_URL),
    }
}

fn entry(posting: PostingContext<'_>) -> FeedEntry<'_> {
    FeedEntry {
        posting,
        first_published: datetime!(2026-11-23 09:00:00 UTC),
        updated: datetime!(2026-11-23 10:00:00 UTC),
    }
}

/// The languages `config/default.toml` gives Careerjet.
fn languages() -> Vec<String> {
    crate::support::settings()
        .board(BOARD)
        .expect("[boards.careerjet]")
        .languages
        .clone()
}

#[test]
fn golden_documents() {
    let languages = languages();
    assert_eq!(
        languages.len(),
        6,
        "Careerjet serves all six: {languages:?}"
    );
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let item = careerjet()
                .items(&entry(context(&job, ad, &reference, locale)))
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            crate::support::golden(
                BOARD,
                &format!("{stem}.publish.{locale}.xml"),
                &careerjet().document(&[item]),
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 10);
}

#[test]
fn the_crawler_takes_every_sample_byte_for_byte() {
    let mut items = Vec::new();
    let mut expected = Vec::new();
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            let reference = posting_reference(&tenant, &job.id, locale);
            items.push(
                careerjet()
                    .items(&entry(context(&job, ad, &reference, locale)))
                    .unwrap(),
            );
            expected.push((stem.clone(), locale.clone(), reference, job.clone()));
        }
    }
    let checked = (FEED.check)(careerjet().document(&items).as_bytes());
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
        for text in std::iter::once(&ad.summary)
            .chain(&ad.responsibilities)
            .chain(&ad.requirements)
            .chain(&ad.benefits)
        {
            assert!(description.contains(&escape_html(text)), "{stem}.{locale}");
        }
        let location = &job.locations[0];
        assert_eq!(item.fields["location/city"], location.city);
        assert_eq!(item.fields["location/country"], location.country);
        assert_eq!(item.fields["job_reference"], job.id);
        assert_eq!(
            item.fields["url"],
            format!("{PUBLIC_URL}/jobs/{}", item.reference),
            "the job's page"
        );
        assert_eq!(item.fields["apply_url"], job.apply.url.clone().unwrap());
        assert_eq!(
            item.fields.get("application_email"),
            job.apply.email.as_ref()
        );
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
    let french = checked
        .items
        .iter()
        .find(|i| i.title == "Chargé(e) d'affaires")
        .expect("the French ad");
    assert_eq!(french.fields["location/region"], "Comunidad de Madrid");
    assert_eq!(french.fields["salary"], "48000 - 72000 EUR per year");
    assert_eq!(french.fields["working_hours"], "full-time");
}

#[test]
fn the_formats_rules_fail_by_name() {
    let (tenant, mut job) = sample("account-manager");
    let reference = posting_reference(&tenant, &job.id, "en");
    job.locations.clear();
    let error = careerjet()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .unwrap_err();
    assert_eq!(
        error.message,
        "Careerjet needs a <location> with a country; the job has none"
    );

    let (_, mut job) = sample("account-manager");
    job.employment_type = EmploymentType::Temporary;
    let item = careerjet()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .unwrap();
    assert!(item.contains("<contract_type><![CDATA[temporary]]></contract_type>"));
    assert!(!item.contains("<working_hours>"));
}

#[test]
fn the_crawler_checks_on_its_own() {
    let document = r#"<?xml version="1.0" encoding="UTF-8"?>
<jobs>
  <job><id>c1</id><title><![CDATA[Ingénieur]]></title><url>https://x.example/1</url>
    <location><city>Lyon</city><country>FR</country></location>
    <description><![CDATA[<p>Café</p>]]></description><bonus>ignored</bonus></job>
  <job><id>c2</id><title>Chef</title><url>https://x.example/2</url>
    <location><city>Lyon</city></location><description>Cook</description></job>
  <job><id>c3</id><url>https://x.example/3</url>
    <location><country>FR</country></location><description>Cook</description></job>
  <job><id>c4</id><title>Chef</title><url>www.x.example/4</url>
    <location><country>FR</country></location><description>Cook</description></job>
  <job><id>c5</id><title>Chef</title><url>https://x.example/5</url>
    <location><country>FR</country></location><description>R &amp; D</description>
    <application_email>jobs at x.example</application_email></job>
  <job><id>c1</id><title>Chef</title><url>https://x.example/6</url>
    <location><country>FR</country></location><description>Cook</description></job>
  <job><id>c7</id><title>Chef</title><url>https://x.example/7</url>
    <location><country>FR</country></location><description>Cook</description>
    <apply_url>/apply/7</apply_url></job>
</jobs>"#;
    let checked = (FEED.check)(document.as_bytes());
    assert_eq!(checked.document_error, None);
    let problems: Vec<(&str, &str)> = checked
        .items
        .iter()
        .map(|i| (i.reference.as_str(), i.problem.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        problems,
        [
            ("c1", ""),
            ("c2", "<location/country> is required"),
            ("c3", "<title> is required"),
            (
                "c4",
                "<url> \"www.x.example/4\" is not an absolute http(s) URL"
            ),
            (
                "c5",
                "<application_email> \"jobs at x.example\" is not an e-mail address"
            ),
            ("c1", "<id> c1 appears twice"),
            (
                "c7",
                "<apply_url> \"/apply/7\" is not an absolute http(s) URL"
            ),
        ]
    );
    assert_eq!(checked.items[0].title, "Ingénieur");
    assert_eq!(checked.items[4].fields["description"], "R & D");

    let broken = (FEED.check)(b"<jobs><job><id>1</job></jobs>");
    assert!(
        broken
            .document_error
            .unwrap()
            .starts_with("not well-formed XML")
    );
    let wrong_root = (FEED.check)(b"<source></source>");
    assert_eq!(
        wrong_root.document_error.as_deref(),
        Some("the root element is <source>; expected <jobs>")
    );
}

/// The adapter built from `config/`, a crawl by the sandbox's Careerjet
/// crawler, and the crawl report read back by the adapter.
#[tokio::test]
async fn a_crawl_reaches_the_report_the_adapter_reads() {
    let twin = crate::support::BoardTwin::start(BOARD).await;
    let feed = twin.board.feed().expect("Careerjet is a feed board");
    assert_eq!(feed.file_name(), FEED.file);
    assert!(
        boardcast::sandbox::FEED_TWINS
            .iter()
            .any(|t| t.board == BOARD)
    );

    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "el");
    let posting = context(&job, &job.ads["el"], &reference, "el");
    assert_eq!(
        twin.publish(&posting).await.unwrap(),
        Receipt::Submitted {
            external_id: reference.clone()
        }
    );
    assert_eq!(twin.board.crawl_report().await.unwrap(), None);

    let outcome = twin
        .crawl_document(feed.document(&[feed.items(&entry(posting)).unwrap()]))
        .await;
    assert_eq!(outcome.http_status, 200);
    assert_eq!(outcome.report.accepted, vec![reference.clone()]);
    assert!(outcome.report.rejected.is_empty());

    let report = twin.board.crawl_report().await.unwrap().expect("a report");
    assert_eq!(report, outcome.report);
    let held = twin.only();
    assert_eq!(held.reference, reference);
    assert_eq!(held.title, "Στέλεχος Λογαριασμών Πωλήσεων");
    assert!(held.live);
}

/// Issue 13: the feed's `<url>` is our job page (the job's description
/// page), not the apply URL; a job with only an apply e-mail goes too.
#[test]
fn the_url_is_our_job_page_not_the_apply_url() {
    let (tenant, mut job) = sample("account-manager");
    let reference = posting_reference(&tenant, &job.id, "en");
    let page = format!("<url><![CDATA[https://boardcast.example/jobs/{reference}]]></url>");
    let item = careerjet()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .expect("Careerjet takes it");
    assert!(item.contains(&page), "{item}");
    let apply = job.apply.url.clone().expect("the sample has an apply URL");
    assert!(
        !item.contains(&format!("<url><![CDATA[{apply}]]>")),
        "{item}"
    );
    assert!(
        item.contains(&format!("<apply_url><![CDATA[{apply}]]></apply_url>")),
        "{item}"
    );

    job.apply.url = None;
    job.apply.email = Some("jobs@northwind.example".into());
    let item = careerjet()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
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
