//! InfoJobs' twin: two SOAP 1.1 endpoints, `/soap/WSOfferV2Service`
//! (`createOffer`, `editOffer`, `findByListName`, `findOffersByJobReference`)
//! and `/soap/WSOfferService` (`enableOffer`, `archiveOffer`), behind a
//! WS-Security UsernameToken. It serves the CONTRACTS, COUNTRIES and
//! PROVINCES dictionaries and checks offers on its own against InfoJobs'
//! documented rules: title 3–255 characters, description 100–4,000 of plain
//! text without links or contact details, city 3–500 (at least 5 to edit),
//! and ids that exist in the dictionaries, the province in the country.
//! Offers are keyed by InfoJobs' own code: creating the same `jobReference`
//! twice makes two offers, as InfoJobs does.
//!
//! Inferred, as in the adapter (see `boards::infojobs`): the element names of
//! requests and answers, `archiveOffer` and `findOffersByJobReference`, the
//! `WS.10xx` validation codes and `WS.1112`, the `infojobsFault` detail, and
//! `wsse:FailedAuthentication` for refused credentials. `WS.1101`, `WS.1102`
//! and `WS.1110` are InfoJobs' documented `enableOffer` codes.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::{Gate, HeldPosting, Sandbox, Twin, answer};
use crate::boards::infojobs::{
    DictionaryItem, NS_OFFER, NS_SOAP_ENVELOPE, NS_WSSE, OfferSummary, PASSWORD_TEXT, XmlElement,
};

pub const BOARD: &str = "infojobs";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["username", "password"],
    routes,
};

const V2_OPERATIONS: [&str; 4] = [
    "createOffer",
    "editOffer",
    "findByListName",
    "findOffersByJobReference",
];
const V1_OPERATIONS: [&str; 2] = ["enableOffer", "archiveOffer"];

/// CONTRACTS as InfoJobs lists them (public copies of the dictionary).
const CONTRACTS: [(i64, &str, &str); 8] = [
    (10, "autonomo", "Autónomo"),
    (8, "de-duracion-determinada", "De duración determinada"),
    (6, "de-relevo", "De relevo"),
    (9, "fijo-discontinuo", "Fijo discontinuo"),
    (3, "formativo", "Formativo"),
    (1, "indefinido", "Indefinido"),
    (4, "a-tiempo-parcial", "A tiempo parcial"),
    (5, "otros-contratos", "Otros contratos"),
];

/// COUNTRIES: only Spain's id (17) is known to us; the twin lists no others.
const COUNTRIES: [(i64, &str, &str); 1] = [(17, "espana", "España")];
const SPAIN: i64 = 17;

/// PROVINCES of Spain (parent 17), ids as InfoJobs' dictionary has them.
const PROVINCES: [(i64, &str, &str); 52] = [
    (28, "a-coruna", "A Coruña"),
    (2, "alava", "Álava"),
    (3, "albacete", "Albacete"),
    (4, "alicante-alacant", "Alicante/Alacant"),
    (5, "almeria", "Almería"),
    (6, "asturias", "Asturias"),
    (7, "avila", "Ávila"),
    (8, "badajoz", "Badajoz"),
    (9, "barcelona", "Barcelona"),
    (10, "burgos", "Burgos"),
    (11, "caceres", "Cáceres"),
    (12, "cadiz", "Cádiz"),
    (13, "cantabria", "Cantabria"),
    (14, "castellon-castello", "Castellón/Castelló"),
    (15, "ceuta", "Ceuta"),
    (16, "ciudad-real", "Ciudad Real"),
    (17, "cordoba", "Córdoba"),
    (18, "cuenca", "Cuenca"),
    (19, "girona", "Girona"),
    (21, "granada", "Granada"),
    (22, "guadalajara", "Guadalajara"),
    (23, "guipuzcoa", "Guipúzcoa"),
    (24, "huelva", "Huelva"),
    (25, "huesca", "Huesca"),
    (26, "illes-balears", "Illes Balears"),
    (27, "jaen", "Jaén"),
    (29, "la-rioja", "La Rioja"),
    (20, "las-palmas", "Las Palmas"),
    (30, "leon", "León"),
    (31, "lleida", "Lleida"),
    (32, "lugo", "Lugo"),
    (33, "madrid", "Madrid"),
    (34, "malaga", "Málaga"),
    (35, "melilla", "Melilla"),
    (36, "murcia", "Murcia"),
    (37, "navarra", "Navarra"),
    (38, "ourense", "Ourense"),
    (39, "palencia", "Palencia"),
    (40, "pontevedra", "Pontevedra"),
    (41, "salamanca", "Salamanca"),
    (46, "santa-cruz-de-tenerife", "Santa Cruz de Tenerife"),
    (42, "segovia", "Segovia"),
    (43, "sevilla", "Sevilla"),
    (44, "soria", "Soria"),
    (45, "tarragona", "Tarragona"),
    (47, "teruel", "Teruel"),
    (48, "toledo", "Toledo"),
    (49, "valencia-valencia", "Valencia/València"),
    (50, "valladolid", "Valladolid"),
    (51, "vizcaya", "Vizcaya"),
    (52, "zamora", "Zamora"),
    (53, "zaragoza", "Zaragoza"),
];

