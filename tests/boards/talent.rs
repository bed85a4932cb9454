//! Talent.com's XML feed: golden documents for the samples, the format's
//! rules, `lastbuilddate` from the jobs, and the crawler twin's own checks
//! (CDATA required). No database or broker.

use crate::support::{context, publish_samples, sample};
use boardcast::boards::feed::{FeedEntry, FeedFormat};
use boardcast::boards::render::escape_html;
use boardcast::boards::talent::TalentFeed;
use boardcast::feeds::job_pages::JobPages;
use boardcast::intake::message::Job;
use boardcast::plan::posting_reference;
use boardcast::sandbox::talent::FEED;
use time::macros::datetime;

const LANGUAGES: [&str; 5] = ["en", "fr", "es", "de", "pt"];

fn format() -> TalentFeed {
    TalentFeed {
        publisher: "boardcast".into(),
        publisher_url: Some("https://boardcast.example".into()),
        pages: JobPages::new("https://boardcast.example"),
    }
}

fn entry<'a>(posting: boardcast::boards::PostingContext<'a>) -> FeedEntry<'a> {
    FeedEntry {
        posting,
        first_published: datetime!(2026-11-23 09:00:00 UTC),
        updated: datetime!(2026-11-23 10:00:00 UTC),
    }
}

fn item(job: &Job, locale: &str) -> Result<String, boardcast::boards::BoardError> {
    let reference = posting_reference("contoso", &job.id, locale);
    format().items(&entry(context(job, &job.ads[locale], &reference, locale)))
}

#[test]
fn golden_documents() {
    let format = format();
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in job
            .ads
            .iter()
            .filter(|(l, _)| LANGUAGES.contains(&l.as_str()))
        {
            let reference = posting_reference(&tenant, &job.id, locale);
            let item = format
                .items(&entry(context(&job, ad, &reference, locale)))
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            crate::support::golden(
                "talent",
                &format!("{stem}.publish.{locale}.xml"),
                &format.document(&[item]),
            );
            compared += 1;
        }
    }
    assert!(compared >= 9, "{compared}");
}

#[test]
fn the_crawler_takes_every_variant_and_the_text_arrives_intact() {
    let format = format();
    let mut items = Vec::new();
    let mut expected = Vec::new();
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in job
            .ads
            .iter()
            .filter(|(l, _)| LANGUAGES.contains(&l.as_str()))
        {
            let reference = posting_reference(&tenant, &job.id, locale);
            items.push(
                format
                    .items(&entry(context(&job, ad, &reference, locale)))
                    .unwrap(),
            );
            expected.push((
                format!("{stem}.{locale}"),
                reference,
                ad.clone(),
                job.clone(),
            ));
        }
    }
    let checked = (FEED.check)(format.document(&items).as_bytes());
    assert_eq!(checked.document_error, None);
    assert_eq!(checked.items.len(), expected.len());
    for (item, (name, reference, ad, job)) in checked.items.iter().zip(&expected) {
        assert_eq!(item.problem, None, "{name}: {item:?}");
        assert_eq!(&item.reference, reference, "{name}");
        assert_eq!(item.title, ad.title, "{name}: byte for byte");
        assert!(
            item.fields["description"].contains(&escape_html(&ad.summary)),
            "{name}"
        );
        assert_eq!(item.fields["city"], job.locations[0].city, "{name}");
        assert_eq!(item.fields["dateposted"], "2026-11-23T09:00:00Z", "{name}");
        assert_eq!(item.fields["date"], "2026-11-23T09:00:00Z", "{name}");
    }
    assert!(
        expected
            .iter()
            .any(|(_, _, ad, _)| ad.title == "Executivo(a) de Contas de Vendas"),
        "Portuguese among them"
    );
}

