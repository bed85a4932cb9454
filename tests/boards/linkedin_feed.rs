//! LinkedIn's Limited Listings XML feed: the samples refused for their apply
//! URL, golden documents for variants LinkedIn takes, the format's rules, the
//! title as a fixed field, and the crawler twin's own checks. No database or
//! broker.

use crate::support::{context, publish_samples, sample};
use boardcast::boards::feed::{FeedEntry, FeedFormat};
use boardcast::boards::linkedin_feed::{LinkedInFeed, location_string};
use boardcast::boards::render::escape_html;
use boardcast::config::TenantProfile;
use boardcast::intake::message::{Job, Location, Poster};
use boardcast::plan::posting_reference;
use boardcast::sandbox::linkedin_feed::FEED;
use time::macros::datetime;

const LANGUAGES: [&str; 6] = ["en", "es", "de", "fr", "el", "pt"];

/// `contoso`, the tenant of every test posting, has a default poster.
fn format() -> LinkedInFeed {
    let contoso = TenantProfile {
        poster: Some(Poster {
            name: Some("Ana Pérez".into()),
            email: "ana.perez@contoso.example".into(),
        }),
        ..TenantProfile::default()
    };
    LinkedInFeed {
        company_id: "2414183".into(),
        publisher: "boardcast".into(),
        publisher_url: Some("https://www.boardcast.example".into()),
        tenant_profiles: [("contoso".to_owned(), contoso)].into(),
    }
}

fn entry<'a>(posting: boardcast::boards::PostingContext<'a>) -> FeedEntry<'a> {
    FeedEntry {
        posting,
        first_published: datetime!(2026-11-23 09:00:00 UTC),
        updated: datetime!(2026-11-23 10:00:00 UTC),
    }
}

/// The sample with its apply URL on a `www.` host, the one change LinkedIn's
/// rule asks for: the samples' own URLs (`https://northwind.example/...`,
/// `https://contoso.example/...`) do not start with `https://www`.
fn with_www(mut job: Job) -> Job {
    let url = job.apply.url.take().expect("the samples have an apply URL");
    job.apply.url = Some(url.replacen("https://", "https://www.", 1));
    job
}

#[test]
fn the_samples_are_refused_for_their_apply_url() {
    let format = format();
    let mut refused = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            let reference = posting_reference(&tenant, &job.id, locale);
            let error = format
                .items(&entry(context(&job, ad, &reference, locale)))
                .expect_err(&format!("{stem}.{locale}"));
            assert_eq!(
                error.message,
                format!(
                    "applyUrl \"{}\" does not start with \"https://www\"; LinkedIn's feed takes only apply URLs that do",
                    job.apply.url.as_deref().unwrap()
                ),
                "{stem}.{locale}"
            );
            refused += 1;
        }
    }
    assert!(refused >= 10, "{refused}");
}

#[test]
fn golden_documents() {
    let format = format();
    let mut compared = 0;
    for (stem, tenant, job) in publish_samples() {
        let job = with_www(job);
        for (locale, ad) in job
            .ads
            .iter()
            .filter(|(l, _)| LANGUAGES.contains(&l.as_str()))
        {
            let reference = posting_reference(&tenant, &job.id, locale);
            let item = format
                .items(&entry(context(&job, ad, &reference, locale)))
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            let document = format.document(&[item]);
            crate::support::golden(
                "linkedin-feed",
                &format!("{stem}.publish.{locale}.xml"),
                &document,
            );
            compared += 1;
        }
    }
    assert!(compared >= 10, "{compared}");
}

