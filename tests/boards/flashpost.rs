//! FlashPost: the adapter's pure render (golden create bodies, target
//! routing, every target's rules, the fields targets cannot update) and the
//! adapter against its sandbox twin over real HTTP. No database or broker.

use crate::support::{BoardTwin, assert_rejected, context, publish_samples, sample, settings};
use boardcast::boards::flashpost::{
    Account, CreateListing, ID, JobBoardStatus, Listing, TARGETS, check_targets, fixed_values,
    operations, render, verdict,
};
use boardcast::boards::{BoardError, ErrorClass, Receipt};
use boardcast::intake::message::{EmploymentType, Job, LocalizedAd, Location, primary_language};
use boardcast::plan::posting_reference;
use boardcast::sandbox::Faults;
use serde_json::{Value, json};

/// What a variant in a language none of the default targets takes hears.
fn no_target_message(language: &str) -> String {
    format!(
        "none of FlashPost's targets takes {language} ads (Cadremploi: fr; FigaroEmploi: fr; StepStone DE: de, en; Infojobs.it: it)"
    )
}

/// The account `config/default.toml` declares.
fn account() -> Account {
    let settings = settings();
    let board = settings.board(ID).expect("[boards.flashpost]");
    Account::parse(&board.options["customer_id"], &board.options["job_boards"])
        .and_then(|a| {
            a.with_taxonomy(
                board.options.get("contract_types").map(String::as_str),
                board.options.get("experience").map(String::as_str),
            )
        })
        .expect("the configured account parses")
}

fn account_with(job_boards: &str) -> Account {
    let configured = account();
    Account {
        targets: Account::parse("52017", job_boards).unwrap().targets,
        ..configured
    }
}

// ---------------------------------------------------------------------------
// Golden requests and routing.

#[test]
fn golden_requests() {
    let settings = settings();
    let languages = &settings.board(ID).expect("[boards.flashpost]").languages;
    let account = account();
    let mut compared = 0;
    let mut refused = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            let language = primary_language(locale);
            let reference = posting_reference(&tenant, &job.id, locale);
            let posting = context(&job, ad, &reference, locale);
            if !languages.iter().any(|l| l == language) {
                let error = render(&posting, &account).expect_err(&format!("{stem}.{locale}"));
                assert_eq!(error.class, ErrorClass::Rejected);
                assert_eq!(error.message, no_target_message(language));
                refused += 1;
                continue;
            }
            // fr goes to Cadremploi and FigaroEmploi (France), de and en to StepStone DE.
            let (targets, country) = match language {
                "fr" => ("Cadremploi, FigaroEmploi", "FR"),
                _ => ("StepStone DE", "DE"),
            };
            if !job.locations.iter().any(|l| l.country == country) {
                let mut countries: Vec<&str> = Vec::new();
                for location in &job.locations {
                    if !countries.contains(&location.country.as_str()) {
                        countries.push(&location.country);
                    }
                }
                let error = render(&posting, &account).expect_err(&format!("{stem}.{locale}"));
                assert_eq!(
                    error.message,
                    format!(
                        "FlashPost's targets for {language} ads ({targets}) publish jobs in {country}; this job is in {}",
                        countries.join(", ")
                    )
                );
                refused += 1;
                continue;
            }
            let request =
                render(&posting, &account).unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            let rendered = serde_json::to_string_pretty(&request).unwrap() + "\n";
            crate::support::golden(ID, &format!("{stem}.publish.{locale}.json"), &rendered);
            compared += 1;
            if compared == 1 {
                // Every other operation, once: method, path and body.
                for (operation, method, path, body) in
                    operations(&request, "880001").into_iter().skip(1)
                {
                    let text = serde_json::to_string_pretty(
                        &serde_json::json!({"method": method, "path": path, "body": body}),
                    )
                    .unwrap()
                        + "\n";
                    crate::support::golden(ID, &format!("{stem}.{operation}.{locale}.json"), &text);
                }
            }
        }
    }
    assert!(compared >= 3, "fr, de and en of account-executive render");
    assert!(refused >= 2, "variants outside the targets are refused");
}

/// account-executive with an Italian variant and a location in Milan.
fn italian() -> (Job, String) {
    let (tenant, mut job) = sample("account-executive");
    job.locations.push(Location {
        city: "Milano".into(),
        region: Some("Lombardia".into()),
        country: "IT".into(),
        postal_code: Some("20121".into()),
    });
    job.ads.insert(
        "it".into(),
        LocalizedAd {
            title: "Responsabile commerciale".into(),
            summary:
                "Segui un portafoglio di clienti chiave e fai crescere il nostro business con loro."
                    .into(),
            responsibilities: vec!["Gestire le trattative".into()],
            requirements: vec![],
            benefits: vec!["Auto aziendale".into()],
        },
    );
    let reference = posting_reference(&tenant, &job.id, "it");
    (job, reference)
}

