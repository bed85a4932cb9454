//! InfoJobs: the adapter's pure render against golden SOAP envelopes, and the
//! adapter against its sandbox twin over real HTTP. No database or broker.

use crate::support::{BoardTwin, assert_rejected, context, publish_samples, sample, settings};
use boardcast::boards::http::Reply;
use boardcast::boards::infojobs::{
    Dictionaries, DictionaryItem, ID, NS_OFFER, OfferRequest, Operation, XmlElement, envelope,
    offer_code_request, plain_description, read_answer, read_dictionary, render,
};
use boardcast::boards::{CallLog, ErrorClass, Receipt};
use boardcast::intake::message::{EmploymentType, Job, primary_language};
use boardcast::plan::posting_reference;
use boardcast::sandbox::Faults;
use boardcast::sandbox::infojobs::{dictionary, expire_tokens, retire_entry};
use reqwest::header::HeaderMap;

/// Stand-ins for the employer's credentials in golden files.
const USERNAME: &str = "EMPLOYER-USERNAME";
const PASSWORD: &str = "EMPLOYER-PASSWORD";

/// The dictionaries as the twin (and InfoJobs) serves them.
fn dictionaries() -> Dictionaries {
    let list = |name: &str| {
        dictionary(name)
            .unwrap()
            .into_iter()
            .map(|(id, value)| DictionaryItem { id, value })
            .collect()
    };
    Dictionaries {
        contracts: list("CONTRACTS"),
        countries: list("COUNTRIES"),
        provinces: list("PROVINCES"),
    }
}

/// The access token stand-in of golden files.
const TOKEN: &str = "ACCESS-TOKEN";

// ---------------------------------------------------------------------------
// Golden requests.

#[test]
fn golden_requests() {
    let settings = settings();
    let languages = &settings.board(ID).expect("[boards.infojobs]").languages;
    assert_eq!(languages, &["es"]);
    let dictionaries = dictionaries();
    let mut compared = 0;
    let mut refused = 0;
    for (stem, tenant, job) in publish_samples() {
        for (locale, ad) in &job.ads {
            if !languages.iter().any(|l| l == primary_language(locale)) {
                continue;
            }
            let reference = posting_reference(&tenant, &job.id, locale);
            let posting = context(&job, ad, &reference, locale);
            if !job.locations.iter().any(|l| l.country == "ES") {
                let error = render(&posting, &dictionaries, Operation::Create)
                    .expect_err(&format!("{stem}.{locale} is refused"));
                assert_eq!(error.class, ErrorClass::Rejected);
                assert!(
                    error
                        .message
                        .starts_with("InfoJobs publishes jobs in ES; this job is in "),
                    "{}",
                    error.message
                );
                refused += 1;
                continue;
            }
            let offer = render(&posting, &dictionaries, Operation::Create)
                .unwrap_or_else(|e| panic!("{stem}.{locale}: {e}"));
            let document = envelope(offer.to_element(), USERNAME, PASSWORD, Some(TOKEN));
            crate::support::golden(ID, &format!("{stem}.publish.{locale}.xml"), &document);
            // One golden per operation, from the same posting.
            let code = "f7e07618454d50bc7987fa2072ab0b";
            let edit = render(&posting, &dictionaries, Operation::Edit { code }).unwrap();
            let others = [
                ("update", edit.to_element()),
                ("enable", offer_code_request("enableOffer", code)),
                ("withdraw", offer_code_request("disableOffer", code)),
                (
                    "lookup",
                    boardcast::boards::infojobs::published_offers_request(),
                ),
            ];
            for (operation, element) in others {
                let document = envelope(element, USERNAME, PASSWORD, Some(TOKEN));
                crate::support::golden(ID, &format!("{stem}.{operation}.{locale}.xml"), &document);
            }
            // The calls every publish may start with: the token, then the dictionaries.
            use boardcast::boards::infojobs::{ListName, access_token_request, dictionary_request};
            let email = &settings.board(ID).unwrap().options["email"];
            let document = envelope(access_token_request(email), USERNAME, PASSWORD, None);
            crate::support::golden(ID, "token.xml", &document);
            for (name, list, parent) in [
                ("contracts", ListName::Contracts, None),
                ("provinces", ListName::Provinces, Some(17)),
            ] {
                let document = envelope(
                    dictionary_request(list, parent),
                    USERNAME,
                    PASSWORD,
                    Some(TOKEN),
                );
                crate::support::golden(ID, &format!("dictionary.{name}.xml"), &document);
            }
            compared += 1;
        }
    }
    assert!(compared >= 1, "no sample renders for InfoJobs");
    assert!(refused >= 1, "no Spanish ad is outside Spain");
}