#[test]
fn the_crawler_takes_every_variant_and_the_text_arrives_intact() {
    let format = format();
    let mut checked_variants = 0;
    for (stem, tenant, job) in publish_samples() {
        let job = with_www(job);
        for (locale, ad) in &job.ads {
            let reference = posting_reference(&tenant, &job.id, locale);
            let document = format.document(&[format
                .items(&entry(context(&job, ad, &reference, locale)))
                .unwrap()]);
            let checked = (FEED.check)(document.as_bytes());
            assert_eq!(checked.document_error, None, "{stem}.{locale}");
            assert_eq!(
                checked.items.len(),
                1,
                "{stem}.{locale}: one job per posting"
            );
            let item = &checked.items[0];
            assert_eq!(item.problem, None, "{stem}.{locale}: {item:?}");
            assert_eq!(item.reference, reference);
            assert_eq!(item.title, ad.title, "{stem}.{locale}: byte for byte");
            assert!(
                item.fields["description"].contains(&escape_html(&ad.summary)),
                "{stem}.{locale}"
            );
            assert_eq!(item.fields["companyId"], "2414183");
            assert_eq!(item.fields["company"], job.company.name);
            checked_variants += 1;
        }
    }
    assert!(checked_variants >= 10);
    let (_, job) = sample("account-executive");
    assert!(
        job.ads["el"].title.contains("Στέλεχος"),
        "the Greek variant is among those checked"
    );
}

#[test]
fn locations_read_city_state_in_the_us_and_city_country_elsewhere() {
    let (_, boston) = sample("account-manager");
    assert_eq!(location_string(&boston.locations[0]).unwrap(), "Boston, MA");
    let (_, madrid) = sample("account-executive");
    let cities: Vec<String> = madrid
        .locations
        .iter()
        .map(|l| location_string(l).unwrap())
        .collect();
    assert_eq!(
        cities,
        [
            "Madrid, Spain",
            "Berlin, Germany",
            "Paris, France",
            "Athens, Greece",
            "Lisbon, Portugal",
            "Dublin, Ireland"
        ]
    );
    let london = Location {
        city: "London".into(),
        region: None,
        country: "GB".into(),
        postal_code: None,
    };
    assert_eq!(location_string(&london).unwrap(), "London, United Kingdom");
}

#[test]
fn the_title_is_a_fixed_field() {
    let (tenant, job) = sample("account-executive");
    let job = with_www(job);
    let reference = posting_reference(&tenant, &job.id, "en");
    let format = format();
    let before = format.fixed_fields(&context(&job, &job.ads["en"], &reference, "en"));
    assert_eq!(before.as_deref(), Some("title \"Account Executive\""));

    // Anything but the title may change in place.
    let mut edited = job.clone();
    let ad = edited.ads.get_mut("en").unwrap();
    ad.summary.push_str(" Now with a bigger territory.");
    edited.locations.reverse();
    assert_eq!(
        format.fixed_fields(&context(&edited, &edited.ads["en"], &reference, "en")),
        before
    );

    // A new title is a new job at LinkedIn.
    let mut renamed = job.clone();
    renamed.ads.get_mut("en").unwrap().title = "Senior Account Executive".into();
    let after = format.fixed_fields(&context(&renamed, &renamed.ads["en"], &reference, "en"));
    assert_ne!(after, before);
    assert_eq!(after.as_deref(), Some("title \"Senior Account Executive\""));
}

#[test]
fn the_formats_rules_fail_by_name() {
    let (tenant, job) = sample("sales-account-executive");
    let job = with_www(job);
    let reference = posting_reference(&tenant, &job.id, "en");
    let format = format();
    let error_of = |job: &Job, reference: &str| {
        format
            .items(&entry(context(job, &job.ads["en"], reference, "en")))
            .unwrap_err()
            .message
    };

    let long = "r".repeat(41);
    assert_eq!(
        error_of(&job, &long),
        "partnerJobId is 41 characters; LinkedIn allows 40"
    );
    assert!(
        format
            .items(&entry(context(&job, &job.ads["en"], &"r".repeat(40), "en")))
            .is_ok(),
        "40 characters are allowed"
    );

    let mut short = job.clone();
    let ad = short.ads.get_mut("en").unwrap();
    ad.summary = "Sell.".into();
    ad.responsibilities.clear();
    ad.requirements.clear();
    ad.benefits = vec!["Pay".into()];
    // "Sell." + "Benefits" + "Pay": the tags do not count.
    assert_eq!(
        error_of(&short, &reference),
        "description is 16 characters of text; LinkedIn needs at least 100"
    );

    let mut email_only = job.clone();
    email_only.apply.url = None;
    email_only.apply.email = Some("jobs@northwind.example".into());
    assert_eq!(
        error_of(&email_only, &reference),
        "LinkedIn's feed needs an applyUrl; the job has only an apply email"
    );

    let mut http = job.clone();
    http.apply.url = Some("http://www.northwind.example/apply".into());
    assert_eq!(
        error_of(&http, &reference),
        "applyUrl \"http://www.northwind.example/apply\" does not start with \"https://www\"; LinkedIn's feed takes only apply URLs that do"
    );

    let mut us = job.clone();
    us.locations[0] = Location {
        city: "Boston".into(),
        region: Some("Massachusetts".into()),
        country: "US".into(),
        postal_code: None,
    };
    assert_eq!(
        error_of(&us, &reference),
        "LinkedIn wants a US location as \"City, ST\"; the region of Boston is \"Massachusetts\", not a two-letter state code"
    );

    let mut nowhere = job.clone();
    nowhere.locations.clear();
    assert_eq!(
        error_of(&nowhere, &reference),
        "LinkedIn's feed needs a location for each job; the job has none"
    );
}