#[test]
fn each_language_goes_to_the_targets_that_take_it() {
    let account = account();
    let (_, job) = sample("account-executive");
    let listing = |locale: &str| -> CreateListing {
        render(
            &context(&job, &job.ads[locale], "bcroute", locale),
            &account,
        )
        .unwrap()
    };
    let fr = listing("fr");
    assert_eq!(fr.job_board_ids, [101, 131]);
    assert_eq!(fr.customer_id, 52017);
    assert_eq!(fr.job_details.language, "fr");
    let address = fr.job_details.job_address.as_ref().unwrap();
    assert_eq!(
        (address.city.as_str(), address.country.as_str()),
        ("Paris", "FR")
    );
    let contact = fr
        .company_details
        .as_ref()
        .unwrap()
        .contact_address
        .as_ref()
        .unwrap();
    assert_eq!(contact.postcode.as_deref(), Some("75002"));
    for locale in ["de", "en"] {
        let listing = listing(locale);
        assert_eq!(listing.job_board_ids, [22], "{locale}");
        assert_eq!(listing.job_details.job_address.unwrap().city, "Berlin");
        assert_eq!(listing.job_details.language, locale);
    }

    let (job, reference) = italian();
    let it = render(&context(&job, &job.ads["it"], &reference, "it"), &account).unwrap();
    assert_eq!(it.job_board_ids, [440]);
    assert_eq!(it.job_details.job_address.unwrap().city, "Milano");
    // An empty section is left out.
    let sections = &it.job_details.description.structured_description;
    assert_eq!(sections.profile, None);
    assert_eq!(
        sections.offer.as_deref(),
        Some("<ul><li>Auto aziendale</li></ul>")
    );
    assert_eq!(it.job_details.salary.unwrap().period, "YEAR");

    // Text stays text: markup in the ad is escaped, apostrophes stay literal.
    let mut marked = job.clone();
    marked.ads.get_mut("de").unwrap().summary = "Sell <b>things</b> & more, it's fun".into();
    let de = render(
        &context(&marked, &marked.ads["de"], "bcroute", "de"),
        &account,
    )
    .unwrap();
    assert_eq!(
        de.job_details
            .description
            .structured_description
            .introduction,
        "<p>Sell &lt;b&gt;things&lt;/b&gt; &amp; more, it's fun</p>"
    );

    // A variant no configured target takes names the targets configured.
    let figaro = account_with("figaroemploi");
    let error = render(&context(&job, &job.ads["de"], "bcroute", "de"), &figaro).unwrap_err();
    assert_eq!(
        error.message,
        "none of FlashPost's targets takes de ads (FigaroEmploi: fr)"
    );
}

#[test]
fn the_account_names_known_targets_only() {
    assert_eq!(account().targets.len(), TARGETS.len());
    assert!(
        Account::parse("52017", "cadremploi, cadremploi")
            .unwrap()
            .targets
            .len()
            == 1
    );
    let error = Account::parse("52017", "cadremploi,monster").unwrap_err();
    assert_eq!(
        error,
        "job_boards names \"monster\"; known: cadremploi, figaroemploi, stepstone-de, infojobs-it"
    );
    assert!(Account::parse("acme", "cadremploi").is_err());
    assert!(Account::parse("52017", " ").is_err());

    let mut settings = settings();
    let board = settings.boards.get_mut("flashpost").unwrap();
    board
        .options
        .insert("job_boards".into(), "cadremploi,monster".into());
    board
        .credentials
        .insert("api_key".into(), secrecy::SecretString::from("k"));
    let Err(error) = boardcast::boards::build_one(&settings, ID) else {
        panic!("an unknown target is a configuration error");
    };
    assert!(error.to_string().contains("\"monster\""), "{error}");
}

// ---------------------------------------------------------------------------
// The targets' rules, from the adapter.

