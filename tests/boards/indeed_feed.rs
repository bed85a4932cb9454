//! Indeed's XML feed: golden documents for the samples, the format's rules,
//! and the crawler twin's own checks. No database or broker.

use crate::support::{context, publish_samples, sample};
use boardcast::boards::feed::{FeedEntry, FeedFormat, Item, joined};
use boardcast::boards::indeed_feed::IndeedFeed;
use boardcast::feeds::job_pages::JobPages;
use boardcast::intake::message::EmploymentType;
use boardcast::plan::posting_reference;
use boardcast::sandbox::indeed_feed::FEED;
use time::macros::datetime;

fn format() -> IndeedFeed {
    IndeedFeed {
        publisher: "boardcast".into(),
        publisher_url: Some("https://boardcast.example".into()),
        account_email: Some("jobs@northwind.example".into()),
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

#[test]
fn golden_documents() {
    let format = format();
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            let reference = posting_reference(&tenant, &job.id, locale);
            let item = format
                .items(&entry(context(&job, ad, &reference, locale)))
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            let document = format.document(&[item]);
            crate::support::golden(
                "indeed-feed",
                &format!("{stem}.publish.{locale}.xml"),
                &document,
            );
            compared += 1;
        }
    }
    assert!(compared >= 10, "{compared}");
}

#[test]
fn one_job_per_location_and_every_language_intact() {
    let (tenant, job) = sample("account-executive");
    let format = format();
    for (locale, ad) in &job.ads {
        let reference = posting_reference(&tenant, &job.id, locale);
        let document = format.document(&[format
            .items(&entry(context(&job, ad, &reference, locale)))
            .unwrap()]);
        let checked = (FEED.check)(document.as_bytes());
        assert_eq!(checked.document_error, None);
        assert_eq!(checked.items.len(), job.locations.len(), "{locale}");
        for (index, item) in checked.items.iter().enumerate() {
            let expected = if index == 0 {
                reference.clone()
            } else {
                format!("{reference}-{index}")
            };
            assert_eq!(item.reference, expected);
            assert_eq!(item.problem, None, "{locale}: {item:?}");
            assert_eq!(
                item.title, ad.title,
                "{locale}: the title arrives byte for byte"
            );
            assert!(item.fields["description"].contains(&ad.summary), "{locale}");
        }
    }
}

#[test]
fn the_formats_rules_fail_by_name() {
    let (tenant, mut job) = sample("sales-account-executive");
    let reference = posting_reference(&tenant, &job.id, "en");
    job.ads.get_mut("en").unwrap().title = "A".repeat(201);
    let error = format()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .unwrap_err();
    assert_eq!(error.message, "title is 201 characters; Indeed allows 200");

    let (_, mut job) = sample("sales-account-executive");
    job.locations.clear();
    let error = format()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .unwrap_err();
    assert!(
        error.message.contains("once per location"),
        "{}",
        error.message
    );
}