#[test]
fn the_document_counts_its_jobs_and_dates_itself_by_the_newest_job() {
    let format = format();
    let (tenant, first) = sample("sales-account-executive");
    let first = with_www(first);
    let (_, second) = sample("account-manager");
    let second = with_www(second);
    let a = posting_reference(&tenant, &first.id, "pt");
    let b = posting_reference(&tenant, &second.id, "en");
    let older = FeedEntry {
        posting: context(&first, &first.ads["pt"], &a, "pt"),
        first_published: datetime!(2026-11-01 08:00:00 UTC),
        updated: datetime!(2026-11-20 08:00:00 UTC),
    };
    let newer = FeedEntry {
        posting: context(&second, &second.ads["en"], &b, "en"),
        first_published: datetime!(2026-11-02 08:00:00 UTC),
        updated: datetime!(2026-11-22 17:30:05 UTC),
    };
    let document = format.document(&[format.items(&newer).unwrap(), format.items(&older).unwrap()]);
    assert!(
        document.contains(
            "<source><lastBuildDate>Sun, 22 Nov 2026 17:30:05 +0000</lastBuildDate><publisherURL>https://www.boardcast.example</publisherURL><publisher>boardcast</publisher><expectedJobCount>2</expectedJobCount><job>"
        ),
        "{document}"
    );
    assert!(!document.contains("<!--"), "the markers are removed");
    let checked = (FEED.check)(document.as_bytes());
    assert_eq!(checked.document_error, None);
    assert_eq!(
        checked
            .items
            .iter()
            .map(|i| &i.reference)
            .collect::<Vec<_>>(),
        [&b, &a],
        "in the order given"
    );

    let empty = format.document(&[]);
    assert_eq!(
        empty,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<source><publisherURL>https://www.boardcast.example</publisherURL><publisher>boardcast</publisher><expectedJobCount>0</expectedJobCount></source>\n"
    );
    assert_eq!((FEED.check)(empty.as_bytes()).document_error, None);
}

#[test]
fn the_adapter_needs_the_company_id() {
    let settings = crate::support::settings();
    assert!(boardcast::boards::build_one(&settings, "linkedin-feed").is_ok());
    let mut settings = crate::support::settings();
    settings
        .boards
        .get_mut("linkedin_feed")
        .unwrap()
        .options
        .remove("company_id");
    let error = boardcast::boards::build_one(&settings, "linkedin-feed")
        .err()
        .expect("no company id");
    assert_eq!(
        error.to_string(),
        "board \"linkedin-feed\" needs option \"company_id\" in [boards.linkedin_feed.options]"
    );
}

fn job_xml(id: &str, fields: &[(&str, &str)]) -> String {
    let description = "<p>We are looking for someone who likes to sell software to mid-sized companies across the region.</p><ul><li>R&amp;D budget</li></ul>";
    let mut all: Vec<(&str, &str)> = vec![
        ("partnerJobId", id),
        ("company", "Northwind"),
        ("title", "Account Executive"),
        ("description", description),
        ("applyUrl", "https://www.northwind.example/apply"),
        ("companyId", "2414183"),
        ("location", "Madrid, Spain"),
        ("workplaceTypes", "Hybrid"),
        ("posterEmail", "ana.perez@contoso.example"),
    ];
    for (name, value) in fields {
        match all.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => all.push((name, value)),
        }
    }
    let mut xml = String::from("<job>");
    for (name, value) in all.into_iter().filter(|(_, v)| *v != "-") {
        xml.push_str(&format!("<{name}><![CDATA[{value}]]></{name}>"));
    }
    xml.push_str("</job>");
    xml
}