#[test]
fn each_target_s_rules_fail_the_posting_by_name() {
    let account = account();
    let (_, job) = sample("account-executive");
    let render_with = |job: &Job, locale: &str, account: &Account| {
        render(&context(job, &job.ads[locale], "bcrules", locale), account)
    };

    // Cadremploi: title 1–50.
    let mut long = job.clone();
    long.ads.get_mut("fr").unwrap().title = "É".repeat(63);
    let error = render_with(&long, "fr", &account).unwrap_err();
    assert_eq!(
        error.message,
        "Cadremploi: title is 63 characters; Cadremploi allows 50"
    );

    // FigaroEmploi: title 1–80 (alone, or Cadremploi's 50 speaks first).
    long.ads.get_mut("fr").unwrap().title = "a".repeat(81);
    let error = render_with(&long, "fr", &account_with("figaroemploi")).unwrap_err();
    assert_eq!(
        error.message,
        "FigaroEmploi: title is 81 characters; FigaroEmploi allows 80"
    );
    long.ads.get_mut("fr").unwrap().title = "a".repeat(80);
    assert!(render_with(&long, "fr", &account_with("figaroemploi")).is_ok());

    // StepStone DE: title 1–150, companyWebsiteUrl 1–100.
    let mut german = job.clone();
    german.ads.get_mut("de").unwrap().title = "ß".repeat(151);
    let error = render_with(&german, "de", &account).unwrap_err();
    assert_eq!(
        error.message,
        "StepStone DE: title is 151 characters; StepStone DE allows 150"
    );
    let mut website = job.clone();
    website.company.url = Some(format!("https://northwind.example/{}", "a".repeat(80)));
    let error = render_with(&website, "en", &account).unwrap_err();
    assert_eq!(
        error.message,
        "StepStone DE: companyWebsiteUrl is 106 characters; StepStone DE allows 100"
    );

    // Cadremploi: providerReferenceId 1–40.
    let reference = "r".repeat(41);
    let error = render(&context(&job, &job.ads["fr"], &reference, "fr"), &account).unwrap_err();
    assert_eq!(
        error.message,
        "Cadremploi: providerReferenceId is 41 characters; Cadremploi allows 40"
    );

    // Cadremploi: the contact address needs a postcode of 4–30 characters.
    let mut no_postcode = job.clone();
    no_postcode.locations[2].postal_code = None;
    let error = render_with(&no_postcode, "fr", &account).unwrap_err();
    assert_eq!(
        error.message,
        "Cadremploi requires contactAddress.postcode; this listing has none"
    );
    no_postcode.locations[2].postal_code = Some("750".into());
    let error = render_with(&no_postcode, "fr", &account).unwrap_err();
    assert_eq!(
        error.message,
        "Cadremploi: contactAddress.postcode is 3 characters; Cadremploi needs at least 4"
    );
    // FigaroEmploi alone does not mind.
    assert!(render_with(&no_postcode, "fr", &account_with("figaroemploi")).is_ok());

    // Infojobs.it: salary required.
    let (mut unpaid, reference) = italian();
    unpaid.salary = None;
    let error = render(
        &context(&unpaid, &unpaid.ads["it"], &reference, "it"),
        &account,
    )
    .unwrap_err();
    assert_eq!(
        error.message,
        "Infojobs.it requires salary; this listing has none"
    );

    // FlashPost-wide: applicationUrl ≤ 2083.
    let mut apply = job.clone();
    apply.apply.url = Some(format!("https://northwind.example/{}", "a".repeat(2074)));
    let error = render_with(&apply, "de", &account).unwrap_err();
    assert_eq!(
        error.message,
        "applicationUrl is 2100 characters; FlashPost allows 2083"
    );

    // A job in none of the targets' countries.
    let mut lisbon = job.clone();
    lisbon.locations.retain(|l| l.country == "PT");
    let error = render_with(&lisbon, "fr", &account).unwrap_err();
    assert_eq!(
        error.message,
        "FlashPost's targets for fr ads (Cadremploi, FigaroEmploi) publish jobs in FR; this job is in PT"
    );
}

#[test]
fn forbidden_fields_and_fields_we_never_fill_are_checked_too() {
    let (_, job) = sample("account-executive");
    let fr = render(&context(&job, &job.ads["fr"], "bcforbid", "fr"), &account()).unwrap();
    let cadremploi = &TARGETS[0];
    let figaro = &TARGETS[1];
    let stepstone = &TARGETS[2];
    let infojobs = &TARGETS[3];

    let mut anonymous = fr.clone();
    anonymous.anonymous = Some(true);
    let error = check_targets(&anonymous, &[figaro, cadremploi]).unwrap_err();
    assert_eq!(
        error.message,
        "Cadremploi: anonymous cannot be used for this job board"
    );
    assert!(
        check_targets(&anonymous, &[figaro]).is_ok(),
        "FigaroEmploi takes it"
    );
    let error = check_targets(&anonymous, &[stepstone]).unwrap_err();
    assert_eq!(
        error.message,
        "StepStone DE: anonymous cannot be used for this job board"
    );

    let mut template = fr.clone();
    template.template_id = Some("tpl-1".into());
    let error = check_targets(&template, &[cadremploi]).unwrap_err();
    assert_eq!(
        error.message,
        "Cadremploi: templateId cannot be used for this job board"
    );

    let mut described = fr.clone();
    described.job_details.salary_description = Some("d".repeat(51));
    let error = check_targets(&described, &[infojobs]).unwrap_err();
    assert_eq!(
        error.message,
        "Infojobs.it: salaryDescription is 51 characters; Infojobs.it allows 50"
    );
    described.job_details.salary_description = Some("d".repeat(50));
    assert!(check_targets(&described, &[infojobs]).is_ok());

    let mut homeless = fr;
    homeless.job_details.job_address = None;
    let error = check_targets(&homeless, &[stepstone]).unwrap_err();
    assert_eq!(
        error.message,
        "StepStone DE requires jobAddress; this listing has none"
    );
}