#[test]
fn the_crawler_checks_on_its_own() {
    let document = r#"<?xml version="1.0" encoding="utf-8"?>
<source>
  <job><title><![CDATA[Ingénieur]]></title><date>2026-11-23T09:00:00Z</date>
    <referencenumber>r1</referencenumber><url>https://x.example/1</url><company>X</company>
    <country>FR</country><city>Lyon</city><description><![CDATA[<p>Caf&eacute;</p>]]></description></job>
  <job><date>2026-11-23T09:00:00Z</date><referencenumber>r2</referencenumber>
    <url>https://x.example/2</url><company>X</company><country>FR</country>
    <description><![CDATA[<p>R&amp;D</p>]]></description></job>
  <job><title>Chef in Lyon</title><date>23.11.2026</date><referencenumber>r3</referencenumber>
    <url>https://x.example/3</url><company>X</company><country>FR</country><city>Lyon</city>
    <description>R &amp; D</description></job>
</source>"#;
    let checked = (FEED.check)(document.as_bytes());
    let problems: Vec<(&str, &str)> = checked
        .items
        .iter()
        .map(|i| (i.reference.as_str(), i.problem.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        problems,
        [
            (
                "r1",
                "<description> holds the HTML entity &eacute;; Indeed takes literal characters"
            ),
            ("r2", "<title> is required"),
            ("r3", "<date> \"23.11.2026\" is not ISO 8601"),
        ]
    );
    assert_eq!(
        checked.items[2].fields["description"], "R & D",
        "XML references are resolved"
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

/// Issue 13: `jobtype` as Indeed documents it, `<sourcename>`, `<url>` the
/// job's page, and no HTML entity in the description.
#[test]
fn jobtype_sourcename_url_and_a_description_without_entities() {
    let (tenant, mut job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "en");
    job.ads.get_mut("en").unwrap().summary = "R&D <team> isn't \"small\"".into();
    for (kind, value) in [
        (EmploymentType::FullTime, Some("fulltime")),
        (EmploymentType::PartTime, Some("parttime")),
        (EmploymentType::Contract, Some("contract")),
        (EmploymentType::Temporary, Some("temporary")),
        (EmploymentType::Internship, Some("internship")),
        (EmploymentType::Volunteer, None),
        (EmploymentType::Other, None),
    ] {
        job.employment_type = kind;
        let item = format()
            .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
            .unwrap();
        match value {
            Some(value) => assert!(
                item.contains(&format!("<jobtype><![CDATA[{value}]]></jobtype>")),
                "{kind:?}: {item}"
            ),
            None => assert!(!item.contains("<jobtype>"), "{kind:?}: {item}"),
        }
    }
    job.employment_type = EmploymentType::FullTime;
    let item = format()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .unwrap();
    assert!(
        item.contains("<sourcename><![CDATA[Northwind Traders]]></sourcename>"),
        "{item}"
    );
    assert!(
        item.contains(&format!(
            "<url><![CDATA[https://boardcast.example/jobs/{reference}]]></url>"
        )),
        "{item}"
    );
    let checked = (FEED.check)(format().document(&[item]).as_bytes());
    assert_eq!(checked.document_error, None);
    for job in &checked.items {
        assert_eq!(job.problem, None, "{job:?}");
        let description = &job.fields["description"];
        assert!(
            description.contains("<p>R&D <team> isn't \"small\"</p>"),
            "{description}"
        );
        for entity in ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"] {
            assert!(!description.contains(entity), "{entity} in {description}");
        }
    }
}

/// The crawler twin refuses what Indeed would not read: an entity inside
/// CDATA, a `jobtype` Indeed does not list.
#[test]
fn the_crawler_refuses_entities_in_cdata_and_unknown_job_types() {
    let document = r#"<?xml version="1.0" encoding="utf-8"?>
<source>
  <job><title>A</title><date>2026-11-23T09:00:00Z</date><referencenumber>r1</referencenumber>
    <url>https://x.example/1</url><company>X</company><country>FR</country>
    <description><![CDATA[<p>R&amp;D</p>]]></description></job>
  <job><title>B</title><date>2026-11-23T09:00:00Z</date><referencenumber>r2</referencenumber>
    <url>https://x.example/2</url><company>X</company><country>FR</country>
    <description>R &amp; D</description><jobtype>full_time</jobtype></job>
</source>"#;
    let checked = (FEED.check)(document.as_bytes());
    let problems: Vec<&str> = checked
        .items
        .iter()
        .map(|i| i.problem.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        problems,
        [
            "<description> holds the HTML entity &amp;; Indeed takes literal characters",
            "<jobtype> \"full_time\" is not one of Indeed's: fulltime, parttime, contract, temporary, internship",
        ]
    );
}

/// A job in several cities is one `<job>` per city, each with the whole
/// description: the cached pieces hold that description once, and read back
/// as exactly the items the format renders.
#[test]
fn a_job_in_several_cities_is_cached_with_one_copy_of_its_description() {
    let (tenant, job) = sample("account-executive");
    assert!(job.locations.len() >= 3, "the sample has several cities");
    let format = format();
    let reference = posting_reference(&tenant, &job.id, "en");
    let entry = entry(context(&job, &job.ads["en"], &reference, "en"));
    let pieces = format.item_pieces(&entry).unwrap();
    let text = format.items(&entry).unwrap();
    assert_eq!(joined(&pieces), text);
    assert_eq!(text.matches("<job>").count(), job.locations.len());
    let mut distinct: Vec<&bytes::Bytes> = Vec::new();
    for piece in &pieces {
        if !distinct.iter().any(|seen| seen.as_ptr() == piece.as_ptr()) {
            distinct.push(piece);
        }
    }
    let held: usize = distinct.iter().map(|piece| piece.len()).sum();
    let description = job.ads["en"].summary.as_str();
    assert_eq!(
        distinct
            .iter()
            .filter(|piece| std::str::from_utf8(piece).unwrap().contains(description))
            .count(),
        1,
        "the description is held once"
    );
    assert!(
        held * 2 < text.len(),
        "{held} bytes held for a text of {}",
        text.len()
    );
}

/// The served document shares the items' bytes: no part of it is a copy of
/// an item (a feed of megabytes was assembled into a second copy per build).
#[test]
fn the_served_parts_share_the_items_bytes() {
    let (tenant, job) = sample("account-executive");
    let format = format();
    let items: Vec<Item> = (0..50)
        .map(|i| {
            let reference = format!("{}-{i}", posting_reference(&tenant, &job.id, "en"));
            format
                .item_pieces(&entry(context(&job, &job.ads["en"], &reference, "en")))
                .unwrap()
        })
        .collect();
    let parts = format.parts(&items);
    for piece in items.iter().flatten() {
        assert!(
            parts.iter().any(|part| part.as_ptr() == piece.as_ptr()),
            "an item was copied"
        );
    }
    let copied: usize = parts.iter().map(bytes::Bytes::len).sum::<usize>()
        - items.iter().flatten().map(bytes::Bytes::len).sum::<usize>();
    assert!(copied < 1024, "{copied} bytes besides the items");
}