#[test]
fn the_crawler_checks_on_its_own() {
    let jobs = [
        job_xml("ok", &[]),
        job_xml("no-company-id", &[("companyId", "-")]),
        job_xml(&"x".repeat(41), &[]),
        job_xml("short", &[("description", "<p>Sell &amp; earn.</p>")]),
        job_xml("no-www", &[("applyUrl", "https://northwind.example/apply")]),
        job_xml("city-only", &[("location", "Madrid")]),
        job_xml("anywhere", &[("workplaceTypes", "Anywhere")]),
        job_xml("no-poster", &[("posterEmail", "-")]),
        job_xml("bad-poster", &[("posterEmail", "Ana Pérez")]),
        job_xml("ok", &[]),
    ];
    let document = format!(
        "<?xml version=\"1.0\"?><source><publisher>x</publisher><expectedJobCount>{}</expectedJobCount>{}</source>",
        jobs.len(),
        jobs.concat()
    );
    let checked = (FEED.check)(document.as_bytes());
    assert_eq!(checked.document_error, None);
    let problems: Vec<(String, String)> = checked
        .items
        .iter()
        .map(|i| (i.reference.clone(), i.problem.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        problems,
        [
            ("ok".to_owned(), String::new()),
            ("no-company-id".into(), "<companyId> is required".into()),
            (
                "x".repeat(41),
                "<partnerJobId> is 41 characters; at most 40".into()
            ),
            (
                "short".into(),
                "<description> holds 12 characters of text; at least 100".into()
            ),
            (
                "no-www".into(),
                "<applyUrl> \"https://northwind.example/apply\" does not start with https://www"
                    .into()
            ),
            (
                "city-only".into(),
                "<location> \"Madrid\" is not \"City, ST\" or \"City, Country\"".into()
            ),
            (
                "anywhere".into(),
                "<workplaceTypes> \"Anywhere\" is not one of On-site, Hybrid, Remote".into()
            ),
            ("no-poster".into(), "<posterEmail> is required".into()),
            (
                "bad-poster".into(),
                "<posterEmail> \"Ana Pérez\" is not an e-mail address".into()
            ),
            ("ok".into(), "<partnerJobId> ok appears twice".into()),
        ]
    );

    // Only the crawler: a feed that says it holds more jobs than it does.
    let cut_short = format!(
        "<source><expectedJobCount>3</expectedJobCount>{}</source>",
        job_xml("ok", &[])
    );
    let checked = (FEED.check)(cut_short.as_bytes());
    assert_eq!(
        checked.document_error.as_deref(),
        Some(
            "<expectedJobCount> is 3 but the feed holds 1 jobs; LinkedIn does not ingest a feed that looks cut short"
        )
    );
    assert!(checked.items.is_empty());

    let broken = (FEED.check)(b"<source><job><title>x</job></source>");
    assert!(
        broken
            .document_error
            .unwrap()
            .starts_with("not well-formed XML")
    );
    // A strict XML 1.0 parser: a control character is not XML.
    let control = (FEED.check)(
        format!(
            "<source>{}</source>",
            job_xml("bell", &[("title", "Sales\u{7}")])
        )
        .as_bytes(),
    );
    assert!(
        control
            .document_error
            .as_deref()
            .is_some_and(|e| e.starts_with("not well-formed XML")),
        "{control:?}"
    );
    // The guide spells it publisherURL; another spelling is not LinkedIn's field.
    let misspelt =
        (FEED.check)(b"<source><publisherUrl>https://www.x.example</publisherUrl></source>");
    assert_eq!(
        misspelt.document_error.as_deref(),
        Some(
            "<publisherUrl> is not a field of LinkedIn's feed; <source> holds lastBuildDate, publisherURL, publisher, expectedJobCount, job"
        )
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
    let board = settings
        .board("linkedin-feed")
        .expect("[boards.linkedin_feed]");
    assert!(board.enabled);
    assert_eq!(board.base_url, "http://127.0.0.1:8650/linkedin-feed");
    assert_eq!(board.languages, LANGUAGES);
    assert!(boardcast::boards::mechanism("linkedin-feed").is_some());

    let twin = crate::support::BoardTwin::start("linkedin-feed").await;
    let format = twin.board.feed().expect("a feed board");
    assert_eq!(format.file_name(), FEED.file);
    assert_eq!(
        twin.board.crawl_report().await.unwrap(),
        None,
        "nothing crawled yet"
    );

    let (tenant, job) = sample("sales-account-executive");
    let mut job = with_www(job);
    // config/default.toml gives no tenant a default poster: the job names one.
    job.poster = Some(Poster {
        name: None,
        email: "li.wei@northwind.example".into(),
    });
    let reference = posting_reference(&tenant, &job.id, "pt");
    let good = format
        .items(&entry(context(&job, &job.ads["pt"], &reference, "pt")))
        .unwrap();
    let bad = job_xml("no-www", &[("applyUrl", "https://northwind.example/apply")]);
    twin.crawl_document(format.document(&[good, bad])).await;
    let report = twin.board.crawl_report().await.unwrap().expect("a report");
    assert_eq!(report.document_error, None);
    assert_eq!(report.accepted, std::slice::from_ref(&reference));
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].reference, "no-www");
    assert_eq!(twin.live_copies(&reference), 1);
    assert_eq!(twin.only().title, job.ads["pt"].title);
}