/// A dictionary as the twin serves it now, by `publicNameKey`.
pub fn dictionary(list: &str) -> Option<Vec<DictionaryItem>> {
    let items = |table: &[(i64, &str, &str)], parent: Option<i64>| {
        table
            .iter()
            .map(|(id, key, value)| DictionaryItem {
                id: *id,
                key: (*key).to_owned(),
                value: (*value).to_owned(),
                parent,
            })
            .collect()
    };
    match list {
        "CONTRACTS" => Some(items(&CONTRACTS, None)),
        "COUNTRIES" => Some(items(&COUNTRIES, None)),
        "PROVINCES" => Some(items(&PROVINCES, Some(SPAIN))),
        _ => None,
    }
}

/// The twin's dictionaries, which a test may change (InfoJobs retires entries).
struct Desk {
    dictionaries: BTreeMap<String, Vec<DictionaryItem>>,
}

impl Default for Desk {
    fn default() -> Self {
        let dictionaries = ["CONTRACTS", "COUNTRIES", "PROVINCES"]
            .into_iter()
            .map(|list| (list.to_owned(), dictionary(list).unwrap_or_default()))
            .collect();
        Self { dictionaries }
    }
}

/// Removes entry `id` from dictionary `list`, as InfoJobs does when it
/// retires a value: offers naming it are refused from then on.
pub fn retire_entry(sandbox: &Sandbox, list: &str, id: i64) {
    sandbox.with_extra::<Desk, _>(BOARD, |desk| {
        if let Some(items) = desk.dictionaries.get_mut(list) {
            items.retain(|item| item.id != id);
        }
    });
}

fn lookup(sandbox: &Sandbox, list: &str, id: i64) -> Option<DictionaryItem> {
    sandbox.with_extra::<Desk, _>(BOARD, |desk| {
        desk.dictionaries
            .get(list)
            .and_then(|items| items.iter().find(|item| item.id == id).cloned())
    })
}

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/soap/WSOfferV2Service", post(v2))
        .route("/soap/WSOfferService", post(v1))
        .with_state(sandbox)
}

async fn v2(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    serve(
        &sandbox,
        "WSOfferV2Service",
        &V2_OPERATIONS,
        &headers,
        &body,
    )
    .await
}

async fn v1(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    serve(&sandbox, "WSOfferService", &V1_OPERATIONS, &headers, &body).await
}

// ---------------------------------------------------------------------------
// Envelopes.

fn soap(status: StatusCode, body: XmlElement) -> Response {
    let document = XmlElement::new("soapenv:Envelope")
        .attribute("xmlns:soapenv", NS_SOAP_ENVELOPE)
        .with(XmlElement::new("soapenv:Body").with(body))
        .to_document();
    let mut response = (status, document).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/xml; charset=utf-8".parse().expect("static header"),
    );
    response
}

fn success(operation: &str, content: Vec<XmlElement>) -> Response {
    let mut element =
        XmlElement::new(&format!("off:{operation}Response")).attribute("xmlns:off", NS_OFFER);
    element.children = content;
    soap(StatusCode::OK, element)
}

/// A `Client` fault with InfoJobs' code (HTTP 500, as SOAP 1.1 sends faults).
fn client_fault(code: &str, message: &str) -> Response {
    let detail = XmlElement::new("off:infojobsFault")
        .attribute("xmlns:off", NS_OFFER)
        .with(XmlElement::leaf("code", code))
        .with(XmlElement::leaf("message", message));
    let fault = XmlElement::new("soapenv:Fault")
        .with(XmlElement::leaf("faultcode", "soapenv:Client"))
        .with(XmlElement::leaf(
            "faultstring",
            &format!("{code}: {message}"),
        ))
        .with(XmlElement::new("detail").with(detail));
    soap(StatusCode::INTERNAL_SERVER_ERROR, fault)
}