#[test]
fn lastbuilddate_is_the_newest_update_and_dates_drop_fractions() {
    let format = format();
    let (tenant, first) = sample("sales-account-executive");
    let (_, second) = sample("account-manager");
    let a = posting_reference(&tenant, &first.id, "pt");
    let b = posting_reference(&tenant, &second.id, "en");
    let newer = FeedEntry {
        posting: context(&first, &first.ads["pt"], &a, "pt"),
        first_published: datetime!(2026-11-01 08:00:00.123456 UTC),
        updated: datetime!(2026-11-22 17:30:05.5 UTC),
    };
    let older = FeedEntry {
        posting: context(&second, &second.ads["en"], &b, "en"),
        first_published: datetime!(2026-11-02 08:00:00 +01:00),
        updated: datetime!(2026-11-20 08:00:00 UTC),
    };
    let document = format.document(&[format.items(&older).unwrap(), format.items(&newer).unwrap()]);
    assert!(
        document.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<source><publisher>boardcast</publisher><publisherurl>https://boardcast.example</publisherurl><lastbuilddate>2026-11-22T17:30:05Z</lastbuilddate><job><title>"
        ),
        "{document}"
    );
    assert!(!document.contains("<!--"), "the markers are removed");
    let checked = (FEED.check)(document.as_bytes());
    assert_eq!(checked.document_error, None);
    let dates: Vec<(&str, &str)> = checked
        .items
        .iter()
        .map(|i| (i.reference.as_str(), i.fields["dateposted"].as_str()))
        .collect();
    assert_eq!(
        dates,
        [
            (b.as_str(), "2026-11-02T07:00:00Z"),
            (a.as_str(), "2026-11-01T08:00:00Z")
        ]
    );

    let empty = format.document(&[]);
    assert_eq!(
        empty,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<source><publisher>boardcast</publisher><publisherurl>https://boardcast.example</publisherurl></source>\n"
    );
}

#[test]
fn the_formats_rules_fail_by_name() {
    let (_, job) = sample("account-manager");

    let mut short = job.clone();
    let ad = short.ads.get_mut("en").unwrap();
    ad.summary = "Keep customers happy & grow them.".into();
    ad.responsibilities.clear();
    ad.requirements.clear();
    ad.benefits.clear();
    assert_eq!(
        item(&short, "en").unwrap_err().message,
        "description is 33 characters of text; Talent.com needs at least 50"
    );

    let mut nowhere = job.clone();
    nowhere.locations.clear();
    assert_eq!(
        item(&nowhere, "en").unwrap_err().message,
        "Talent.com's feed needs the job's city and country; the job has no location"
    );

    // Every field of the job in CDATA, even the ones without markup.
    let rendered = item(&job, "en").unwrap();
    for field in [
        "title",
        "referencenumber",
        "url",
        "company",
        "city",
        "state",
        "country",
        "postalcode",
        "email",
        "salary",
        "jobtype",
    ] {
        assert!(
            rendered.contains(&format!("<{field}><![CDATA[")),
            "{field}: {rendered}"
        );
    }
    assert!(rendered.contains("<salary><![CDATA[USD 85000-110000 per year]]></salary>"));
    assert!(rendered.contains("<email><![CDATA[jobs@contoso.example]]></email>"));
}

fn job_xml(id: &str, fields: &[(&str, &str)]) -> String {
    let description = "<p>Sell software to mid-sized companies &amp; grow with them.</p>";
    let mut all: Vec<(&str, &str)> = vec![
        ("title", "Account Executive"),
        ("dateposted", "2026-11-23T09:00:00Z"),
        ("referencenumber", id),
        ("url", "https://northwind.example/apply"),
        ("company", "Northwind"),
        ("city", "Madrid"),
        ("description", description),
    ];
    for (name, value) in fields {
        match all.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => all.push((name, value)),
        }
    }
    let mut xml = String::from("<job>");
    for (name, value) in all.into_iter().filter(|(_, v)| *v != "-") {
        if let Some(bare) = value.strip_prefix("bare:") {
            xml.push_str(&format!("<{name}>{bare}</{name}>"));
        } else {
            xml.push_str(&format!("<{name}><![CDATA[{value}]]></{name}>"));
        }
    }
    xml.push_str("</job>");
    xml
}