#[test]
fn the_golden_envelope_is_utf8_with_spanish_characters_as_they_are() {
    let path =
        crate::support::crate_dir().join("tests/golden/infojobs/account-executive.publish.es.xml");
    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    // "híbrido" and "cálculo" as UTF-8 bytes, not character references.
    assert!(bytes.windows(8).any(|w| w == b"h\xc3\xadbrido"));
    assert!(bytes.windows(8).any(|w| w == b"c\xc3\xa1lculo"));
    assert!(!text.contains("&#"), "no character references");
}

#[test]
fn the_ad_becomes_plain_lines() {
    let (_, job) = sample("account-executive");
    let text = plain_description(&job.ads["es"], "es");
    assert!(
        text.starts_with("Buscamos a alguien que encuentre nuevas oportunidades"),
        "{text}"
    );
    assert!(text.contains(
        "\n\nResponsabilidades:\n- Elaborar planes de negocio para alcanzar objetivos y cuotas\n"
    ));
    assert!(text.contains("\n\nRequisitos:\n- Experiencia demostrable"));
    assert!(text.ends_with("\n\nOfrecemos:\n- Comisiones sin límite\n- Horario híbrido"));
    assert!(!text.contains('<'));
}

#[test]
fn ids_come_from_the_dictionaries() {
    let (tenant, mut job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "es");
    let dictionaries = dictionaries();
    let offer = |job: &Job| {
        render(
            &context(job, &job.ads["es"], &reference, "es"),
            &dictionaries,
            Operation::Create,
        )
    };

    let madrid = offer(&job).unwrap();
    assert_eq!(
        (
            madrid.contract_type_id,
            madrid.country_id,
            madrid.province_id
        ),
        (1, 17, 33)
    );
    assert_eq!(madrid.city, "Madrid");
    assert_eq!(madrid.province, "Madrid");

    // The region names the province; co-official names are understood.
    job.locations[0].city = "Getxo".into();
    job.locations[0].region = Some("Bizkaia".into());
    assert_eq!(offer(&job).unwrap().province_id, 51);
    job.locations[0].city = "Barcelona".into();
    job.locations[0].region = Some("Cataluña".into());
    assert_eq!(offer(&job).unwrap().province_id, 9);
    job.locations[0].city = "València".into();
    job.locations[0].region = None;
    assert_eq!(offer(&job).unwrap().province_id, 49);

    job.employment_type = EmploymentType::PartTime;
    assert_eq!(offer(&job).unwrap().contract_type_id, 4);
    job.employment_type = EmploymentType::Internship;
    assert_eq!(offer(&job).unwrap().contract_type_id, 3);

    // An edit carries the offer's code.
    let edit = render(
        &context(&job, &job.ads["es"], &reference, "es"),
        &dictionaries,
        Operation::Edit { code: "f7e07618" },
    )
    .unwrap();
    assert_eq!(edit.code.as_deref(), Some("f7e07618"));
    let document = edit.to_element().to_document();
    assert!(document.contains("<wsEditOfferRequestBean>"), "{document}");
    assert!(document.contains("<code>f7e07618</code>"), "{document}");
}

// ---------------------------------------------------------------------------
// Against the twin.

async fn twin() -> BoardTwin {
    BoardTwin::start(ID).await
}

fn northwind() -> (Job, String) {
    let (tenant, job) = sample("account-executive");
    let reference = posting_reference(&tenant, &job.id, "es");
    (job, reference)
}

#[tokio::test]
async fn publish_update_withdraw() {
    let twin = twin().await;
    let (job, reference) = northwind();
    let ad = &job.ads["es"];

    let receipt = twin
        .publish(&context(&job, ad, &reference, "es"))
        .await
        .unwrap();
    let Receipt::Live { external_id, url } = receipt else {
        panic!("publish answered {receipt:?}");
    };
    let held = twin.only();
    assert_eq!(external_id, held.external_id);
    assert_eq!(external_id.len(), 30);
    assert_eq!(url.as_deref(), Some(held.url.as_str()));
    assert_eq!(
        held.url,
        format!("https://www.infojobs.net/madrid/ejecutivo-a-de-cuentas/of-i{external_id}")
    );
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 0, 0));
    assert_eq!(held.content["provinceId"], 33);
    assert_eq!(held.content["countryId"], 17);
    assert_eq!(held.content["contractTypeId"], 1);
    assert_eq!(held.content["city"], "Madrid");
    assert_eq!(held.content["jobDescription"], plain_description(ad, "es"));

    let mut revised = job.clone();
    revised.revision = 2;
    revised.ads.get_mut("es").unwrap().title = "Ejecutivo/a de Cuentas Sénior".into();
    let mut posting = context(&revised, &revised.ads["es"], &reference, "es");
    posting.external_id = Some(&external_id);
    posting.live_at_board = true;
    let receipt = twin.update(&posting).await.unwrap();
    // The edit answer names the offer, not its page: the page is built from
    // the province and the (new) title [inferred].
    assert_eq!(
        receipt,
        Receipt::Live {
            external_id: external_id.clone(),
            url: Some(format!(
                "https://www.infojobs.net/madrid/ejecutivo-a-de-cuentas-senior/of-i{external_id}"
            ))
        }
    );
    let held = twin.only();
    assert_eq!(held.title, "Ejecutivo/a de Cuentas Sénior");
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 0));

    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let held = twin.only();
    assert!(!held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 1, 1));

    // Withdrawing again, or what the board never had, is done already.
    assert_eq!(twin.withdraw(&posting).await.unwrap(), Receipt::Withdrawn);
    let mut never = context(&job, ad, "bcneverpublished", "es");
    assert_eq!(twin.withdraw(&never).await.unwrap(), Receipt::Withdrawn);
    never.external_id = Some("000000000000000000000000000000");
    assert_eq!(twin.withdraw(&never).await.unwrap(), Receipt::Withdrawn);
    assert_eq!(twin.only().withdrawals, 1);

    // An update after a withdrawal edits the one offer and enables it again.
    posting.live_at_board = false;
    assert!(matches!(
        twin.update(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert!(held.live);
    assert_eq!(held.external_id, external_id);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 2, 1));
}