fn auth_fault() -> Response {
    let fault = XmlElement::new("soapenv:Fault")
        .attribute("xmlns:wsse", NS_WSSE)
        .with(XmlElement::leaf("faultcode", "wsse:FailedAuthentication"))
        .with(XmlElement::leaf(
            "faultstring",
            "The security token could not be authenticated or authorized",
        ));
    soap(StatusCode::INTERNAL_SERVER_ERROR, fault)
}

fn authorised(sandbox: &Sandbox, envelope: &XmlElement) -> bool {
    let Some(token) = envelope
        .child("Header")
        .and_then(|h| h.child("Security"))
        .and_then(|s| s.child("UsernameToken"))
    else {
        return false;
    };
    let Some(password) = token.child("Password") else {
        return false;
    };
    let plain_text = password
        .attribute_value("Type")
        .is_none_or(|kind| kind == PASSWORD_TEXT);
    plain_text
        && token.child_text("Username") == Some(sandbox.credential(BOARD, "username"))
        && password.text == sandbox.credential(BOARD, "password")
}

async fn serve(
    sandbox: &Sandbox,
    service: &str,
    operations: &[&str],
    headers: &HeaderMap,
    body: &str,
) -> Response {
    let charset_ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| {
            let v = v.to_ascii_lowercase();
            !v.contains("charset=") || v.contains("charset=utf-8")
        });
    if !charset_ok {
        return client_fault("WS.1000", "requests must be encoded in UTF-8");
    }
    let envelope = match XmlElement::parse(body) {
        Ok(envelope) if envelope.local_name() == "Envelope" => envelope,
        Ok(_) => return client_fault("WS.1000", "the request is not a SOAP envelope"),
        Err(error) => {
            return client_fault(
                "WS.1000",
                &format!("the request is not well-formed XML: {error}"),
            );
        }
    };
    if !authorised(sandbox, &envelope) {
        return auth_fault();
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    let Some(operation) = envelope.child("Body").and_then(|b| b.children.first()) else {
        return answer(timing, client_fault("WS.1000", "the SOAP Body is empty")).await;
    };
    let name = operation.local_name();
    let response = if !operations.contains(&name) {
        client_fault("WS.1000", &format!("{service} has no operation {name}"))
    } else {
        match name {
            "createOffer" => create(sandbox, operation),
            "editOffer" => edit(sandbox, operation),
            "findByListName" => find_by_list_name(sandbox, operation),
            "findOffersByJobReference" => find_by_reference(sandbox, operation),
            "enableOffer" => enable(sandbox, operation),
            _ => archive(sandbox, operation),
        }
    };
    answer(timing, response).await
}

// ---------------------------------------------------------------------------
// InfoJobs' rules, checked here on their own.

/// The checked fields of an offer.
struct Offer {
    title: String,
    description: String,
    city: String,
    contract_type_id: i64,
    country_id: i64,
    province: DictionaryItem,
    reference: Option<String>,
}

type Refusal = (&'static str, String);

fn length_between(field: &str, text: &str, min: usize, max: usize) -> Result<(), Refusal> {
    let length = text.chars().count();
    if (min..=max).contains(&length) {
        return Ok(());
    }
    let code = match field {
        "jobTitle" => "WS.1001",
        "jobDescription" => "WS.1002",
        _ => "WS.1004",
    };
    Err((
        code,
        format!("{field} must be between {min} and {max} characters long; it is {length}"),
    ))
}

/// Markup, links, e-mail addresses, phone numbers: what InfoJobs forbids.
fn forbidden(text: &str) -> Option<&'static str> {
    let bytes: Vec<char> = text.chars().collect();
    if bytes
        .windows(2)
        .any(|w| w[0] == '<' && (w[1].is_ascii_alphabetic() || w[1] == '/' || w[1] == '!'))
    {
        return Some("HTML tags");
    }
    let lower = text.to_lowercase();
    if lower.contains("http://") || lower.contains("https://") || lower.contains("www.") {
        return Some("links to external sites");
    }
    for token in lower.split(|c: char| c.is_whitespace() || ",;()<>\"'".contains(c)) {
        let token = token.trim_end_matches(['.', ':', '?', '!']);
        if let Some(at) = token.find('@')
            && at > 0
            && token[at + 1..].contains('.')
        {
            return Some("e-mail addresses");
        }
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() >= 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '-'))
            && parts.last().is_some_and(|tld| {
                ["com", "es", "net", "org", "eu", "io", "info", "cat"].contains(tld)
            })
        {
            return Some("links to external sites");
        }
    }
    // Nine digits or more, at most one separator between two of them.
    let mut digits = 0;
    let mut gap = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            gap = 0;
            if digits >= 9 {
                return Some("phone numbers");
            }
        } else if digits > 0 && gap == 0 && " .-()".contains(c) {
            gap = 1;
        } else if !(digits == 0 && c == '+') {
            digits = 0;
            gap = 0;
        }
    }
    None
}