/// LinkedIn requires the job poster's e-mail (June 2025): the message's
/// poster wins, the tenant's default stands in, and with neither the job is
/// refused by name before it reaches the feed.
#[test]
fn the_poster_email_comes_from_the_job_or_the_tenant_or_the_job_is_refused() {
    let (tenant, job) = sample("sales-account-executive");
    let job = with_www(job);
    let reference = posting_reference(&tenant, &job.id, "en");
    let item = |format: &LinkedInFeed, job: &Job| {
        format.items(&entry(context(job, &job.ads["en"], &reference, "en")))
    };

    let from_tenant = item(&format(), &job).unwrap();
    assert!(
        from_tenant.contains("<posterEmail><![CDATA[ana.perez@contoso.example]]></posterEmail>"),
        "{from_tenant}"
    );

    let mut own = job.clone();
    own.poster = Some(Poster {
        name: None,
        email: "li.wei@northwind.example".into(),
    });
    let from_job = item(&format(), &own).unwrap();
    assert!(
        from_job.contains("<posterEmail><![CDATA[li.wei@northwind.example]]></posterEmail>"),
        "{from_job}"
    );

    let mut no_default = format();
    no_default.tenant_profiles.clear();
    let error = item(&no_default, &job).unwrap_err();
    assert_eq!(
        error.message,
        "LinkedIn requires the job poster's e-mail (posterEmail) on every job: the message has no job.poster and tenant \"contoso\" has no default (set poster_email in [tenants.contoso])"
    );
    assert!(
        item(&no_default, &own).is_ok(),
        "the job's own poster is enough"
    );
}

/// The served document serves each item without its date marker as a
/// slice of the cached item, not a copy.
#[test]
fn the_served_parts_are_slices_of_the_items() {
    let (tenant, job) = sample("account-executive");
    let job = with_www(job);
    let format = format();
    let items: Vec<Vec<bytes::Bytes>> = ["en", "de"]
        .iter()
        .map(|locale| {
            let reference = posting_reference(&tenant, &job.id, locale);
            let item = format
                .items(&entry(context(&job, &job.ads[*locale], &reference, locale)))
                .unwrap();
            assert!(item.starts_with("<!--updated:"), "{item}");
            vec![bytes::Bytes::from(item)]
        })
        .collect();
    let parts = format.parts(&items);
    for item in items.iter().flatten() {
        let inside = item.as_ptr_range();
        let slice = parts
            .iter()
            .find(|part| inside.contains(&part.as_ptr()))
            .expect("the item is served from its own bytes");
        assert!(slice.starts_with(b"<job>"), "the marker is cut off");
        assert_eq!(slice.as_ptr_range().end, inside.end);
    }
}