#[tokio::test]
async fn an_update_the_board_never_saw_creates_it() {
    let twin = twin().await;
    let (job, reference) = northwind();

    // Neither the code nor the reference is known at InfoJobs.
    let mut posting = context(&job, &job.ads["es"], &reference, "es");
    posting.external_id = Some("ffffffffffffffffffffffffffffff");
    assert!(matches!(
        twin.update(&posting).await.unwrap(),
        Receipt::Live { .. }
    ));
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 0));

    // Without a code, the update finds the offer among the employer's by its title.
    posting.external_id = None;
    posting.live_at_board = true;
    twin.update(&posting).await.unwrap();
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 1));
}

#[tokio::test]
async fn a_publish_that_may_have_landed_makes_no_second_copy() {
    let twin = twin().await;
    let (job, reference) = northwind();
    let ad = &job.ads["es"];
    let Receipt::Live { external_id, .. } = twin
        .publish(&context(&job, ad, &reference, "es"))
        .await
        .unwrap()
    else {
        panic!("not live");
    };

    // The answer was lost: the re-send finds the offer among the employer's
    // (findOffersPublishedByEmployer) by its title and edits it.
    let mut again = context(&job, ad, &reference, "es");
    again.may_exist = true;
    let receipt = twin.publish(&again).await.unwrap();
    assert!(
        matches!(&receipt, Receipt::Live { external_id: id, .. } if *id == external_id),
        "{receipt:?}"
    );
    let held = twin.only();
    assert_eq!((held.creates, held.updates), (1, 1));
    assert_eq!(live_titled(&twin, &ad.title), 1);

    // Withdrawn meanwhile: the may-exist publish edits and enables that offer.
    let mut withdrawn = context(&job, ad, &reference, "es");
    withdrawn.external_id = Some(&external_id);
    twin.withdraw(&withdrawn).await.unwrap();
    twin.publish(&again).await.unwrap();
    let held = twin.only();
    assert!(held.live);
    assert_eq!((held.creates, held.updates, held.withdrawals), (1, 2, 1));

    // A may-exist publish of an offer InfoJobs never got creates it once.
    let mut other = job.clone();
    other.ads.get_mut("es").unwrap().title = "Jefe/a de Ventas".into();
    let mut fresh = context(&other, &other.ads["es"], "bcfresh", "es");
    fresh.may_exist = true;
    twin.publish(&fresh).await.unwrap();
    assert_eq!(live_titled(&twin, "Jefe/a de Ventas"), 1);

    // Why the look-up matters: InfoJobs keys offers by its own code, so a
    // plain create of the same offer is a second offer.
    twin.publish(&context(&job, ad, &reference, "es"))
        .await
        .unwrap();
    assert_eq!(live_titled(&twin, &ad.title), 2);

    // Two live offers with our title: ours cannot be told apart, so none is
    // touched and nothing is created.
    let before = twin.held();
    let error = twin.publish(&again).await.unwrap_err();
    assert_rejected(
        &error,
        &["holds 2 live offers titled", "cannot be told apart"],
    );
    assert_eq!(twin.held(), before);
}

/// Live offers at the twin with this title.
fn live_titled(twin: &BoardTwin, title: &str) -> usize {
    twin.held()
        .iter()
        .filter(|p| p.live && p.title == title)
        .count()
}