fn id_field(offer: &XmlElement, field: &str) -> Result<i64, Refusal> {
    offer
        .child_text(field)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(("WS.1000", format!("{field} is required")))?
        .parse()
        .map_err(|_| ("WS.1000", format!("{field} must be a number")))
}

fn validate(sandbox: &Sandbox, offer: &XmlElement, editing: bool) -> Result<Offer, Refusal> {
    let text = |field: &str| -> Result<String, Refusal> {
        offer
            .child_text(field)
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned)
            .ok_or(("WS.1000", format!("{field} is required")))
    };
    let title = text("jobTitle")?;
    let description = text("jobDescription")?;
    let city = text("city")?;
    length_between("jobTitle", &title, 3, 255)?;
    length_between("jobDescription", &description, 100, 4000)?;
    for (field, value) in [("jobTitle", &title), ("jobDescription", &description)] {
        if let Some(what) = forbidden(value) {
            let rule = if what == "HTML tags" {
                "Only plain text is allowed (do not use any html tags)"
            } else {
                "You must not include links to external sites or contact details"
            };
            return Err(("WS.1003", format!("{rule}: {field} contains {what}")));
        }
    }
    if editing {
        length_between("city", &city, 5, 500)?;
    } else {
        length_between("city", &city, 3, 500)?;
    }
    let contract_type_id = id_field(offer, "contractTypeId")?;
    if lookup(sandbox, "CONTRACTS", contract_type_id).is_none() {
        return Err((
            "WS.1005",
            format!("contractTypeId {contract_type_id} is not in the CONTRACTS list"),
        ));
    }
    let country_id = id_field(offer, "countryId")?;
    if lookup(sandbox, "COUNTRIES", country_id).is_none() {
        return Err((
            "WS.1006",
            format!("countryId {country_id} is not in the COUNTRIES list"),
        ));
    }
    let province_id = id_field(offer, "provinceId")?;
    let province = lookup(sandbox, "PROVINCES", province_id)
        .filter(|p| p.parent == Some(country_id))
        .ok_or((
            "WS.1007",
            format!("provinceId {province_id} is not a PROVINCES entry of country {country_id}"),
        ))?;
    Ok(Offer {
        title,
        description,
        city,
        contract_type_id,
        country_id,
        province,
        reference: offer
            .child_text("jobReference")
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
    })
}

fn content(offer: &Offer) -> serde_json::Value {
    json!({
        "jobTitle": offer.title,
        "jobDescription": offer.description,
        "city": offer.city,
        "contractTypeId": offer.contract_type_id,
        "countryId": offer.country_id,
        "provinceId": offer.province.id,
        "jobReference": offer.reference,
    })
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        let c = match c {
            'á' | 'à' => 'a',
            'é' | 'è' => 'e',
            'í' | 'ï' => 'i',
            'ó' | 'ò' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            c if c.is_ascii_alphanumeric() => c,
            _ => '-',
        };
        if c != '-' || !(out.is_empty() || out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn summary(posting: &HeldPosting) -> OfferSummary {
    OfferSummary {
        offer_code: posting.external_id.clone(),
        job_reference: Some(posting.reference.clone()).filter(|r| !r.is_empty()),
        job_title: Some(posting.title.clone()),
        state: Some(if posting.live { "active" } else { "archived" }.to_owned()),
        link: Some(posting.url.clone()),
    }
}

// ---------------------------------------------------------------------------
// Operations.

fn create(sandbox: &Sandbox, operation: &XmlElement) -> Response {
    let Some(fields) = operation.child("offer") else {
        return client_fault("WS.1000", "createOffer needs an offer");
    };
    if fields.child("code").is_some() {
        return client_fault("WS.1000", "createOffer takes no code");
    }
    let offer = match validate(sandbox, fields, false) {
        Ok(offer) => offer,
        Err((code, message)) => return client_fault(code, &message),
    };
    // InfoJobs' codes: 30 hex digits.
    let serial = sandbox.next_id(BOARD);
    let code = format!("{:030x}", 0x5eed_0000_0000_u64 + serial * 0x9e37_79b9);
    let posting = HeldPosting {
        board: BOARD.to_owned(),
        reference: offer.reference.clone().unwrap_or_default(),
        url: format!(
            "https://www.infojobs.net/{}/{}/of-i{code}",
            offer.province.key,
            slug(&offer.title)
        ),
        external_id: code.clone(),
        live: true,
        title: offer.title.clone(),
        language: "es".to_owned(),
        creates: 1,
        updates: 0,
        withdrawals: 0,
        content: content(&offer),
    };
    let returned = summary(&posting);
    sandbox.with_postings(BOARD, |held| held.insert(code, posting));
    success("createOffer", vec![returned.to_element("return")])
}

fn edit(sandbox: &Sandbox, operation: &XmlElement) -> Response {
    let Some(fields) = operation.child("offer") else {
        return client_fault("WS.1000", "editOffer needs an offer");
    };
    let code = fields
        .child_text("code")
        .unwrap_or_default()
        .trim()
        .to_owned();
    if code.is_empty() {
        return client_fault("WS.1101", "Invalid offer code. Null or empty string");
    }
    let offer = match validate(sandbox, fields, true) {
        Ok(offer) => offer,
        Err((code, message)) => return client_fault(code, &message),
    };
    let edited = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&code)?;
        posting.updates += 1;
        posting.title = offer.title.clone();
        if let Some(reference) = &offer.reference {
            posting.reference = reference.clone();
        }
        posting.content = content(&offer);
        Some(summary(posting))
    });
    match edited {
        Some(returned) => success("editOffer", vec![returned.to_element("return")]),
        None => client_fault("WS.1102", "The job offer code doesn't exist"),
    }
}