#[tokio::test]
async fn the_adapter_sends_nothing_that_breaks_a_rule() {
    let twin = BoardTwin::start(ID).await;
    let (tenant, mut job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "fr");
    job.ads.get_mut("fr").unwrap().title =
        "Chargé(e) d'affaires grands comptes H/F — secteur public, santé".into();
    let error = twin
        .publish(&context(&job, &job.ads["fr"], &reference, "fr"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &["Cadremploi: title is 63 characters; Cadremploi allows 50"],
    );
    assert_eq!(error.http_status, None);
    let error = twin
        .update(&context(&job, &job.ads["fr"], &reference, "fr"))
        .await
        .unwrap_err();
    assert_rejected(&error, &["Cadremploi: title is 63 characters"]);
    let error = twin
        .publish(&context(&job, &job.ads["es"], &reference, "es"))
        .await
        .unwrap_err();
    assert_eq!(error.message, no_target_message("es"));
    assert_eq!(twin.requests(), 0, "nothing was sent");
    assert!(twin.held().is_empty());
}

// ---------------------------------------------------------------------------
// Fields a target cannot update.

#[test]
fn fixed_fields_follow_the_targets_that_cannot_update_them() {
    let account = account();
    let (_, job) = sample("account-executive");
    let fixed = |job: &Job, locale: &str, account: &Account| {
        fixed_values(&context(job, &job.ads[locale], "bcfixed", locale), account)
    };

    // fr goes to Cadremploi: title and contract type are fixed there.
    let before = fixed(&job, "fr", &account).expect("Cadremploi fixes fields");
    assert_eq!(
        before,
        "title=Chargé(e) d'affaires\ncategories.contractType=1\ncategories.experience=3"
    );
    assert_eq!(
        fixed(&job.clone(), "fr", &account),
        Some(before.clone()),
        "same ad, same string"
    );

    let mut retitled = job.clone();
    retitled.ads.get_mut("fr").unwrap().title = "Chargé(e) d'affaires senior".into();
    assert_ne!(fixed(&retitled, "fr", &account), Some(before.clone()));
    let mut part_time = job.clone();
    part_time.employment_type = EmploymentType::PartTime;
    assert_ne!(fixed(&part_time, "fr", &account), Some(before.clone()));
    let mut reworded = job.clone();
    reworded.ads.get_mut("fr").unwrap().summary = "Autre résumé.".into();
    reworded.salary.as_mut().unwrap().max = 90_000.0;
    assert_eq!(fixed(&reworded, "fr", &account), Some(before));

    // Without Cadremploi, nothing in the French listing is fixed.
    let figaro = account_with("figaroemploi,stepstone-de");
    assert_eq!(fixed(&job, "fr", &figaro), None);
    assert_eq!(fixed(&retitled, "fr", &figaro), None);
    // StepStone DE updates everything.
    let mut german = job.clone();
    german.ads.get_mut("de").unwrap().title = "Senior Account Executive (m/w/d)".into();
    assert_eq!(fixed(&job, "de", &account), None);
    assert_eq!(fixed(&german, "de", &account), None);
    // No target at all: nothing to compare.
    assert_eq!(fixed(&job, "es", &account), None);

    // Infojobs.it fixes the title only.
    let (italian, _) = italian();
    let it = fixed(&italian, "it", &account).expect("Infojobs.it fixes the title");
    assert_eq!(it, "title=Responsabile commerciale");
    let mut renamed = italian.clone();
    renamed.ads.get_mut("it").unwrap().title = "Account executive".into();
    assert_ne!(fixed(&renamed, "it", &account), Some(it));
}

#[tokio::test]
async fn the_trait_method_uses_the_configured_targets() {
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = italian();
    let posting = context(&job, &job.ads["it"], &reference, "it");
    assert_eq!(
        twin.board.fixed_fields(&posting).as_deref(),
        Some("title=Responsabile commerciale")
    );
    let posting = context(&job, &job.ads["de"], &reference, "de");
    assert_eq!(twin.board.fixed_fields(&posting), None);
    assert_eq!(twin.requests(), 0);
}

#[tokio::test]
async fn the_twin_refuses_to_update_what_a_target_cannot_update() {
    let twin = BoardTwin::start(ID).await;
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "fr");
    let Receipt::Accepted { external_id, .. } = twin
        .publish(&context(&job, &job.ads["fr"], &reference, "fr"))
        .await
        .unwrap()
    else {
        panic!("FlashPost accepts for later");
    };
    let id = external_id.unwrap();

    let mut retitled = job.clone();
    retitled.ads.get_mut("fr").unwrap().title = "Chargé(e) d'affaires senior".into();
    let mut posting = context(&retitled, &retitled.ads["fr"], &reference, "fr");
    posting.external_id = Some(&id);
    posting.live_at_board = true;
    let error = twin.update(&posting).await.unwrap_err();
    assert_rejected(
        &error,
        &["422", "Cadremploi: jobDetails.title cannot be updated"],
    );
    assert_eq!(error.http_status, Some(422));

    let mut part_time = job.clone();
    part_time.employment_type = EmploymentType::PartTime;
    let mut posting = context(&part_time, &part_time.ads["fr"], &reference, "fr");
    posting.external_id = Some(&id);
    let error = twin.update(&posting).await.unwrap_err();
    assert_rejected(
        &error,
        &["Cadremploi: jobDetails.categories.contractType cannot be updated"],
    );
    let held = twin.only();
    assert_eq!(held.updates, 0);
    assert_eq!(held.title, "Chargé(e) d'affaires");

    // Infojobs.it cannot change the title either.
    let (italian, reference) = italian();
    let Receipt::Accepted { external_id, .. } = twin
        .publish(&context(&italian, &italian.ads["it"], &reference, "it"))
        .await
        .unwrap()
    else {
        panic!("accepted");
    };
    let mut renamed = italian.clone();
    renamed.ads.get_mut("it").unwrap().title = "Account executive".into();
    let mut posting = context(&renamed, &renamed.ads["it"], &reference, "it");
    posting.external_id = external_id.as_deref();
    let error = twin.update(&posting).await.unwrap_err();
    assert_rejected(&error, &["Infojobs.it: jobDetails.title cannot be updated"]);

    // StepStone DE can.
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "de");
    twin.publish(&context(&job, &job.ads["de"], &reference, "de"))
        .await
        .unwrap();
    let mut german = job.clone();
    german.ads.get_mut("de").unwrap().title = "Senior Account Executive (m/w/d)".into();
    let receipt = twin
        .update(&context(&german, &german.ads["de"], &reference, "de"))
        .await
        .unwrap();
    assert!(matches!(receipt, Receipt::Accepted { .. }), "{receipt:?}");
    let held = twin.held();
    let de = held.iter().find(|p| p.reference == reference).unwrap();
    assert_eq!(
        (de.title.as_str(), de.updates),
        ("Senior Account Executive (m/w/d)", 1)
    );
}

