//! Vagas.pt's XML feed: golden documents for the Portuguese samples, the
//! format's rules, the nightly sync twin's own checks, and one sync through
//! the sandbox. No database or broker.
//!
//! `UPDATE_GOLDEN=1 cargo test --test board_vagas` rewrites the golden files.

use crate::support::{context, publish_samples, sample};
use boardcast::boards::feed::{FeedEntry, FeedFormat};
use boardcast::boards::render::escape_html;
use boardcast::boards::vagas::Vagas;
use boardcast::boards::{PostingContext, Receipt};
use boardcast::intake::message::primary_language;
use boardcast::plan::posting_reference;
use boardcast::sandbox::vagas::FEED;
use time::macros::datetime;

const BOARD: &str = "vagas";
const CONTACT: &str = "candidaturas@northwind.example";

fn format() -> Vagas {
    Vagas {
        contact_email: Some(CONTACT.into()),
    }
}

fn entry(posting: PostingContext<'_>) -> FeedEntry<'_> {
    FeedEntry {
        posting,
        first_published: datetime!(2026-11-23 09:00:00 UTC),
        updated: datetime!(2026-11-23 10:00:00 UTC),
    }
}

/// The languages `config/default.toml` gives Vagas.pt.
fn languages() -> Vec<String> {
    crate::support::settings()
        .board(BOARD)
        .expect("[boards.vagas]")
        .languages
        .clone()
}

#[test]
fn golden_documents() {
    let languages = languages();
    assert_eq!(languages, ["pt"], "Vagas.pt is Portuguese only");
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let item = format()
                .items(&entry(context(&job, ad, &reference, locale)))
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            crate::support::golden(
                BOARD,
                &format!("{stem}.publish.{locale}.xml"),
                &format().document(&[item]),
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 2, "the two Portuguese ads");
}

/// The sales-account-executive sample's Portuguese ad (ç, ã, é, ó...)
/// arrives byte for byte, in the document and through the sync's reader.
#[test]
fn portuguese_survives_byte_for_byte() {
    let (tenant, job) = sample("sales-account-executive");
    let ad = &job.ads["pt"];
    let reference = posting_reference(&tenant, &job.id, "pt");
    let document = format().document(&[format()
        .items(&entry(context(&job, ad, &reference, "pt")))
        .unwrap()]);
    for text in [
        "Executivo(a) de Contas de Vendas",
        "satisfação do primeiro contacto ao pós-venda",
        "Experiência comprovada",
        "reuniões",
        "Conhecimentos sólidos",
    ] {
        assert!(document.contains(text), "{text} in the document");
    }
    let bytes = document.as_bytes();
    for needle in ["ç".as_bytes(), "ã".as_bytes(), "é".as_bytes()] {
        assert!(
            bytes.windows(needle.len()).any(|w| w == needle),
            "UTF-8 {needle:?} in the document"
        );
    }
    let checked = (FEED.check)(bytes);
    assert_eq!(checked.document_error, None);
    let [item] = checked.items.as_slice() else {
        panic!("one job: {:?}", checked.items);
    };
    assert_eq!(item.problem, None, "{item:?}");
    assert_eq!(item.reference, reference);
    assert_eq!(item.title.as_bytes(), ad.title.as_bytes());
    let description = &item.fields["description"];
    for text in std::iter::once(&ad.summary)
        .chain(&ad.responsibilities)
        .chain(&ad.requirements)
    {
        assert!(description.contains(&escape_html(text)), "{text}");
    }
    assert!(description.ends_with(
        "<p>Candidaturas: <a href=\"https://northwind.example/careers/SAE-77/apply\">https://northwind.example/careers/SAE-77/apply</a></p>"
    ));
    assert_eq!(item.fields["city"], "Porto");
    assert_eq!(item.fields["country"], "PT");
    assert_eq!(item.fields["address"], "4000-322 Porto");
    assert_eq!(
        item.fields["email"], CONTACT,
        "the job has only an apply URL"
    );
}

#[test]
fn the_sync_takes_every_portuguese_sample() {
    let mut items = Vec::new();
    let mut expected = Vec::new();
    for (stem, tenant, job) in publish_samples() {
        let Some(ad) = job.ads.get("pt") else {
            continue;
        };
        let reference = posting_reference(&tenant, &job.id, "pt");
        items.push(
            format()
                .items(&entry(context(&job, ad, &reference, "pt")))
                .unwrap(),
        );
        expected.push((stem, reference, job.clone()));
    }
    let checked = (FEED.check)(format().document(&items).as_bytes());
    assert_eq!(checked.document_error, None);
    assert_eq!(checked.items.len(), expected.len());
    for (item, (stem, reference, job)) in checked.items.iter().zip(&expected) {
        assert_eq!(item.problem, None, "{stem}: {item:?}");
        assert_eq!(&item.reference, reference);
        assert_eq!(item.title, job.ads["pt"].title);
        assert_eq!(
            item.fields["country"], "PT",
            "{stem}: the job's location in Portugal"
        );
    }
    let lisbon = checked
        .items
        .iter()
        .find(|i| i.title == "Executivo(a) de Contas")
        .expect("the six-location job");
    assert_eq!(
        lisbon.fields["city"], "Lisboa",
        "its Portuguese location, not its first, by its Portuguese name"
    );
    assert_eq!(lisbon.fields["salary_rate"], "48000 - 72000 EUR por ano");
}

#[test]
fn the_formats_rules_fail_by_name() {
    let (tenant, job) = sample("sales-account-executive");
    let reference = posting_reference(&tenant, &job.id, "pt");
    let without_contact = Vagas {
        contact_email: None,
    };
    let error = without_contact
        .items(&entry(context(&job, &job.ads["pt"], &reference, "pt")))
        .unwrap_err();
    assert_eq!(
        error.message,
        "Vagas.pt needs an apply e-mail (<email>); the job has only an apply URL and options.contact_email is not set"
    );

    let mut with_email = job.clone();
    with_email.apply.email = Some("rh@northwind.example".into());
    let item = without_contact
        .items(&entry(context(
            &with_email,
            &with_email.ads["pt"],
            &reference,
            "pt",
        )))
        .unwrap();
    assert!(item.contains("<email><![CDATA[rh@northwind.example]]></email>"));
    let item = format()
        .items(&entry(context(
            &with_email,
            &with_email.ads["pt"],
            &reference,
            "pt",
        )))
        .unwrap();
    assert!(
        item.contains("<email><![CDATA[rh@northwind.example]]></email>"),
        "the job's own e-mail comes first"
    );

    let broken_contact = Vagas {
        contact_email: Some("candidaturas at northwind".into()),
    };
    let error = broken_contact
        .items(&entry(context(&job, &job.ads["pt"], &reference, "pt")))
        .unwrap_err();
    assert_eq!(
        error.message,
        "Vagas.pt needs an apply e-mail (<email>); \"candidaturas at northwind\" is not an e-mail address"
    );

    let error = format()
        .items(&entry(context(&job, &job.ads["en"], &reference, "en")))
        .unwrap_err();
    assert_eq!(
        error.message,
        "Vagas.pt publishes Portuguese ads only; this ad is in \"en\""
    );

    let mut nowhere = job.clone();
    nowhere.locations.clear();
    let error = format()
        .items(&entry(context(
            &nowhere,
            &nowhere.ads["pt"],
            &reference,
            "pt",
        )))
        .unwrap_err();
    assert_eq!(
        error.message,
        "Vagas.pt needs the <city> of a job in Portugal; the job names none"
    );
}

#[test]
fn the_sync_checks_on_its_own() {
    let document = r#"<?xml version="1.0" encoding="utf-8"?>
<jobs>
  <job><id><![CDATA[v1]]></id><title><![CDATA[Técnico de manutenção]]></title>
    <country>PT</country><city>Braga</city>
    <description><![CDATA[<p>Manutenção <img src="https://x.example/a.png"></p>]]></description>
    <email>rh@x.example</email></job>
  <job><id>v2</id><title>Cozinheiro</title><country>PT</country>
    <description>Cozinha</description><email>rh@x.example</email></job>
  <job><id>v3</id><title>Cook</title><country>ES</country>
    <description>Kitchen</description><email>rh@x.example</email></job>
  <job><id>v4</id><title>Cozinheiro</title><city>Faro</city>
    <description>Cozinha</description></job>
  <job><id>v5</id><title>Cozinheiro</title><city>Faro</city>
    <description>Cozinha</description><email>rh at x.example</email></job>
  <job><id>v6</id><title>Cozinheiro</title><country>Portugal</country><city>Faro</city>
    <description>Cozinha</description><email>rh@x.example</email></job>
  <job><id>v1</id><title>Cozinheiro</title><city>Faro</city>
    <description>Cozinha</description><email>rh@x.example</email></job>
  <job><id>v7</id><title>Cozinheiro</title>
    <description>Cozinha</description><email>rh@x.example</email></job>
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
            ("v1", ""),
            ("v2", "<city> is required for a job in Portugal"),
            ("v3", ""),
            ("v4", "<email> is required"),
            ("v5", "<email> \"rh at x.example\" is not an e-mail address"),
            (
                "v6",
                "<country> \"Portugal\" is not a two-letter country code"
            ),
            ("v1", "<id> v1 appears twice"),
            ("v7", "<city> is required for a job in Portugal"),
        ]
    );
    assert_eq!(checked.items[0].title, "Técnico de manutenção");

    let broken = (FEED.check)(b"<jobs><job><id>1</job></jobs>");
    assert!(
        broken
            .document_error
            .unwrap()
            .starts_with("not well-formed XML")
    );
    let wrong_root = (FEED.check)(b"<vagas></vagas>");
    assert_eq!(
        wrong_root.document_error.as_deref(),
        Some("the root element is <vagas>; expected <jobs>")
    );
}

