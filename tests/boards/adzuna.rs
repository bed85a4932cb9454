//! Adzuna's XML feed: golden documents for the samples, the format's rules
//! (a real title, a real description), and the crawler twin's own checks.
//! No database or broker.

use crate::support::{context, publish_samples, sample};
use boardcast::boards::adzuna::{AdzunaFeed, title_problem};
use boardcast::boards::feed::{FeedEntry, FeedFormat};
use boardcast::boards::render::escape_html;
use boardcast::feeds::job_pages::JobPages;
use boardcast::intake::message::{EmploymentType, Job, PayPeriod, Salary};
use boardcast::plan::posting_reference;
use boardcast::sandbox::adzuna::FEED;
use time::macros::datetime;

/// The languages Adzuna serves (its sites in the UK, US, DE, FR, ES, BR…).
const LANGUAGES: [&str; 5] = ["en", "de", "fr", "es", "pt"];

/// Our public URL in these tests: job pages are `<it>/jobs/<reference>`.
const PUBLIC_URL: &str = "https://boardcast.example";

fn adzuna() -> AdzunaFeed {
    AdzunaFeed {
        pages: JobPages::new(PUBLIC_URL),
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
    adzuna().items(&entry(context(job, &job.ads[locale], &reference, locale)))
}

#[test]
fn golden_documents() {
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in job
            .ads
            .iter()
            .filter(|(l, _)| LANGUAGES.contains(&l.as_str()))
        {
            let reference = posting_reference(&tenant, &job.id, locale);
            let item = adzuna()
                .items(&entry(context(&job, ad, &reference, locale)))
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            crate::support::golden(
                "adzuna",
                &format!("{stem}.publish.{locale}.xml"),
                &adzuna().document(&[item]),
            );
            compared += 1;
        }
    }
    assert!(compared >= 9, "{compared}");
}

#[test]
fn the_crawler_takes_every_variant_and_the_text_arrives_intact() {
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
                adzuna()
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
    // One document with every variant, as Adzuna downloads it.
    let checked = (FEED.check)(adzuna().document(&items).as_bytes());
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
        assert_eq!(
            item.fields["location/city"], job.locations[0].city,
            "{name}"
        );
        assert_eq!(item.fields["company"], job.company.name, "{name}");
    }
    assert!(
        expected
            .iter()
            .any(|(_, _, ad, _)| ad.title == "Executivo(a) de Contas de Vendas"),
        "Portuguese among them"
    );
}

#[test]
fn a_title_must_be_only_the_title() {
    let (_, job) = sample("account-executive");
    let fine = [
        "Account Executive",
        "Java 17 Developer",
        "Level 3 Support Engineer",
        "3D Artist",
        "Urgent Care Nurse",
        "Parisian Cuisine Chef",
        "Chargé(e) d'affaires",
    ];
    for title in fine {
        assert_eq!(title_problem(title, &job), None, "{title}");
    }
    let refused = [
        (
            "Account Executive Madrid",
            "title \"Account Executive Madrid\" names the job's location (Madrid); Adzuna wants the job title only",
        ),
        (
            "Account Executive (Lisbon)",
            "title \"Account Executive (Lisbon)\" names the job's location (Lisbon); Adzuna wants the job title only",
        ),
        (
            "Account Executive £45,000",
            "title \"Account Executive £45,000\" holds the figure \"45,000\"; Adzuna wants the job title only, without salary or ID numbers",
        ),
        (
            "Account Executive up to 60k",
            "title \"Account Executive up to 60k\" holds the figure \"60k\"; Adzuna wants the job title only, without salary or ID numbers",
        ),
        (
            "Account Executive €50",
            "title \"Account Executive €50\" holds the figure \"50\"; Adzuna wants the job title only, without salary or ID numbers",
        ),
        (
            "Account Executive AE-2026-014",
            "title \"Account Executive AE-2026-014\" holds the figure \"2026\"; Adzuna wants the job title only, without salary or ID numbers",
        ),
        (
            "URGENT: Account Executive",
            "title \"URGENT: Account Executive\" holds \"urgent\"; Adzuna wants the job title only, without keywords such as urgent or help wanted",
        ),
        (
            "Ejecutivo de Cuentas urgente",
            "title \"Ejecutivo de Cuentas urgente\" holds \"urgent\"; Adzuna wants the job title only, without keywords such as urgent or help wanted",
        ),
        (
            "Vertriebsmitarbeiter (m/w/d) dringend gesucht",
            "title \"Vertriebsmitarbeiter (m/w/d) dringend gesucht\" holds \"dringend\"; Adzuna wants the job title only, without keywords such as urgent or help wanted",
        ),
    ];
    for (title, message) in refused {
        assert_eq!(
            title_problem(title, &job).as_deref(),
            Some(message),
            "{title}"
        );
    }
}

#[test]
fn the_formats_rules_fail_by_name() {
    let (_, job) = sample("account-executive");

    let mut located = job.clone();
    located.ads.get_mut("de").unwrap().title = "Account Executive Berlin (m/w/d)".into();
    assert_eq!(
        item(&located, "de").unwrap_err().message,
        "title \"Account Executive Berlin (m/w/d)\" names the job's location (Berlin); Adzuna wants the job title only"
    );

    let mut short = job.clone();
    let ad = short.ads.get_mut("en").unwrap();
    ad.summary = "Sell & grow.".into();
    ad.responsibilities.clear();
    ad.requirements.clear();
    ad.benefits.clear();
    assert_eq!(
        item(&short, "en").unwrap_err().message,
        "description is 12 characters of text; Adzuna needs at least 100"
    );
}