// ---------------------------------------------------------------------------
// Against the twin.

fn french() -> (Job, String) {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "fr");
    (job, reference)
}

fn accepted_id(receipt: Result<Receipt, BoardError>) -> String {
    match receipt {
        Ok(Receipt::Accepted {
            task,
            external_id: Some(external_id),
        }) => {
            assert_eq!(task, external_id, "the task is the listing");
            task
        }
        other => panic!("expected Accepted, got {other:?}"),
    }
}

#[tokio::test]
async fn publish_confirm_update_withdraw() {
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = french();
    let ad = &job.ads["fr"];
    let first = context(&job, ad, &reference, "fr");

    let id = accepted_id(twin.publish(&first).await);
    let held = twin.only();
    assert_eq!(held.external_id, id);
    assert_eq!(held.reference, reference);
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));
    assert_eq!(held.content["jobBoardIds"], json!([101, 131]));
    assert_eq!(held.content["customerId"], 52017);
    assert_eq!(held.language, "fr");

    // The targets publish when the listing is first read.
    let receipt = twin.confirm(&first, &id).await.unwrap();
    let cadremploi_url = format!("https://www.cadremploi.fr/emploi/detail_offre?offreId={id}");
    assert_eq!(
        receipt,
        Receipt::Live {
            external_id: id.clone(),
            url: Some(cadremploi_url.clone()),
        }
    );
    assert_eq!(held.url, cadremploi_url);

    let mut revised = job.clone();
    revised.revision = 2;
    revised.ads.get_mut("fr").unwrap().summary = "Un nouveau résumé du poste.".into();
    let mut posting = context(&revised, &revised.ads["fr"], &reference, "fr");
    posting.external_id = Some(&id);
    posting.live_at_board = true;
    assert_eq!(accepted_id(twin.update(&posting).await), id);
    let held = twin.only();
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 0));
    assert_eq!(
        held.content["jobDetails"]["description"]["structuredDescription"]["introduction"],
        "<p>Un nouveau résumé du poste.</p>"
    );
    assert_eq!(held.content["providerReferenceId"], reference.as_str());
    assert!(matches!(
        twin.confirm(&posting, &id).await.unwrap(),
        Receipt::Live { .. }
    ));

    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let held = twin.only();
    assert!(!held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 1));

    // Withdrawing again, or what FlashPost never had, is done already.
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let never = context(&job, ad, "bcneverpublished", "fr");
    assert_eq!(twin.withdraw(&never).await.unwrap(), Receipt::Withdrawn);
    let mut unknown = context(&job, ad, "bcneverpublished", "fr");
    unknown.external_id = Some("99999");
    assert_eq!(twin.withdraw(&unknown).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.only().withdrawals, 1);

    // An update after a withdrawal reopens the one listing.
    posting.live_at_board = false;
    assert_eq!(accepted_id(twin.update(&posting).await), id);
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 2, 1));
    assert!(matches!(
        twin.confirm(&posting, &id).await.unwrap(),
        Receipt::Live { .. }
    ));
    // So does one that lost the listing id.
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    posting.external_id = None;
    assert_eq!(accepted_id(twin.update(&posting).await), id);
    assert_eq!(twin.live_copies(&reference), 1);
    assert_eq!(twin.only().creates, 1);
}