fn offer_code(operation: &XmlElement) -> Option<String> {
    operation
        .child_text("offerCode")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

fn enable(sandbox: &Sandbox, operation: &XmlElement) -> Response {
    let Some(code) = offer_code(operation) else {
        return client_fault("WS.1101", "Invalid offer code. Null or empty string");
    };
    let result = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&code).ok_or("WS.1102")?;
        if posting.live {
            return Err("WS.1110");
        }
        posting.live = true;
        Ok(summary(posting))
    });
    match result {
        Ok(returned) => success("enableOffer", vec![returned.to_element("return")]),
        Err("WS.1110") => client_fault("WS.1110", "The offer is already enabled."),
        Err(_) => client_fault("WS.1102", "The job offer code doesn't exist"),
    }
}

fn archive(sandbox: &Sandbox, operation: &XmlElement) -> Response {
    let Some(code) = offer_code(operation) else {
        return client_fault("WS.1101", "Invalid offer code. Null or empty string");
    };
    let result = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&code).ok_or("WS.1102")?;
        if !posting.live {
            return Err("WS.1112");
        }
        posting.live = false;
        posting.withdrawals += 1;
        Ok(summary(posting))
    });
    match result {
        Ok(returned) => success("archiveOffer", vec![returned.to_element("return")]),
        Err("WS.1112") => client_fault("WS.1112", "The offer is already archived."),
        Err(_) => client_fault("WS.1102", "The job offer code doesn't exist"),
    }
}

fn find_by_list_name(sandbox: &Sandbox, operation: &XmlElement) -> Response {
    let key = operation
        .child_text("publicNameKey")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let items = sandbox.with_extra::<Desk, _>(BOARD, |desk| desk.dictionaries.get(&key).cloned());
    let Some(items) = items else {
        return client_fault("WS.2001", &format!("Unknown publicNameKey {key:?}"));
    };
    let mut list = XmlElement::new("return");
    for item in items {
        let mut element = XmlElement::new("item")
            .with(XmlElement::leaf("id", &item.id.to_string()))
            .with(XmlElement::leaf("key", &item.key))
            .with(XmlElement::leaf("value", &item.value));
        if let Some(parent) = item.parent {
            element.push(XmlElement::leaf("parent", &parent.to_string()));
        }
        list.push(element);
    }
    success("findByListName", vec![list])
}

fn find_by_reference(sandbox: &Sandbox, operation: &XmlElement) -> Response {
    let reference = operation
        .child_text("jobReference")
        .unwrap_or_default()
        .trim()
        .to_owned();
    if reference.is_empty() {
        return client_fault("WS.1000", "jobReference is required");
    }
    let found: Vec<XmlElement> = sandbox.with_postings(BOARD, |held| {
        held.values()
            .filter(|posting| posting.reference == reference)
            .map(|posting| summary(posting).to_element("return"))
            .collect()
    });
    success("findOffersByJobReference", found)
}
