//! Every document we serve, for ads holding arbitrary text: each feed
//! board's document and the sitemap are well-formed for a strict XML 1.0
//! parser (roxmltree), as a real crawler reads them (issue 12, finding 3).

use std::sync::Arc;

use boardcast::boards::feed::{FeedEntry, FeedFormat};
use boardcast::feeds::job_pages::sitemap_xml;
use proptest::prelude::*;
use time::OffsetDateTime;

use crate::support;

/// Every feed board's format, built from `config/`.
fn formats() -> Vec<Arc<dyn FeedFormat>> {
    let settings = support::settings();
    settings
        .board_ids()
        .into_iter()
        .filter_map(|id| {
            let mut settings = settings.clone();
            settings.boards.get_mut(&id.replace('-', "_"))?.enabled = true;
            boardcast::boards::build_one(&settings, &id).ok()?.feed()
        })
        .collect()
}

/// Text as an ATS might send it: printable, XML-special, control and
/// non-characters, CDATA terminators.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        "[a-zA-Z ]{1,12}",
        Just("]]>".to_owned()),
        Just("<b>&amp;</b>".to_owned()),
        Just("\"'".to_owned()),
        any::<char>().prop_map(String::from),
        (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap().to_string()),
        Just("\u{fffe}\u{ffff}\u{7f}\u{85}".to_owned()),
    ];
    proptest::collection::vec(pieces, 1..8).prop_map(|parts| parts.concat())
}

fn well_formed(what: &str, document: &str) {
    if let Err(error) = roxmltree::Document::parse(document) {
        panic!("{what} is not well-formed XML 1.0: {error}\n{document:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn feeds_stay_well_formed_whatever_the_ad_says(
        title in hostile_text(),
        summary in hostile_text(),
        item in hostile_text(),
        company in hostile_text(),
        city in hostile_text(),
    ) {
        thread_local! {
            static FORMATS: Vec<Arc<dyn FeedFormat>> = formats();
        }
        let (tenant, mut job) = support::sample("account-executive");
        job.company.name = format!("Northwind {company}");
        job.locations[0].city = format!("Athens {city}");
        let (locale, mut ad) = job.ads.iter().next().map(|(l, a)| (l.clone(), a.clone())).unwrap();
        ad.title = format!("Account Executive {title}");
        ad.summary = format!("We sell {summary}");
        ad.responsibilities.push(item.clone());
        ad.benefits.push(item);
        let now = OffsetDateTime::now_utc();
        FORMATS.with(|formats| {
            assert!(formats.len() >= 8, "every feed board: {}", formats.len());
            for format in formats {
                let mut posting = support::context(&job, &ad, "ref1", &locale);
                posting.tenant_id = &tenant;
                let entry = FeedEntry { posting, first_published: now, updated: now };
                // A board's own rules may refuse the ad; what is served must parse.
                let items: Vec<String> = format.items(&entry).into_iter().collect();
                well_formed(format.file_name(), &format.document(&items));
            }
        });
    }

    #[test]
    fn the_sitemap_stays_well_formed(path in hostile_text()) {
        let pages = vec![(format!("https://jobs.example/{path}"), OffsetDateTime::now_utc())];
        well_formed("sitemap.xml", &sitemap_xml(&pages));
    }
}