#[tokio::test]
async fn an_update_flashpost_never_saw_creates_it() {
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = french();
    let mut posting = context(&job, &job.ads["fr"], &reference, "fr");
    posting.external_id = Some("99999");
    accepted_id(twin.update(&posting).await);
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 0));
    // Nothing known at all: the lookup finds nothing and the update creates.
    let fresh = context(&job, &job.ads["de"], "bcfreshupdate", "de");
    accepted_id(twin.update(&fresh).await);
    assert_eq!(twin.held().len(), 2);
}

#[tokio::test]
async fn a_publish_that_may_have_landed_makes_no_second_listing() {
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = french();
    let ad = &job.ads["fr"];
    let id = accepted_id(twin.publish(&context(&job, ad, &reference, "fr")).await);

    // The answer was lost: the re-send finds the open listing and updates it.
    let mut again = context(&job, ad, &reference, "fr");
    again.may_exist = true;
    assert_eq!(accepted_id(twin.publish(&again).await), id);
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 1));

    // Without the hint, FlashPost's 409 turns the create into an update.
    let plain = context(&job, ad, &reference, "fr");
    assert_eq!(accepted_id(twin.publish(&plain).await), id);
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 2));

    // A may-exist publish of a listing FlashPost never got creates it once.
    let mut fresh = context(&job, ad, "bcfresh", "fr");
    fresh.may_exist = true;
    accepted_id(twin.publish(&fresh).await);
    let held = twin.held();
    let created = held.iter().find(|p| p.reference == "bcfresh").unwrap();
    assert_eq!((created.creates, created.updates), (1, 0));
}

#[tokio::test]
async fn close_and_publish_again_makes_a_new_listing() {
    // What the dispatcher does when a fixed field changes.
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = french();
    let ad = &job.ads["fr"];
    let old = accepted_id(twin.publish(&context(&job, ad, &reference, "fr")).await);
    let mut posting = context(&job, ad, &reference, "fr");
    posting.external_id = Some(&old);
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);

    let mut retitled = job.clone();
    retitled.ads.get_mut("fr").unwrap().title = "Chargé(e) d'affaires senior".into();
    let new = accepted_id(
        twin.publish(&context(&retitled, &retitled.ads["fr"], &reference, "fr"))
            .await,
    );
    assert_ne!(new, old);
    assert_eq!(twin.held().len(), 2);
    assert_eq!(twin.live_copies(&reference), 1);
    let live: Vec<_> = twin.held().into_iter().filter(|p| p.live).collect();
    assert_eq!(live[0].title, "Chargé(e) d'affaires senior");
}