#[test]
fn the_crawler_checks_on_its_own() {
    let jobs = [
        job_xml("ok", &[]),
        job_xml(
            "old-style",
            &[("dateposted", "-"), ("date", "2026-11-23T09:00:00Z")],
        ),
        job_xml("no-url", &[("url", "-")]),
        job_xml("no-date", &[("dateposted", "-")]),
        job_xml("date", &[("dateposted", "2026-11-23")]),
        job_xml("short", &[("description", "<p>Sell &amp; grow.</p>")]),
        job_xml("city", &[("title", "Account Executive - Madrid")]),
        job_xml("bare", &[("city", "bare:Madrid")]),
        job_xml("bare-entity", &[("company", "bare:R&amp;D")]),
        job_xml("ok", &[]),
    ];
    let document = format!(
        "<?xml version=\"1.0\"?><source><publisher>x</publisher>{}</source>",
        jobs.concat()
    );
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
            ("ok", ""),
            ("old-style", ""),
            ("no-url", "<url> is required"),
            ("no-date", "<dateposted> (or <date>) is required"),
            (
                "date",
                "<dateposted> \"2026-11-23\" is not yyyy-MM-ddTHH:mm:ssZ"
            ),
            (
                "short",
                "<description> holds 12 characters of text; at least 50"
            ),
            (
                "city",
                "<title> names the location (Madrid); Talent.com wants it in <city> only"
            ),
            (
                "bare",
                "<city> is not in CDATA; Talent.com takes job content only in CDATA"
            ),
            (
                "bare-entity",
                "<company> is not in CDATA; Talent.com takes job content only in CDATA"
            ),
            ("ok", "<referencenumber> ok appears twice"),
        ]
    );

    let broken = (FEED.check)(b"<source><job><title>x</job></source>");
    assert!(
        broken
            .document_error
            .unwrap()
            .starts_with("not well-formed XML")
    );
    let wrong_root = (FEED.check)(b"<jobs></jobs>");
    assert_eq!(
        wrong_root.document_error.as_deref(),
        Some("the root element is <jobs>; expected <source>")
    );
}

#[tokio::test]
async fn configured_registered_and_crawled_by_the_sandbox() {
    let settings = crate::support::settings();
    let board = settings.board("talent").expect("[boards.talent]");
    assert!(board.enabled);
    assert_eq!(board.base_url, "http://127.0.0.1:8650/talent");
    assert_eq!(board.languages, LANGUAGES);
    assert!(boardcast::boards::mechanism("talent").is_some());

    let twin = crate::support::BoardTwin::start("talent").await;
    let format = twin.board.feed().expect("a feed board");
    assert_eq!(format.file_name(), FEED.file);
    assert_eq!(
        twin.board.crawl_report().await.unwrap(),
        None,
        "nothing crawled yet"
    );

    let (tenant, job) = sample("sales-account-executive");
    let reference = posting_reference(&tenant, &job.id, "pt");
    let good = format
        .items(&entry(context(&job, &job.ads["pt"], &reference, "pt")))
        .unwrap();
    let bad = job_xml("bare", &[("city", "bare:Madrid")]);
    twin.crawl_document(format.document(&[good, bad])).await;
    let report = twin.board.crawl_report().await.unwrap().expect("a report");
    assert_eq!(report.document_error, None);
    assert_eq!(report.accepted, std::slice::from_ref(&reference));
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].reference, "bare");
    assert_eq!(twin.live_copies(&reference), 1);
    assert_eq!(twin.only().title, job.ads["pt"].title);
}

/// Issue 13: the feed's `<url>` is our job page (the job's description
/// page), not the apply URL; a job with only an apply e-mail goes too.
#[test]
fn the_url_is_our_job_page_not_the_apply_url() {
    let (tenant, mut job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "en");
    let page = format!("<url><![CDATA[https://boardcast.example/jobs/{reference}]]></url>");
    let item = format()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .expect("Talent.com takes it");
    assert!(item.contains(&page), "{item}");
    let apply = job.apply.url.clone().expect("the sample has an apply URL");
    assert!(
        !item.contains(&format!("<url><![CDATA[{apply}]]>")),
        "{item}"
    );

    job.apply.url = None;
    job.apply.email = Some("jobs@northwind.example".into());
    let item = format()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .expect("a job with only an apply e-mail goes");
    assert!(item.contains(&page), "{item}");
}

/// Issue 13: the twin reads the feed with a strict XML 1.0 parser, as a
/// real crawler does: a control character (not allowed in XML 1.0, not
/// even in CDATA) makes the whole document unreadable.
#[test]
fn the_twin_refuses_a_document_a_strict_xml_parser_refuses() {
    crate::support::assert_twin_refuses_a_control_character(&FEED, "source", "job");
}