/// The adapter built from `config/` (no contact e-mail there), a sync by the
/// sandbox's Vagas.pt, and the sync report read back by the adapter.
#[tokio::test]
async fn a_sync_reaches_the_report_the_adapter_reads() {
    let twin = crate::support::BoardTwin::start(BOARD).await;
    let feed = twin.board.feed().expect("Vagas.pt is a feed board");
    assert_eq!(feed.file_name(), FEED.file);
    assert!(
        boardcast::sandbox::FEED_TWINS
            .iter()
            .any(|t| t.board == BOARD)
    );

    let (tenant, mut job) = sample("sales-account-executive");
    let reference = posting_reference(&tenant, &job.id, "pt");
    let error = twin
        .publish(&context(&job, &job.ads["pt"], &reference, "pt"))
        .await
        .unwrap_err();
    assert!(
        error.message.contains("options.contact_email is not set"),
        "{}",
        error.message
    );

    job.apply.email = Some("rh@northwind.example".into());
    let posting = context(&job, &job.ads["pt"], &reference, "pt");
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
    assert_eq!(held.title, "Executivo(a) de Contas de Vendas");
    assert!(held.live);
}

/// Issue 13: Vagas.pt writes Portuguese places by their Portuguese names
/// (its spec's example: `<city>Lisboa</city>`, `<country>PT</country>`).
#[test]
fn portuguese_cities_go_by_their_portuguese_names() {
    let (tenant, mut job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "pt");
    let lisbon = job
        .locations
        .iter_mut()
        .find(|l| l.country == "PT")
        .unwrap();
    assert_eq!(lisbon.city, "Lisbon", "the sample writes it in English");
    let item = format()
        .items(&entry(context(&job, &job.ads["pt"], &reference, "pt")))
        .unwrap();
    assert!(item.contains("<city><![CDATA[Lisboa]]></city>"), "{item}");
    assert!(item.contains("<country><![CDATA[PT]]></country>"), "{item}");
    assert!(!item.contains("Lisbon"), "{item}");

    job.locations
        .iter_mut()
        .find(|l| l.country == "PT")
        .unwrap()
        .city = "Oporto".into();
    let item = format()
        .items(&entry(context(&job, &job.ads["pt"], &reference, "pt")))
        .unwrap();
    assert!(item.contains("<city><![CDATA[Porto]]></city>"), "{item}");
}

/// Issue 13: the twin reads the feed with a strict XML 1.0 parser, as a
/// real crawler does: a control character (not allowed in XML 1.0, not
/// even in CDATA) makes the whole document unreadable.
#[test]
fn the_twin_refuses_a_document_a_strict_xml_parser_refuses() {
    crate::support::assert_twin_refuses_a_control_character(&FEED, "jobs", "job");
}