#[tokio::test]
async fn a_target_that_refuses_at_publication_rejects_the_posting() {
    // Cadremploi wants French content for jobs in France; the adapter never
    // sends anything else there, so this body goes straight to the twin.
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = french();
    let mut body = serde_json::to_value(
        render(&context(&job, &job.ads["fr"], &reference, "fr"), &account()).unwrap(),
    )
    .unwrap();
    body["jobBoardIds"] = json!([131, 101]);
    body["jobDetails"]["language"] = json!("en");
    body["jobDetails"]["title"] = json!("Account Executive");
    let response = reqwest::Client::new()
        .post(twin.board_url("/listings"))
        .header("x-api-key", twin.credential("api_key"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let listing: Value = response.json().await.unwrap();
    assert_eq!(listing["jobBoards"][0]["status"], "PENDING");
    let id = listing["id"].as_u64().unwrap().to_string();

    let posting = context(&job, &job.ads["fr"], &reference, "fr");
    let error = twin.confirm(&posting, &id).await.unwrap_err();
    assert_rejected(
        &error,
        &[
            &format!("Cadremploi rejected listing {id}"),
            "If the job location is in France, the job listing content should be written in French.",
        ],
    );
    // An unknown listing is a verdict too.
    let error = twin.confirm(&posting, "12345").await.unwrap_err();
    assert_rejected(&error, &["FlashPost has no listing 12345"]);
}

#[test]
fn the_verdict_reads_every_target() {
    let status = |id: u32, status: &str, url: Option<&str>| JobBoardStatus {
        job_board_id: id,
        status: status.into(),
        url: url.map(str::to_owned),
        reason: (status == "REJECTED").then(|| "no credit left".to_owned()),
    };
    let listing = |boards: Vec<JobBoardStatus>| Listing {
        id: 70001,
        provider_reference_id: "bcx".into(),
        status: "OPEN".into(),
        job_boards: boards,
    };
    assert_eq!(
        verdict(&listing(vec![
            status(101, "PUBLISHED", Some("https://a")),
            status(131, "PENDING", None)
        ]))
        .unwrap(),
        Receipt::Pending
    );
    assert_eq!(
        verdict(&listing(vec![
            status(101, "PUBLISHED", Some("https://a")),
            status(131, "PUBLISHED", Some("https://b"))
        ]))
        .unwrap(),
        Receipt::Live {
            external_id: "70001".into(),
            url: Some("https://a".into())
        }
    );
    let error = verdict(&listing(vec![
        status(101, "PENDING", None),
        status(440, "REJECTED", None),
    ]))
    .unwrap_err();
    assert_eq!(
        error.message,
        "FlashPost: Infojobs.it rejected listing 70001: no credit left"
    );
    let mut closed = listing(vec![status(22, "CLOSED", None)]);
    closed.status = "CLOSED".into();
    assert_rejected(&verdict(&closed).unwrap_err(), &["listing 70001 is closed"]);
}

#[tokio::test]
async fn the_twin_checks_every_target_s_rules_on_its_own() {
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = french();
    let mut body = serde_json::to_value(
        render(&context(&job, &job.ads["fr"], &reference, "fr"), &account()).unwrap(),
    )
    .unwrap();
    body["jobBoardIds"] = json!([101, 131, 22, 440, 999]);
    body["jobDetails"]["title"] = json!("T".repeat(81));
    body["anonymous"] = json!(true);
    body["templateId"] = json!("tpl-1");
    body["jobDetails"]["description"]["structuredDescription"]["introduction"] =
        json!("<script>alert(1)</script>");
    body["jobDetails"]
        .as_object_mut()
        .unwrap()
        .remove("jobAddress");
    body["jobDetails"].as_object_mut().unwrap().remove("salary");
    let client = reqwest::Client::new();
    let response = client
        .post(twin.board_url("/listings"))
        .header("x-api-key", twin.credential("api_key"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["status"], 422);
    assert_eq!(
        answer["message"],
        "Validation failed for Cadremploi, FigaroEmploi, StepStone DE, Infojobs.it"
    );
    let errors: Vec<(String, Value, String)> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e.get("jobBoardId").cloned().unwrap_or(Value::Null),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, Value, String)> = [
        ("jobBoardIds", Value::Null, "unknown job board 999"),
        (
            "jobDetails.description.structuredDescription.introduction",
            Value::Null,
            "HTML tags not allowed: script",
        ),
        ("anonymous", json!(101), "cannot be used for this job board"),
        (
            "templateId",
            json!(101),
            "cannot be used for this job board",
        ),
        (
            "jobDetails.title",
            json!(101),
            "length must be between 1 and 50",
        ),
        (
            "jobDetails.title",
            json!(131),
            "length must be between 1 and 80",
        ),
        ("anonymous", json!(22), "cannot be used for this job board"),
        ("jobDetails.jobAddress", json!(22), "is required"),
        (
            "jobDetails.language",
            json!(22),
            "must be one of \"en\", \"de\"",
        ),
        ("anonymous", json!(440), "cannot be used for this job board"),
        ("jobDetails.salary", json!(440), "is required"),
        ("jobDetails.jobAddress", json!(440), "is required"),
    ]
    .into_iter()
    .map(|(f, id, m)| (f.to_owned(), id, m.to_owned()))
    .collect();
    assert_eq!(errors, expected);

    // The adapter's own body passes the same checks.
    let receipt = twin
        .publish(&context(&job, &job.ads["fr"], &reference, "fr"))
        .await;
    assert!(receipt.is_ok(), "{receipt:?}");

    let response = client
        .post(twin.board_url("/listings"))
        .header("x-api-key", twin.credential("api_key"))
        .header("content-type", "application/json")
        .body("{\"jobDetails\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["status"], 400);

    let response = client
        .post(twin.board_url("/listings"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        twin.only().reference,
        reference,
        "only the adapter's listing is held"
    );
}

#[tokio::test]
async fn the_twin_knows_its_contract_types() {
    // The adapter maps our employment types to ids 1–7 and never sends another.
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = french();
    let mut body = serde_json::to_value(
        render(&context(&job, &job.ads["de"], &reference, "de"), &account()).unwrap(),
    )
    .unwrap();
    body["jobDetails"]["categories"]["contractType"] = json!(42);
    let response = reqwest::Client::new()
        .post(twin.board_url("/listings"))
        .header("x-api-key", twin.credential("api_key"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["errors"][0]["field"],
        "jobDetails.categories.contractType"
    );
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn transient_ambiguous_and_throttled_answers() {
    let twin = BoardTwin::start(ID).await;
    let (job, reference) = french();
    let posting = context(&job, &job.ads["fr"], &reference, "fr");

    twin.assert_transient_signals(&posting).await;

    // The faults changed nothing; healed, FlashPost takes it once.
    assert!(twin.held().is_empty());
    let id = accepted_id(twin.publish(&posting).await);
    assert_eq!(twin.only().creates, 1);

    // Confirming through a fault is classed the same way.
    twin.faults(Faults {
        fail_times: 1,
        fail_status: 503,
        ..Faults::default()
    });
    let error = twin.confirm(&posting, &id).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Transient, "{error:?}");
    assert!(matches!(
        twin.confirm(&posting, &id).await.unwrap(),
        Receipt::Live { .. }
    ));
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_failure() {
    let twin = BoardTwin::start_with(ID, &[("api_key", "not-the-key")]).await;
    let (job, reference) = french();
    let mut posting = context(&job, &job.ads["fr"], &reference, "fr");
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert_eq!(error.http_status, Some(401));
    assert!(!error.message.contains("not-the-key"));
    posting.external_id = Some("70001");
    let error = twin.withdraw(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    let error = twin.confirm(&posting, "70001").await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert!(twin.held().is_empty());
    assert_eq!(twin.requests(), 0, "refused at the door");
}

// ---------------------------------------------------------------------------
// Issue 13: what FlashPost's pages say, checked against the old reading.

/// Cadremploi's page (jb/101) marks `categories.experience` required: the
/// French listing carries the account's experience id, and an account
/// without one is refused before sending, naming the rule.
#[tokio::test]
async fn cadremploi_requires_an_experience_level() {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "fr");
    let posting = context(&job, &job.ads["fr"], &reference, "fr");
    let listing = render(&posting, &account()).unwrap();
    assert_eq!(listing.job_details.categories.experience, Some(3));

    let without = Account {
        experience: None,
        ..account()
    };
    let error = render(&posting, &without).unwrap_err();
    assert_rejected(
        &error,
        &["Cadremploi requires categories.experience; this listing has none"],
    );
    // FigaroEmploi alone does not ask for it.
    let figaro = Account {
        experience: None,
        ..account_with("figaroemploi")
    };
    assert!(render(&posting, &figaro).is_ok());

    // The twin, from the page, refuses a Cadremploi listing without it.
    let twin = BoardTwin::start(ID).await;
    let mut body = serde_json::to_value(&listing).unwrap();
    body["jobDetails"]["categories"]
        .as_object_mut()
        .unwrap()
        .remove("experience");
    let response = reqwest::Client::new()
        .post(twin.board_url("/listings"))
        .header("x-api-key", twin.credential("api_key"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "jobDetails.categories.experience" && e["jobBoardId"] == 101),
        "{answer}"
    );
}

/// `contractType` ids come from the account's FlashPost taxonomy
/// (option `contract_types`), never from a guess: a type the taxonomy does
/// not map is refused by name.
#[test]
fn contract_types_come_from_the_configured_taxonomy() {
    let (tenant, mut job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "fr");
    let taxonomy = |text: &str| account().with_taxonomy(Some(text), Some("3")).unwrap();
    let listing = render(
        &context(&job, &job.ads["fr"], &reference, "fr"),
        &taxonomy("full_time=17"),
    )
    .unwrap();
    assert_eq!(listing.job_details.categories.contract_type, 17);
    job.employment_type = EmploymentType::Volunteer;
    let error = render(&context(&job, &job.ads["fr"], &reference, "fr"), &account()).unwrap_err();
    assert_rejected(
        &error,
        &[
            "option contract_types",
            "no contract type for employment type volunteer",
        ],
    );
    assert!(account().with_taxonomy(Some("full_time"), None).is_err());
    assert!(account().with_taxonomy(Some("weekly=3"), None).is_err());
    assert!(account().with_taxonomy(None, Some("three")).is_err());
}

/// Each target gets only the fields its page lists: Cadremploi's lists no
/// `jobLocationType` and no `companyWebsiteUrl`, so a listing for it carries
/// neither; StepStone DE's lists both.
#[tokio::test]
async fn each_target_gets_only_the_fields_its_page_lists() {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "fr");
    let french = render(&context(&job, &job.ads["fr"], &reference, "fr"), &account()).unwrap();
    let body = serde_json::to_value(&french).unwrap();
    assert!(
        body["jobDetails"].get("jobLocationType").is_none(),
        "{body}"
    );
    assert!(body["companyDetails"].get("companyWebsiteUrl").is_none());

    let figaro = render(
        &context(&job, &job.ads["fr"], &reference, "fr"),
        &account_with("figaroemploi"),
    )
    .unwrap();
    assert!(figaro.job_details.job_location_type.is_some());

    let german = render(&context(&job, &job.ads["de"], &reference, "de"), &account()).unwrap();
    assert!(german.job_details.job_location_type.is_some());

    // The twin refuses a field Cadremploi's page does not list.
    let twin = BoardTwin::start(ID).await;
    let mut body = serde_json::to_value(&french).unwrap();
    body["jobDetails"]["jobLocationType"] = json!("ON_SITE");
    let response = reqwest::Client::new()
        .post(twin.board_url("/listings"))
        .header("x-api-key", twin.credential("api_key"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["errors"].as_array().unwrap().iter().any(|e| {
            e["field"] == "jobDetails.jobLocationType"
                && e["message"] == "is not a field of this job board"
        }),
        "{answer}"
    );
}
