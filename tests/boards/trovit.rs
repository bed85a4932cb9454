//! Trovit's XML feed: golden documents for the samples, the format's rules,
//! the crawler twin's own checks, and one crawl through the sandbox. No
//! database or broker.
//!
//! `UPDATE_GOLDEN=1 cargo test --test board_trovit` rewrites the golden files.

use crate::support::{context, publish_samples, sample};
use boardcast::boards::feed::{FeedEntry, FeedFormat};
use boardcast::boards::trovit::{Trovit, content};
use boardcast::boards::{PostingContext, Receipt};
use boardcast::feeds::job_pages::JobPages;
use boardcast::intake::message::{Workplace, primary_language};
use boardcast::plan::posting_reference;
use boardcast::sandbox::trovit::{FEED, check_at};
use time::macros::{date, datetime};

const BOARD: &str = "trovit";

/// Our public URL in these tests: job pages are `<it>/jobs/<reference>`.
const PUBLIC_URL: &str = "https://boardcast.example";

fn trovit() -> Trovit {
    Trovit {
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

/// The languages `config/default.toml` gives Trovit.
fn languages() -> Vec<String> {
    crate::support::settings()
        .board(BOARD)
        .expect("[boards.trovit]")
        .languages
        .clone()
}

#[test]
fn golden_documents() {
    let languages = languages();
    assert_eq!(languages, ["es", "en", "de", "fr", "pt"]);
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let item = trovit()
                .items(&entry(context(&job, ad, &reference, locale)))
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            crate::support::golden(
                BOARD,
                &format!("{stem}.publish.{locale}.xml"),
                &trovit().document(&[item]),
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 9, "every sample variant but the Greek one");
}

#[test]
fn the_crawler_takes_every_sample_byte_for_byte() {
    let mut items = Vec::new();
    let mut expected = Vec::new();
    let languages = languages();
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            items.push(
                trovit()
                    .items(&entry(context(&job, ad, &reference, locale)))
                    .unwrap(),
            );
            expected.push((stem.clone(), locale.clone(), reference, job.clone()));
        }
    }
    let checked = check_at(trovit().document(&items).as_bytes(), date!(2026 - 11 - 23));
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
        assert_eq!(
            item.fields["content"],
            content(ad, locale),
            "{stem}.{locale}: the content, byte for byte"
        );
        for text in std::iter::once(&ad.summary)
            .chain(&ad.responsibilities)
            .chain(&ad.requirements)
            .chain(&ad.benefits)
        {
            assert!(
                item.fields["content"].contains(text.as_str()),
                "{stem}.{locale}"
            );
        }
        assert_eq!(item.fields["date"], "23/11/2026");
        let expires = job.valid_through.unwrap().date();
        assert_eq!(
            item.fields["expiration_date"],
            format!(
                "{:02}/{:02}/{}",
                expires.day(),
                u8::from(expires.month()),
                expires.year()
            )
        );
        let telecommute = item.fields.get("telecommute").map(String::as_str);
        match job.workplace {
            Workplace::Remote => assert_eq!(telecommute, Some("true")),
            Workplace::OnSite => assert_eq!(telecommute, Some("false")),
            Workplace::Hybrid => assert_eq!(telecommute, None),
        }
    }
    let portuguese = checked
        .items
        .iter()
        .find(|i| i.title == "Executivo(a) de Contas de Vendas")
        .expect("the Portuguese ad arrives intact");
    assert!(portuguese.fields["content"].contains("satisfação do primeiro contacto ao pós-venda"));
    assert_eq!(portuguese.fields["city"], "Porto");
    assert_eq!(portuguese.fields["postcode"], "4000-322");
}