#[tokio::test]
async fn dictionaries_are_fetched_once() {
    let twin = twin().await;
    let (job, reference) = northwind();
    let ad = &job.ads["es"];
    twin.publish(&context(&job, ad, &reference, "es"))
        .await
        .unwrap();
    // getAccessToken, CONTRACTS, COUNTRIES, PROVINCES (of Spain), then createOffer.
    assert_eq!(twin.requests(), 5);
    twin.publish(&context(&job, ad, "bcsecond", "es"))
        .await
        .unwrap();
    assert_eq!(
        twin.requests(),
        6,
        "the second offer reuses the token and the dictionaries"
    );
}

#[tokio::test]
async fn spanish_characters_survive_byte_for_byte() {
    let twin = twin().await;
    let (mut job, reference) = northwind();
    let title = "¿Diseñador/a gráfico/a? Únete ya";
    let summary = "Buscamos a una persona con señorío y ganas de aprender, que cuide cada detalle del diseño gráfico y de la campaña del año.";
    {
        let ad = job.ads.get_mut("es").unwrap();
        ad.title = title.into();
        ad.summary = summary.into();
    }
    let posting = context(&job, &job.ads["es"], &reference, "es");

    let offer = render(&posting, &dictionaries(), Operation::Create).unwrap();
    let document = envelope(offer.to_element(), USERNAME, PASSWORD, None);
    let bytes = document.as_bytes();
    let expected = "<jobTitle>¿Diseñador/a gráfico/a? Únete ya</jobTitle>";
    assert!(
        bytes
            .windows(expected.len())
            .any(|w| w == expected.as_bytes()),
        "{document}"
    );
    // ¿ is C2 BF, ñ is C3 B1, á is C3 A1 in UTF-8.
    assert!(bytes.windows(4).any(|w| w == b"\xc2\xbfDi"));
    assert!(bytes.windows(5).any(|w| w == b"se\xc3\xb1a"));

    twin.publish(&posting).await.unwrap();
    let held = twin.only();
    assert_eq!(held.title, title);
    assert_eq!(held.content["jobTitle"], title);
    let description = held.content["jobDescription"].as_str().unwrap();
    assert!(description.starts_with(summary), "{description}");
    assert_eq!(description, plain_description(&job.ads["es"], "es"));
}