#[test]
fn salary_and_contract_fields() {
    let (_, job) = sample("account-executive");
    let yearly = item(&job, "en").unwrap();
    assert!(
        yearly.contains(
            "<salary_min><![CDATA[48000]]></salary_min><salary_max><![CDATA[72000]]></salary_max><salary_currency><![CDATA[EUR]]></salary_currency><contract_time><![CDATA[full_time]]></contract_time>"
        ),
        "{yearly}"
    );
    assert!(!yearly.contains("contract_type"), "{yearly}");

    let mut hourly = job.clone();
    hourly.salary = Some(Salary {
        currency: "EUR".into(),
        min: 20.0,
        max: 25.0,
        period: PayPeriod::Hour,
    });
    hourly.employment_type = EmploymentType::Temporary;
    let hourly = item(&hourly, "en").unwrap();
    assert!(!hourly.contains("salary"), "not converted: {hourly}");
    assert!(
        hourly.contains("<contract_type><![CDATA[contract]]></contract_type>"),
        "{hourly}"
    );
    assert!(!hourly.contains("contract_time"), "{hourly}");
}

const DESCRIPTION: &str = "<p>We are looking for someone who likes to sell software to mid-sized companies across the region.</p><ul><li>R&amp;D budget</li></ul>";

fn job_xml(id: &str, fields: &[(&str, &str)]) -> String {
    let mut all: Vec<(&str, &str)> = vec![
        ("id", id),
        ("title", "Account Executive"),
        ("description", DESCRIPTION),
        ("url", "https://northwind.example/apply"),
        ("company", "Northwind"),
        ("date", "2026-11-23T09:00:00Z"),
    ];
    for (name, value) in fields {
        match all.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => all.push((name, value)),
        }
    }
    let mut xml = String::from("<job>");
    for (name, value) in all.into_iter().filter(|(_, v)| *v != "-") {
        if name == "city" {
            xml.push_str(&format!("<location><city>{value}</city></location>"));
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
        job_xml("ok", &[("city", "Madrid")]),
        job_xml("no-title", &[("title", "-")]),
        job_xml("short", &[("description", "<p>Sell &amp; grow.</p>")]),
        job_xml(
            "city",
            &[("title", "Account Executive Madrid"), ("city", "Madrid")],
        ),
        job_xml("pay", &[("title", "Account Executive 45,000")]),
        job_xml("urgent", &[("title", "Urgent! Account Executive")]),
        job_xml("ftp", &[("url", "ftp://northwind.example/apply")]),
        job_xml("date", &[("date", "23.11.2026")]),
        job_xml(
            "salary",
            &[("salary_min", "72000"), ("salary_max", "48000")],
        ),
        job_xml(
            "echo",
            &[(
                "description",
                "<p>Account Executive</p><p>Account Executive!</p><p>Account Executive</p><p>Account Executive</p><p>Account Executive</p><p>Account Executive</p>",
            )],
        ),
        job_xml("ok", &[]),
    ];
    let document = format!("<?xml version=\"1.0\"?><jobs>{}</jobs>", jobs.concat());
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
            ("no-title", "<title> is required"),
            (
                "short",
                "<description> holds 12 characters of text; at least 100"
            ),
            (
                "city",
                "<title> names the location (Madrid); a title must be the job title only"
            ),
            (
                "pay",
                "<title> holds a salary or id figure (45,000); a title must be the job title only"
            ),
            (
                "urgent",
                "<title> holds \"urgent\"; a title must be the job title only"
            ),
            (
                "ftp",
                "<url> \"ftp://northwind.example/apply\" is not an http(s) URL"
            ),
            ("date", "<date> \"23.11.2026\" is not an RFC 3339 date"),
            ("salary", "<salary_min> 72000 is above <salary_max> 48000"),
            (
                "echo",
                "<description> only repeats the title; Adzuna removes ads without a real description"
            ),
            ("ok", "<id> ok appears twice"),
        ]
    );

    let broken = (FEED.check)(b"<jobs><job><title>x</job></jobs>");
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

#[tokio::test]
async fn configured_registered_and_crawled_by_the_sandbox() {
    let settings = crate::support::settings();
    let board = settings.board("adzuna").expect("[boards.adzuna]");
    assert!(board.enabled);
    assert_eq!(board.base_url, "http://127.0.0.1:8650/adzuna");
    assert_eq!(board.languages, LANGUAGES);
    assert!(boardcast::boards::mechanism("adzuna").is_some());

    let twin = crate::support::BoardTwin::start("adzuna").await;
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
    let bad = job_xml("urgent", &[("title", "Urgent! Account Executive")]);
    twin.crawl_document(format.document(&[good, bad])).await;
    let report = twin.board.crawl_report().await.unwrap().expect("a report");
    assert_eq!(report.document_error, None);
    assert_eq!(report.accepted, std::slice::from_ref(&reference));
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].reference, "urgent");
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
    let item = adzuna()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .expect("Adzuna takes it");
    assert!(item.contains(&page), "{item}");
    let apply = job.apply.url.clone().expect("the sample has an apply URL");
    assert!(
        !item.contains(&format!("<url><![CDATA[{apply}]]>")),
        "{item}"
    );

    job.apply.url = None;
    job.apply.email = Some("jobs@northwind.example".into());
    let item = adzuna()
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