#[test]
fn the_formats_rules_fail_by_name() {
    let (tenant, mut job) = sample("account-manager");
    let reference = posting_reference(&tenant, &job.id, "es");
    {
        let ad = job.ads.get_mut("es").unwrap();
        ad.summary = "Sell things.".into();
        ad.responsibilities.clear();
        ad.requirements.clear();
        ad.benefits.clear();
    }
    let error = trovit()
        .items(&entry(context(&job, &job.ads["es"], &reference, "es")))
        .unwrap_err();
    assert_eq!(
        error.message,
        "content is 12 characters; Trovit needs at least 30"
    );

    let (_, mut job) = sample("account-manager");
    job.ads.get_mut("es").unwrap().title = "Gerente de Cuentas en www.contoso.example".into();
    let error = trovit()
        .items(&entry(context(&job, &job.ads["es"], &reference, "es")))
        .unwrap_err();
    assert_eq!(
        error.message,
        "title holds a web address; Trovit wants no site name or URL in the title"
    );
}

#[test]
fn the_crawler_checks_on_its_own() {
    let long = "<![CDATA[Cocinero con experiencia en cocina mediterránea.]]>";
    let ad = |id: &str, rest: &str| {
        format!(
            "<ad><id>{id}</id><url>https://x.example/{id}</url><title>Cocinero</title>{rest}</ad>"
        )
    };
    let document = [
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<trovit>".to_owned(),
        ad(
            "t1",
            &format!("<content>{long}</content><date>23/11/2026</date><expiration_date>23/11/2026</expiration_date><telecommute>true</telecommute>"),
        ),
        ad("t2", "<content>Cocinero.</content>"),
        ad("t3", &format!("<content>{long}</content><date>2026-11-23</date>")),
        ad(
            "t4",
            &format!("<content>{long}</content><expiration_date>22/11/2026</expiration_date>"),
        ),
        ad(
            "t5",
            &format!("<content>{long}</content><telecommute>yes</telecommute>"),
        ),
        ad("t1", &format!("<content>{long}</content>")),
        format!("<ad><id>t6</id><url>https://x.example/6</url><content>{long}</content></ad>"),
        format!(
            "<ad><id>t7</id><url>https://x.example/7</url><title>Cocinero - www.x.example</title><content>{long}</content></ad>"
        ),
        format!(
            "<ad><id>t8</id><url>x.example/8</url><title>Cocinero</title><content>{long}</content></ad>"
        ),
        ad(
            "t9",
            &format!("<content>{long}</content><expiration_date>31/02/2027</expiration_date>"),
        ),
        "</trovit>".to_owned(),
    ]
    .concat();
    let checked = check_at(document.as_bytes(), date!(2026 - 11 - 23));
    assert_eq!(checked.document_error, None);
    let problems: Vec<(&str, &str)> = checked
        .items
        .iter()
        .map(|i| (i.reference.as_str(), i.problem.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        problems,
        [
            ("t1", ""),
            ("t2", "content is 9 characters; Trovit needs at least 30"),
            ("t3", "<date> \"2026-11-23\" is not DD/MM/YYYY"),
            (
                "t4",
                "the ad expired on 22/11/2026, before this crawl; Trovit does not list expired ads"
            ),
            ("t5", "<telecommute> \"yes\" is not a boolean"),
            ("t1", "<id> t1 appears twice"),
            ("t6", "<title> is required"),
            (
                "t7",
                "<title> holds a web address; Trovit wants no site name or URL in the title"
            ),
            ("t8", "<url> \"x.example/8\" is not an absolute http(s) URL"),
            ("t9", "<expiration_date> \"31/02/2027\" is not DD/MM/YYYY"),
        ]
    );
    assert_eq!(
        checked.items[0].fields["content"],
        "Cocinero con experiencia en cocina mediterránea."
    );

    let broken = check_at(b"<trovit><ad><id>1</ad></trovit>", date!(2026 - 11 - 23));
    assert!(
        broken
            .document_error
            .unwrap()
            .starts_with("not well-formed XML")
    );
    let wrong_root = check_at(b"<jobs></jobs>", date!(2026 - 11 - 23));
    assert_eq!(
        wrong_root.document_error.as_deref(),
        Some("the root element is <jobs>; expected <trovit>")
    );
}

/// The adapter built from `config/`, a crawl by the sandbox's Trovit
/// crawler, and the crawl report read back by the adapter: one ad taken,
/// one refused with the rule named.
#[tokio::test]
async fn a_crawl_reaches_the_report_the_adapter_reads() {
    let twin = crate::support::BoardTwin::start(BOARD).await;
    let feed = twin.board.feed().expect("Trovit is a feed board");
    assert_eq!(feed.file_name(), FEED.file);
    assert!(
        boardcast::sandbox::FEED_TWINS
            .iter()
            .any(|t| t.board == BOARD)
    );

    let (tenant, mut job) = sample("account-executive");
    // Open for another month, whenever the test runs.
    job.valid_through = Some(time::OffsetDateTime::now_utc() + time::Duration::days(30));
    let reference = posting_reference(&tenant, &job.id, "es");
    let posting = context(&job, &job.ads["es"], &reference, "es");
    assert_eq!(
        twin.publish(&posting).await.unwrap(),
        Receipt::Submitted {
            external_id: reference.clone()
        }
    );
    assert_eq!(twin.board.crawl_report().await.unwrap(), None);

    // The same job once more, already expired: only the crawler knows.
    let mut expired = job.clone();
    expired.valid_through = Some(datetime!(2020-01-31 23:59:59 UTC));
    let stale = posting_reference(&tenant, &job.id, "en");
    let items = [
        feed.items(&entry(posting)).unwrap(),
        feed.items(&entry(context(&expired, &expired.ads["en"], &stale, "en")))
            .unwrap(),
    ];
    let outcome = twin.crawl_document(feed.document(&items)).await;
    assert_eq!(outcome.http_status, 200);
    assert_eq!(outcome.report.accepted, vec![reference.clone()]);
    assert_eq!(outcome.report.rejected.len(), 1);
    assert_eq!(outcome.report.rejected[0].reference, stale);
    assert!(
        outcome.report.rejected[0]
            .reason
            .starts_with("the ad expired on 31/01/2020"),
        "{:?}",
        outcome.report.rejected
    );

    let report = twin.board.crawl_report().await.unwrap().expect("a report");
    assert_eq!(report, outcome.report);
    let held = twin.only();
    assert_eq!(held.reference, reference);
    assert_eq!(held.title, "Ejecutivo/a de Cuentas");
    assert!(held.live);
}

/// Issue 12 finding 2: an expiry past 9999-12-31 in UTC panicked.
#[test]
fn an_expiry_past_the_year_9999_is_refused_not_a_panic() {
    let (tenant, mut job) = sample("account-executive");
    job.valid_through = Some(datetime!(9999-12-31 23:00:00 -5));
    let reference = posting_reference(&tenant, &job.id, "en");
    let error = trovit()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .expect_err("refused");
    crate::support::assert_rejected(&error, &["expiration_date", "year 9999"]);
}

/// Issue 13: the feed's `<url>` is our job page (the job's description
/// page), not the apply URL; a job with only an apply e-mail goes too.
#[test]
fn the_url_is_our_job_page_not_the_apply_url() {
    let (tenant, mut job) = sample("account-manager");
    let reference = posting_reference(&tenant, &job.id, "es");
    let page = format!("<url><![CDATA[https://boardcast.example/jobs/{reference}]]></url>");
    let item = trovit()
        .items(&entry(context(&job, &job.ads["es"], &reference, "es")))
        .expect("Trovit takes it");
    assert!(item.contains(&page), "{item}");
    let apply = job.apply.url.clone().expect("the sample has an apply URL");
    assert!(
        !item.contains(&format!("<url><![CDATA[{apply}]]>")),
        "{item}"
    );

    job.apply.url = None;
    job.apply.email = Some("jobs@northwind.example".into());
    let item = trovit()
        .items(&entry(context(&job, &job.ads["es"], &reference, "es")))
        .expect("a job with only an apply e-mail goes");
    assert!(item.contains(&page), "{item}");
}

/// Issue 13: the twin reads the feed with a strict XML 1.0 parser, as a
/// real crawler does: a control character (not allowed in XML 1.0, not
/// even in CDATA) makes the whole document unreadable.
#[test]
fn the_twin_refuses_a_document_a_strict_xml_parser_refuses() {
    crate::support::assert_twin_refuses_a_control_character(&FEED, "trovit", "ad");
}