#[tokio::test]
async fn the_adapter_refuses_what_breaks_a_rule_before_sending() {
    let twin = twin().await;
    let (job, reference) = northwind();
    let refuse = async |job: &Job, locale: &str| {
        twin.publish(&context(job, &job.ads[locale], &reference, locale))
            .await
            .unwrap_err()
    };
    let with_ad = |change: &dyn Fn(&mut boardcast::intake::message::LocalizedAd)| {
        let mut job = job.clone();
        change(job.ads.get_mut("es").unwrap());
        job
    };

    let error = refuse(&with_ad(&|ad| ad.title = "TI".into()), "es").await;
    assert_rejected(
        &error,
        &["jobTitle is 2 characters; InfoJobs needs at least 3"],
    );
    assert_eq!(error.http_status, None);

    let error = refuse(&with_ad(&|ad| ad.title = "A".repeat(256)), "es").await;
    assert_rejected(&error, &["jobTitle is 256 characters; InfoJobs allows 255"]);

    let short = with_ad(&|ad| {
        ad.summary = "Ventas en Madrid.".into();
        ad.responsibilities.clear();
        ad.requirements.clear();
        ad.benefits.clear();
    });
    let error = refuse(&short, "es").await;
    assert_rejected(
        &error,
        &["jobDescription is 17 characters; InfoJobs needs at least 100"],
    );

    let long = with_ad(&|ad| ad.summary = "Ventas. ".repeat(520));
    let error = refuse(&long, "es").await;
    assert_rejected(
        &error,
        &["jobDescription is", "characters; InfoJobs allows 4000"],
    );

    let markup = with_ad(&|ad| ad.requirements.push("Inglés <b>fluido</b>".into()));
    let error = refuse(&markup, "es").await;
    assert_rejected(
        &error,
        &["jobDescription contains HTML markup (<b>); InfoJobs takes plain text only"],
    );

    let link = with_ad(&|ad| {
        ad.benefits
            .push("Más en https://northwind.example/empleo".into())
    });
    let error = refuse(&link, "es").await;
    assert_rejected(
        &error,
        &[
            "jobDescription contains a link (https://northwind.example/empleo)",
            "contact details are not allowed in InfoJobs descriptions",
        ],
    );

    let email = with_ad(&|ad| ad.summary.push_str(" Escribe a empleo@northwind.es."));
    let error = refuse(&email, "es").await;
    assert_rejected(
        &error,
        &[
            "jobDescription contains an e-mail address (empleo@northwind.es)",
            "contact details are not allowed in InfoJobs descriptions",
        ],
    );

    let phone = with_ad(&|ad| ad.summary.push_str(" Llámanos al 612 345 678."));
    let error = refuse(&phone, "es").await;
    assert_rejected(
        &error,
        &[
            "jobDescription contains a phone number (612 345 678)",
            "contact details are not allowed in InfoJobs descriptions",
        ],
    );

    let titled = with_ad(&|ad| ad.title = "Comercial - llama al +34 912 345 678".into());
    let error = refuse(&titled, "es").await;
    assert_rejected(
        &error,
        &["jobTitle contains a phone number (+34 912 345 678)"],
    );

    let mut tiny = job.clone();
    tiny.locations[0].city = "Tr".into();
    let error = refuse(&tiny, "es").await;
    assert_rejected(&error, &["city is 2 characters; InfoJobs needs at least 3"]);

    let mut huge = job.clone();
    huge.locations[0].city = "M".repeat(501);
    let error = refuse(&huge, "es").await;
    assert_rejected(&error, &["city is 501 characters; InfoJobs allows 500"]);

    // Spanish only.
    let error = refuse(&job, "en").await;
    assert_rejected(&error, &["InfoJobs takes ads in es; this one is in en"]);

    // Spain only.
    let (_, american) = sample("account-manager");
    let error = refuse(&american, "es").await;
    assert_rejected(
        &error,
        &["InfoJobs publishes jobs in ES; this job is in US"],
    );

    assert_eq!(twin.requests(), 0, "nothing was sent");
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn values_without_a_dictionary_entry_are_refused_by_name() {
    let twin = twin().await;
    let (job, reference) = northwind();

    let mut volunteer = job.clone();
    volunteer.employment_type = EmploymentType::Volunteer;
    let error = twin
        .publish(&context(&volunteer, &volunteer.ads["es"], &reference, "es"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &["employment type volunteer has no entry in InfoJobs' CONTRACTS list"],
    );

    let mut nowhere = job.clone();
    nowhere.locations[0].city = "Sant Cugat del Vallès".into();
    nowhere.locations[0].region = Some("Catalunya".into());
    let error = twin
        .publish(&context(&nowhere, &nowhere.ads["es"], &reference, "es"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &["Sant Cugat del Vallès (Catalunya) has no entry in InfoJobs' PROVINCES list"],
    );

    // Only the token and the three dictionaries were fetched; no offer was sent.
    assert_eq!(twin.requests(), 4);
    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn an_edit_needs_a_city_of_five_characters() {
    let twin = twin().await;
    let (mut job, reference) = northwind();
    job.locations[0].city = "Jaén".into();
    job.locations[0].region = None;
    let receipt = twin
        .publish(&context(&job, &job.ads["es"], &reference, "es"))
        .await
        .unwrap();
    let Receipt::Live { external_id, .. } = receipt else {
        panic!("{receipt:?}");
    };
    assert_eq!(twin.only().content["provinceId"], 27);

    let mut posting = context(&job, &job.ads["es"], &reference, "es");
    posting.external_id = Some(&external_id);
    posting.live_at_board = true;
    let before = twin.requests();
    let error = twin.update(&posting).await.unwrap_err();
    assert_rejected(
        &error,
        &["city is 4 characters; InfoJobs needs at least 5 to edit an offer"],
    );
    assert_eq!(twin.requests(), before, "nothing was sent");
    assert_eq!(twin.only().updates, 0);
}

#[tokio::test]
async fn the_twin_refuses_an_id_its_dictionary_no_longer_has() {
    let twin = twin().await;
    let (job, reference) = northwind();
    let ad = &job.ads["es"];
    twin.publish(&context(&job, ad, &reference, "es"))
        .await
        .unwrap();

    // InfoJobs retires "Indefinido" while the adapter still trusts its copy.
    retire_entry(&twin.sandbox, "CONTRACTS", 1);
    let error = twin
        .publish(&context(&job, ad, "bcafterretire", "es"))
        .await
        .unwrap_err();
    assert_rejected(
        &error,
        &[
            "InfoJobs refused the request: WS.1005",
            "contractTypeId 1 is not in the CONTRACTS list",
        ],
    );
    assert_eq!(error.http_status, Some(500));
    assert_eq!(twin.held().len(), 1);
}

/// A change to a valid offer.
type Change<'a> = &'a dyn Fn(&mut OfferRequest);

/// Posts a hand-made envelope to the twin; the status and InfoJobs' fault
/// code (or the faultcode when there is no detail).
async fn post(twin: &BoardTwin, service: &str, body: String) -> (u16, String, String) {
    let response = reqwest::Client::new()
        .post(twin.board_url(&format!("/soap/{service}")))
        .header("content-type", "text/xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    // The twin's answers are strict XML 1.0.
    let document = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let find = |name: &str| {
        document
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
    };
    let code = find("infojobsFault")
        .and_then(|d| d.children().find(|c| c.tag_name().name() == "code"))
        .or_else(|| find("faultcode"))
        .and_then(|n| n.text())
        .unwrap_or_default()
        .to_owned();
    (status, code, text)
}

/// A token from the twin's `getAccessToken`.
async fn token(twin: &BoardTwin) -> String {
    let request = XmlElement::new("acc:getAccessToken")
        .attribute("xmlns:acc", boardcast::boards::infojobs::NS_ACCESS_TOKEN)
        .with(XmlElement::leaf("email", "employer@boardcast.example"));
    let body = envelope(
        request,
        twin.credential("username"),
        twin.credential("password"),
        None,
    );
    let (status, _, text) = post(twin, "WSAccessTokenService", body).await;
    assert_eq!(status, 200, "{text}");
    let start = text.find("<token>").unwrap() + "<token>".len();
    text[start..start + text[start..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn the_twin_checks_its_rules_on_its_own() {
    let twin = twin().await;
    let (job, reference) = northwind();
    let valid = render(
        &context(&job, &job.ads["es"], &reference, "es"),
        &dictionaries(),
        Operation::Create,
    )
    .unwrap();
    let user = twin.credential("username").to_owned();
    let password = twin.credential("password").to_owned();
    let token = token(&twin).await;
    let token = Some(token.as_str());
    let create = |change: &dyn Fn(&mut OfferRequest)| {
        let mut offer = valid.clone();
        change(&mut offer);
        envelope(offer.to_element(), &user, &password, token)
    };
    let v2 = "WSOfferV2Service";

    let cases: [(Change, &str, &str); 9] = [
        (
            &|o| o.job_title = "AB".into(),
            "WS.1001",
            "jobTitle must be between 3 and 255",
        ),
        (
            &|o| o.job_description = "Corta.".into(),
            "WS.1002",
            "jobDescription must be between 100 and 4000",
        ),
        (
            &|o| o.job_description.push_str("\nMás en www.northwind.es"),
            "WS.1003",
            "links to external sites",
        ),
        (
            &|o| o.job_description.push_str("\nrrhh@northwind.es"),
            "WS.1003",
            "e-mail addresses",
        ),
        (
            &|o| o.job_description.push_str("\nTel. 600-123-456"),
            "WS.1003",
            "phone numbers",
        ),
        (
            &|o| o.job_description.push_str("\n<ul><li>x</li></ul>"),
            "WS.1003",
            "Only plain text is allowed",
        ),
        (
            &|o| o.contract_type_id = 99,
            "WS.1005",
            "contractTypeId 99 is not in the CONTRACTS list",
        ),
        (
            &|o| o.country_id = 26,
            "WS.1006",
            "countryId 26 is not in the COUNTRIES list",
        ),
        (
            &|o| o.province_id = 647,
            "WS.1007",
            "provinceId 647 is not a PROVINCES entry of country 17",
        ),
    ];
    for (change, code, words) in cases {
        let (status, got, text) = post(&twin, v2, create(change)).await;
        assert_eq!((status, got.as_str()), (500, code), "{text}");
        assert!(
            text.contains("<faultcode>soap:Client</faultcode>"),
            "{text}"
        );
        assert!(text.contains(words), "{text}");
    }

    // editOffer: a city of 4 is too short there, and an unknown code is WS.1102.
    let edit = |city: &str| {
        let mut offer = valid.clone();
        offer.code = Some("ffffffffffffffffffffffffffffff".into());
        offer.city = city.into();
        envelope(offer.to_element(), &user, &password, token)
    };
    let (status, code, text) = post(&twin, v2, edit("Jaén")).await;
    assert_eq!((status, code.as_str()), (500, "WS.1004"), "{text}");
    assert!(text.contains("city must be between 5 and 500 characters long; it is 4"));
    let (_, code, text) = post(&twin, v2, edit("Madrid")).await;
    assert_eq!(code, "WS.1102", "{text}");
    assert!(text.contains("The job offer code doesn't exist"), "{text}");

    // Operations live on their own service; garbage is refused; so are strangers.
    let enable = offer_code_request("enableOffer", "x");
    let (_, code, text) = post(&twin, v2, envelope(enable.clone(), &user, &password, token)).await;
    assert_eq!(code, "WS.1000");
    assert!(text.contains("WSOfferV2Service has no operation enableOffer"));
    let (_, code, _) = post(
        &twin,
        "WSOfferService",
        envelope(enable, &user, &password, token),
    )
    .await;
    assert_eq!(code, "WS.1102");
    // The old take-down and dictionary calls do not exist where we sent them.
    let archive = XmlElement::new("off:archiveOffer")
        .attribute("xmlns:off", NS_OFFER)
        .with(XmlElement::leaf("offerCode", "x"));
    let (_, code, text) = post(
        &twin,
        "WSOfferService",
        envelope(archive, &user, &password, token),
    )
    .await;
    assert_eq!(code, "WS.1000", "{text}");
    let lists = XmlElement::new("off:findByListName")
        .attribute("xmlns:off", NS_OFFER)
        .with(XmlElement::leaf("publicNameKey", "CONTRACTS"));
    let (_, code, text) = post(&twin, v2, envelope(lists, &user, &password, token)).await;
    assert_eq!(code, "WS.1000", "{text}");
    assert!(text.contains("WSOfferV2Service has no operation findByListName"));
    // An operation outside its namespace, a field the bean does not know,
    // and a call without the access token are refused.
    let stray = XmlElement::new("off:disableOffer")
        .attribute("xmlns:off", "http://example.com/offer")
        .with(XmlElement::leaf("offerCode", "x"));
    let (_, code, text) = post(
        &twin,
        "WSOfferV3Service",
        envelope(stray, &user, &password, token),
    )
    .await;
    assert_eq!(code, "WS.1000");
    assert!(text.contains("belongs to namespace"), "{text}");
    let with_reference =
        create(&|_| {}).replace("<city>", "<jobReference>bc1</jobReference>\n    <city>");
    let (_, code, text) = post(&twin, v2, with_reference).await;
    assert_eq!(code, "WS.1000");
    assert!(text.contains("unknown field jobReference"), "{text}");
    let (_, code, _) = post(
        &twin,
        v2,
        envelope(valid.to_element(), &user, &password, None),
    )
    .await;
    assert_eq!(code, "WS.151");
    let (status, code, _) = post(&twin, v2, "<soapenv:Envelope".into()).await;
    assert_eq!((status, code.as_str()), (500, "WS.1000"));
    let (status, code, _) = post(
        &twin,
        v2,
        create(&|_| {}).replace(&format!(">{password}<"), ">wrong<"),
    )
    .await;
    assert_eq!((status, code.as_str()), (500, "wsse:FailedAuthentication"));

    assert!(twin.held().is_empty());
}

#[tokio::test]
async fn transient_ambiguous_and_throttled_answers() {
    let twin = twin().await;
    let (job, reference) = northwind();
    let posting = context(&job, &job.ads["es"], &reference, "es");

    twin.assert_transient_signals(&posting).await;

    // The faults changed nothing; healed, the board takes it once.
    assert!(twin.held().is_empty());
    twin.publish(&posting).await.unwrap();
    assert_eq!(twin.only().creates, 1);

    // A fault on the create itself (dictionaries cached now) reads the same.
    twin.faults(Faults {
        fail_times: 1,
        fail_status: 503,
        ..Faults::default()
    });
    let error = twin
        .publish(&context(&job, &job.ads["es"], "bcother", "es"))
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Transient, "{error:?}");
    assert_eq!(twin.held().len(), 1);
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: HeaderMap::new(),
        body: body.to_owned(),
    }
}

fn fault(faultcode: &str, detail: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><soapenv:Fault><faultcode>{faultcode}</faultcode><faultstring>something went wrong</faultstring>{detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
}

#[test]
fn soap_faults_are_classified() {
    // A Server fault: InfoJobs may have acted.
    let error = read_answer(
        &reply(500, &fault("soapenv:Server", "")),
        "createOffer",
        |_| Some(()),
    )
    .unwrap_err();
    assert_eq!(error.class, ErrorClass::Ambiguous, "{error:?}");
    assert!(error.message.contains("soapenv:Server"));
    // ... unless the status says it did not.
    let error = read_answer(
        &reply(503, &fault("soap:Server", "")),
        "createOffer",
        |_| Some(()),
    )
    .unwrap_err();
    assert_eq!(error.class, ErrorClass::Transient, "{error:?}");

    // A Client fault is InfoJobs' verdict, with its code and words.
    let detail = "<detail><ij:infojobsFault xmlns:ij=\"x\"><code>WS.1104</code><message>The authenticated user doesn't have the stocks necessary</message></ij:infojobsFault></detail>";
    let verdict = read_answer(
        &reply(500, &fault("soap:Client", detail)),
        "createOffer",
        |_| Some(()),
    )
    .unwrap()
    .unwrap_err();
    assert_eq!(verdict.code.as_deref(), Some("WS.1104"));
    let error = verdict.into_error();
    assert_eq!(error.class, ErrorClass::Rejected);
    assert_eq!(
        error.message,
        "InfoJobs refused the request: WS.1104 The authenticated user doesn't have the stocks necessary"
    );

    // Credentials: the WS-Security fault, or InfoJobs' token codes.
    let error = read_answer(
        &reply(500, &fault("wsse:FailedAuthentication", "")),
        "createOffer",
        |_| Some(()),
    )
    .unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth);
    let detail = "<detail><infojobsFault><code>WS.154</code><message>Invalid access token</message></infojobsFault></detail>";
    let error = read_answer(
        &reply(500, &fault("soap:Client", detail)),
        "createOffer",
        |_| Some(()),
    )
    .unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth);

    // Not SOAP at all: by status; a 200 without the response is ambiguous.
    assert_eq!(
        read_answer(&reply(502, "Bad Gateway"), "createOffer", |_| Some(()))
            .unwrap_err()
            .class,
        ErrorClass::Ambiguous
    );
    assert_eq!(
        read_answer(
            &reply(200, "<html>maintenance</html>"),
            "createOffer",
            |_| Some(())
        )
        .unwrap_err()
        .class,
        ErrorClass::Ambiguous
    );
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_failure() {
    let twin = BoardTwin::start_with(ID, &[("password", "not-the-password")]).await;
    let (job, reference) = northwind();
    let mut posting = context(&job, &job.ads["es"], &reference, "es");
    let error = twin.publish(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert!(!error.message.contains("not-the-password"));
    posting.external_id = Some("ffffffffffffffffffffffffffffff");
    let error = twin.withdraw(&posting).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::Auth, "{error:?}");
    assert!(twin.held().is_empty());
}

/// Issue 13: the dictionaries come from `WSListOfValuesService` as
/// `listOfValues/items{id, valor}`, as a public client reads them.
#[test]
fn dictionaries_are_read_from_list_of_values_items() {
    let body = "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><ns1:findByListNameResponse xmlns:ns1=\"http://listOfValues.service.ws.infojobs.net/\"><listOfValues><items><id>1</id><valor>Indefinido</valor></items><items><id>4</id><valor>A tiempo parcial</valor></items></listOfValues></ns1:findByListNameResponse></soap:Body></soap:Envelope>";
    let items = read_answer(&reply(200, body), "findByListName", read_dictionary)
        .unwrap()
        .unwrap();
    assert_eq!(
        items,
        [
            DictionaryItem {
                id: 1,
                value: "Indefinido".into()
            },
            DictionaryItem {
                id: 4,
                value: "A tiempo parcial".into()
            }
        ]
    );
}

/// Issue 12, finding 4: a hostile answer nested a hundred thousand levels
/// deep is read without recursion and refused, not a stack overflow.
#[test]
fn a_deeply_nested_answer_is_refused_without_recursion() {
    let depth = 100_000;
    let body = format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>{}{}</soap:Body></soap:Envelope>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let error = read_answer(&reply(200, &body), "createOffer", |_| Some(())).unwrap_err();
    assert_eq!(error.class, ErrorClass::Ambiguous, "{}", error.message);
    // And beyond the node bound, the document is not even built.
    let body = format!("<r>{}</r>", "<a/>".repeat(300_000));
    let error = read_answer(&reply(200, &body), "createOffer", |_| Some(())).unwrap_err();
    assert_eq!(error.class, ErrorClass::Ambiguous);
    assert!(
        error.message.contains("could not read"),
        "{}",
        error.message
    );
}

/// The access token InfoJobs issues is kept, and fetched again once when
/// InfoJobs no longer takes it.
#[tokio::test]
async fn an_expired_access_token_is_fetched_again_once() {
    let twin = twin().await;
    let (job, reference) = northwind();
    let ad = &job.ads["es"];
    twin.publish(&context(&job, ad, &reference, "es"))
        .await
        .unwrap();
    assert_eq!(twin.requests(), 5);
    expire_tokens(&twin.sandbox);
    let mut other = job.clone();
    other.ads.get_mut("es").unwrap().title = "Jefe/a de Ventas".into();
    twin.publish(&context(&other, &other.ads["es"], "bcother", "es"))
        .await
        .unwrap();
    // The refused create, a new token, the create again.
    assert_eq!(twin.requests(), 8);
    assert_eq!(twin.held().len(), 2);
}

/// Issue 12, finding 14: the hash kept with each attempt covers neither the
/// password nor the access token.
#[tokio::test]
async fn the_request_hash_covers_no_secret() {
    let twin = twin().await;
    let (job, reference) = northwind();
    let posting = context(&job, &job.ads["es"], &reference, "es");
    let mut hashes = Vec::new();
    for password in [twin.credential("password"), "another-password"] {
        let mut log = CallLog::default();
        let _ = twin
            .adapter_with(&[("password", password)])
            .publish(&posting, &mut log)
            .await;
        hashes.push(log.request_hash.expect("a hash is kept"));
    }
    // Both stopped at getAccessToken: the same request but the password.
    assert_ne!(
        hashes[0], hashes[1],
        "the first went on to create the offer"
    );
    let mut log = CallLog::default();
    let _ = twin
        .adapter_with(&[("password", "a-third-password")])
        .publish(&posting, &mut log)
        .await;
    assert_eq!(log.request_hash, Some(hashes[1].clone()));
}
