//! InfoJobs' twin, written from InfoJobs' operation pages and the public
//! client named in `docs/boards/infojobs.md` — never from the adapter's
//! types: it reads requests with `roxmltree` (strict XML 1.0, namespaces
//! resolved) into its own structures and writes its answers as text.
//!
//! Services (SOAP 1.1, paths under the board URL):
//! * `/soap/WSAccessTokenService`: `getAccessToken{email}` → `token`;
//! * `/soap/WSListOfValuesService`: `findByListName{publicNameKey}` and
//!   `findByListNameAndParentId{publicNameKey, parentId}` →
//!   `listOfValues/items{id, valor}`;
//! * `/soap/WSOfferV2Service`: `createOffer{wsCreateOfferRequestBean}` →
//!   `wsCreateOfferResponseBean{offerCode}`, `editOffer{wsEditOfferRequestBean}`
//!   → `wsEditOfferResponseBean{offerCode}`;
//! * `/soap/WSOfferV3Service`: `disableOffer{offerCode}` → `offerSummary`,
//!   `findOffersPublishedByEmployer` → `offerList/offer{name, offerCode, status}`;
//! * `/soap/WSOfferService`: `enableOffer{offerCode}` → `offerSummary`.
//!
//! Every call carries the WS-Security UsernameToken; every call but
//! `getAccessToken` also the `authnHeader` token the twin issued. Operation
//! elements must be in their service's namespace. Offers are checked on
//! their own against InfoJobs' documented rules: title 3–255 characters,
//! description 100–4,000 of plain text without links or contact details,
//! city 3–500 (at least 5 to edit), ids that exist in the dictionaries (the
//! province among the country's), and no field the operation does not know.
//! Offers are keyed by InfoJobs' own code: creating the same offer twice
//! makes two offers, as InfoJobs does.
//!
//! Inferred, as in the record: the `WS.10xx` validation codes, `WS.151` for a
//! missing or unknown token, `WS.1112` for an offer already disabled, the
//! `infojobsFault` detail, `wsse:FailedAuthentication`, the `status` values
//! `ACTIVE`/`DISABLED`, the `offer` element name inside `offerList`.
//! `WS.1101`, `WS.1102` and `WS.1110` are InfoJobs' documented codes.

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::{Gate, HeldPosting, Sandbox, Twin, answer};

pub const BOARD: &str = "infojobs";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["username", "password"],
    routes,
};

const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const PASSWORD_TEXT: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";
const AUTHN: &str = "http://api.infojobs.net/soap/authn";
const OFFER: &str = "http://offer.endpoints.www.soap.infojobs.net/";
const OFFER_V3: &str = "http://offerV3.endpoints.www.soap.infojobs.net/";
const LIST_OF_VALUES: &str = "http://listOfValues.service.ws.infojobs.net/";
const ACCESS_TOKEN: &str = "http://accesstoken.endpoints.www.soap.infojobs.net/";

/// Each service's operations and the namespace they are in.
const SERVICES: [(&str, &[(&str, &str)]); 5] = [
    ("WSAccessTokenService", &[("getAccessToken", ACCESS_TOKEN)]),
    (
        "WSListOfValuesService",
        &[
            ("findByListName", LIST_OF_VALUES),
            ("findByListNameAndParentId", LIST_OF_VALUES),
        ],
    ),
    (
        "WSOfferV2Service",
        &[("createOffer", OFFER), ("editOffer", OFFER)],
    ),
    (
        "WSOfferV3Service",
        &[
            ("disableOffer", OFFER),
            ("findOffersPublishedByEmployer", OFFER_V3),
        ],
    ),
    ("WSOfferService", &[("enableOffer", OFFER)]),
];

/// The fields the offer beans take (InfoJobs' createOffer/editOffer pages
/// and the public client); anything else is refused.
const OFFER_FIELDS: [&str; 26] = [
    "code",
    "jobTitle",
    "jobDescription",
    "city",
    "zip",
    "contractTypeId",
    "countryId",
    "provinceId",
    "department",
    "desiredJobSkills",
    "requiredJobSkills",
    "emailFeedbackInsc",
    "urlExternalApplication",
    "levelId",
    "jobIndustryId",
    "jobSubindustryId",
    "minimumStudiesId",
    "minimumExperienceId",
    "numberOfVacancies",
    "workingDayId",
    "salaryPerId",
    "salaryFromId",
    "salaryToId",
    "hideSalary",
    "timetable",
    "jobDuration",
];

/// CONTRACTS as InfoJobs lists them (public copies of the dictionary).
const CONTRACTS: [(i64, &str); 8] = [
    (10, "Autónomo"),
    (8, "De duración determinada"),
    (6, "De relevo"),
    (9, "Fijo discontinuo"),
    (3, "Formativo"),
    (1, "Indefinido"),
    (4, "A tiempo parcial"),
    (5, "Otros contratos"),
];

/// COUNTRIES: only Spain's id (17) is known to us; the twin lists no others.
const COUNTRIES: [(i64, &str); 1] = [(17, "España")];
const SPAIN: i64 = 17;

/// PROVINCES of Spain (parent 17), ids as InfoJobs' dictionary has them.
const PROVINCES: [(i64, &str); 52] = [
    (28, "A Coruña"),
    (2, "Álava"),
    (3, "Albacete"),
    (4, "Alicante/Alacant"),
    (5, "Almería"),
    (6, "Asturias"),
    (7, "Ávila"),
    (8, "Badajoz"),
    (9, "Barcelona"),
    (10, "Burgos"),
    (11, "Cáceres"),
    (12, "Cádiz"),
    (13, "Cantabria"),
    (14, "Castellón/Castelló"),
    (15, "Ceuta"),
    (16, "Ciudad Real"),
    (17, "Córdoba"),
    (18, "Cuenca"),
    (19, "Girona"),
    (21, "Granada"),
    (22, "Guadalajara"),
    (23, "Guipúzcoa"),
    (24, "Huelva"),
    (25, "Huesca"),
    (26, "Illes Balears"),
    (27, "Jaén"),
    (29, "La Rioja"),
    (20, "Las Palmas"),
    (30, "León"),
    (31, "Lleida"),
    (32, "Lugo"),
    (33, "Madrid"),
    (34, "Málaga"),
    (35, "Melilla"),
    (36, "Murcia"),
    (37, "Navarra"),
    (38, "Ourense"),
    (39, "Palencia"),
    (40, "Pontevedra"),
    (41, "Salamanca"),
    (46, "Santa Cruz de Tenerife"),
    (42, "Segovia"),
    (43, "Sevilla"),
    (44, "Soria"),
    (45, "Tarragona"),
    (47, "Teruel"),
    (48, "Toledo"),
    (49, "Valencia/València"),
    (50, "Valladolid"),
    (51, "Vizcaya"),
    (52, "Zamora"),
    (53, "Zaragoza"),
];

/// A dictionary as the twin serves it now: `(id, valor)`; PROVINCES are Spain's.
pub fn dictionary(list: &str) -> Option<Vec<(i64, String)>> {
    let items = |table: &[(i64, &str)]| {
        table
            .iter()
            .map(|(id, value)| (*id, (*value).to_owned()))
            .collect()
    };
    match list {
        "CONTRACTS" => Some(items(&CONTRACTS)),
        "COUNTRIES" => Some(items(&COUNTRIES)),
        "PROVINCES" => Some(items(&PROVINCES)),
        _ => None,
    }
}

/// The twin's own state: dictionaries (a test may retire entries) and the
/// access tokens it issued.
struct Desk {
    dictionaries: BTreeMap<String, Vec<(i64, String)>>,
    tokens: BTreeSet<String>,
}

impl Default for Desk {
    fn default() -> Self {
        let dictionaries = ["CONTRACTS", "COUNTRIES", "PROVINCES"]
            .into_iter()
            .map(|list| (list.to_owned(), dictionary(list).unwrap_or_default()))
            .collect();
        Self {
            dictionaries,
            tokens: BTreeSet::new(),
        }
    }
}

/// Removes entry `id` from dictionary `list`, as InfoJobs does when it
/// retires a value: offers naming it are refused from then on.
pub fn retire_entry(sandbox: &Sandbox, list: &str, id: i64) {
    sandbox.with_extra::<Desk, _>(BOARD, |desk| {
        if let Some(items) = desk.dictionaries.get_mut(list) {
            items.retain(|(item, _)| *item != id);
        }
    });
}

/// Forgets every token issued, as when InfoJobs expires them.
pub fn expire_tokens(sandbox: &Sandbox) {
    sandbox.with_extra::<Desk, _>(BOARD, |desk| desk.tokens.clear());
}

fn lookup(sandbox: &Sandbox, list: &str, id: i64) -> Option<String> {
    sandbox.with_extra::<Desk, _>(BOARD, |desk| {
        desk.dictionaries
            .get(list)
            .and_then(|items| items.iter().find(|(item, _)| *item == id))
            .map(|(_, value)| value.clone())
    })
}

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/soap/{service}", post(serve))
        .with_state(sandbox)
}

// ---------------------------------------------------------------------------
// Answers, written as text.

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn soap(status: StatusCode, body: String) -> Response {
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"{SOAP_ENV}\"><soap:Body>{body}</soap:Body></soap:Envelope>"
    );
    let mut response = (status, document).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/xml; charset=utf-8".parse().expect("static header"),
    );
    response
}

fn success(operation: &str, namespace: &str, content: String) -> Response {
    soap(
        StatusCode::OK,
        format!(
            "<ns1:{operation}Response xmlns:ns1=\"{namespace}\">{content}</ns1:{operation}Response>"
        ),
    )
}

/// A `Client` fault with InfoJobs' code (HTTP 500, as SOAP 1.1 sends faults).
fn client_fault(code: &str, message: &str) -> Response {
    let message = escape(message);
    soap(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>{code}: {message}</faultstring><detail><ns1:infojobsFault xmlns:ns1=\"{OFFER}\"><code>{code}</code><message>{message}</message></ns1:infojobsFault></detail></soap:Fault>"
        ),
    )
}

fn auth_fault() -> Response {
    soap(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "<soap:Fault xmlns:wsse=\"{WSSE}\"><faultcode>wsse:FailedAuthentication</faultcode><faultstring>The security token could not be authenticated or authorized</faultstring></soap:Fault>"
        ),
    )
}

fn offer_summary(code: &str, title: &str) -> String {
    format!(
        "<offerSummary><offerCode>{}</offerCode><jobTitle>{}</jobTitle></offerSummary>",
        escape(code),
        escape(title)
    )
}

// ---------------------------------------------------------------------------
// Reading requests.

type Node<'a, 'input> = roxmltree::Node<'a, 'input>;

fn child<'a, 'input>(
    node: Node<'a, 'input>,
    namespace: Option<&str>,
    local: &str,
) -> Option<Node<'a, 'input>> {
    node.children().find(|c| {
        c.is_element() && c.tag_name().name() == local && c.tag_name().namespace() == namespace
    })
}

fn text_of(node: Node<'_, '_>) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

/// The UsernameToken matches the twin's credentials.
fn authorised(sandbox: &Sandbox, header: Option<Node<'_, '_>>) -> bool {
    let Some(token) = header
        .and_then(|h| child(h, Some(WSSE), "Security"))
        .and_then(|s| child(s, Some(WSSE), "UsernameToken"))
    else {
        return false;
    };
    let (Some(username), Some(password)) = (
        child(token, Some(WSSE), "Username"),
        child(token, Some(WSSE), "Password"),
    ) else {
        return false;
    };
    password
        .attribute("Type")
        .is_none_or(|kind| kind == PASSWORD_TEXT)
        && text_of(username) == sandbox.credential(BOARD, "username")
        && text_of(password) == sandbox.credential(BOARD, "password")
}

/// The access token of `authnHeader`, if the twin issued it.
fn token_valid(sandbox: &Sandbox, header: Option<Node<'_, '_>>) -> bool {
    let Some(token) = header
        .and_then(|h| child(h, Some(AUTHN), "authnHeader"))
        .and_then(|a| child(a, None, "token"))
        .map(text_of)
    else {
        return false;
    };
    sandbox.with_extra::<Desk, _>(BOARD, |desk| desk.tokens.contains(token.trim()))
}

async fn serve(
    State(sandbox): State<Sandbox>,
    Path(service): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let Some((_, operations)) = SERVICES.iter().find(|(name, _)| *name == service) else {
        return (StatusCode::NOT_FOUND, "no such service").into_response();
    };
    let charset_ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.starts_with("text/xml") && (!v.contains("charset=") || v.contains("charset=utf-8"))
        });
    if !charset_ok {
        return client_fault("WS.1000", "requests are text/xml in UTF-8");
    }
    let document = match roxmltree::Document::parse(&body) {
        Ok(document) => document,
        Err(error) => {
            return client_fault(
                "WS.1000",
                &format!("the request is not well-formed XML: {error}"),
            );
        }
    };
    let envelope = document.root_element();
    if envelope.tag_name().namespace() != Some(SOAP_ENV) || envelope.tag_name().name() != "Envelope"
    {
        return client_fault("WS.1000", "the request is not a SOAP 1.1 envelope");
    }
    let header = child(envelope, Some(SOAP_ENV), "Header");
    if !authorised(&sandbox, header) {
        return auth_fault();
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    let Some(operation) =
        child(envelope, Some(SOAP_ENV), "Body").and_then(|b| b.children().find(|c| c.is_element()))
    else {
        return answer(timing, client_fault("WS.1000", "the SOAP Body is empty")).await;
    };
    let name = operation.tag_name().name();
    let namespace = operation.tag_name().namespace().unwrap_or_default();
    let response = match operations.iter().find(|(op, _)| *op == name) {
        None => client_fault("WS.1000", &format!("{service} has no operation {name}")),
        Some((_, expected)) if *expected != namespace => client_fault(
            "WS.1000",
            &format!("{name} belongs to namespace {expected}, not {namespace:?}"),
        ),
        Some(_) if name != "getAccessToken" && !token_valid(&sandbox, header) => {
            client_fault("WS.151", "Invalid or missing access token")
        }
        Some((_, namespace)) => match name {
            "getAccessToken" => issue_token(&sandbox, operation, namespace),
            "findByListName" | "findByListNameAndParentId" => {
                list_of_values(&sandbox, operation, name, namespace)
            }
            "createOffer" => create(&sandbox, operation),
            "editOffer" => edit(&sandbox, operation),
            "enableOffer" => set_live(&sandbox, operation, true),
            "disableOffer" => set_live(&sandbox, operation, false),
            _ => published(&sandbox, namespace),
        },
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
    province_id: i64,
    province: String,
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

fn validate(sandbox: &Sandbox, bean: Node<'_, '_>, editing: bool) -> Result<Offer, Refusal> {
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for field in bean.children().filter(|c| c.is_element()) {
        let name = field.tag_name().name();
        if !OFFER_FIELDS.contains(&name) || field.tag_name().namespace().is_some() {
            return Err(("WS.1000", format!("unknown field {name}")));
        }
        if field.children().any(|c| c.is_element()) {
            return Err((
                "WS.1000",
                format!("{name} holds elements; a value is expected"),
            ));
        }
        fields.insert(name.to_owned(), text_of(field));
    }
    let text = |field: &str| -> Result<String, Refusal> {
        fields
            .get(field)
            .filter(|t| !t.trim().is_empty())
            .cloned()
            .ok_or(("WS.1000", format!("{field} is required")))
    };
    let id = |field: &str| -> Result<i64, Refusal> {
        text(field)?
            .trim()
            .parse()
            .map_err(|_| ("WS.1000", format!("{field} must be a number")))
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
    length_between("city", &city, if editing { 5 } else { 3 }, 500)?;
    let contract_type_id = id("contractTypeId")?;
    if lookup(sandbox, "CONTRACTS", contract_type_id).is_none() {
        return Err((
            "WS.1005",
            format!("contractTypeId {contract_type_id} is not in the CONTRACTS list"),
        ));
    }
    let country_id = id("countryId")?;
    if lookup(sandbox, "COUNTRIES", country_id).is_none() {
        return Err((
            "WS.1006",
            format!("countryId {country_id} is not in the COUNTRIES list"),
        ));
    }
    let province_id = id("provinceId")?;
    // The twin's PROVINCES are Spain's.
    let province = lookup(sandbox, "PROVINCES", province_id)
        .filter(|_| country_id == SPAIN)
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
        province_id,
        province,
    })
}

fn content(offer: &Offer) -> serde_json::Value {
    json!({
        "jobTitle": offer.title,
        "jobDescription": offer.description,
        "city": offer.city,
        "contractTypeId": offer.contract_type_id,
        "countryId": offer.country_id,
        "provinceId": offer.province_id,
    })
}

// ---------------------------------------------------------------------------
// Operations.

fn issue_token(sandbox: &Sandbox, operation: Node<'_, '_>, namespace: &str) -> Response {
    let email = child(operation, None, "email")
        .map(text_of)
        .unwrap_or_default();
    let email = email.trim();
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !valid {
        return client_fault(
            "WS.150",
            "email must be the employer account's e-mail address",
        );
    }
    let serial = sandbox.next_id(BOARD);
    let token = format!("tok-{serial:08x}");
    sandbox.with_extra::<Desk, _>(BOARD, |desk| desk.tokens.insert(token.clone()));
    success(
        "getAccessToken",
        namespace,
        format!("<token>{token}</token>"),
    )
}

fn list_of_values(
    sandbox: &Sandbox,
    operation: Node<'_, '_>,
    name: &str,
    namespace: &str,
) -> Response {
    let key = child(operation, None, "publicNameKey")
        .map(text_of)
        .unwrap_or_default();
    let key = key.trim();
    let parent = child(operation, None, "parentId").map(text_of);
    // PROVINCES hang under a country: asked for by parent (the twin knows Spain's).
    let items = match (key, name, parent.as_deref().map(str::trim)) {
        ("PROVINCES", "findByListNameAndParentId", Some(parent)) => {
            if parent.parse::<i64>() == Ok(SPAIN) {
                sandbox.with_extra::<Desk, _>(BOARD, |desk| desk.dictionaries.get(key).cloned())
            } else {
                Some(Vec::new())
            }
        }
        ("PROVINCES", _, _) => {
            return client_fault("WS.2002", "PROVINCES needs the parentId of a country");
        }
        (_, "findByListName", None) => {
            sandbox.with_extra::<Desk, _>(BOARD, |desk| desk.dictionaries.get(key).cloned())
        }
        _ => return client_fault("WS.2002", &format!("{key} takes no parentId")),
    };
    let Some(items) = items else {
        return client_fault("WS.2001", &format!("Unknown publicNameKey {key:?}"));
    };
    let items: String = items
        .iter()
        .map(|(id, value)| {
            format!(
                "<items><id>{id}</id><valor>{}</valor></items>",
                escape(value)
            )
        })
        .collect();
    success(
        name,
        namespace,
        format!("<listOfValues>{items}</listOfValues>"),
    )
}

fn create(sandbox: &Sandbox, operation: Node<'_, '_>) -> Response {
    let Some(bean) = child(operation, None, "wsCreateOfferRequestBean") else {
        return client_fault("WS.1000", "createOffer needs a wsCreateOfferRequestBean");
    };
    if child(bean, None, "code").is_some() {
        return client_fault("WS.1000", "createOffer takes no code");
    }
    let offer = match validate(sandbox, bean, false) {
        Ok(offer) => offer,
        Err((code, message)) => return client_fault(code, &message),
    };
    // InfoJobs' codes: 30 hex digits.
    let serial = sandbox.next_id(BOARD);
    let code = format!("{:030x}", 0x5eed_0000_0000_u64 + serial * 0x9e37_79b9);
    let posting = HeldPosting {
        board: BOARD.to_owned(),
        // InfoJobs holds no reference of ours.
        reference: String::new(),
        url: format!(
            "https://www.infojobs.net/{}/{}/of-i{code}",
            slug(&offer.province),
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
    sandbox.with_postings(BOARD, |held| held.insert(code.clone(), posting));
    success(
        "createOffer",
        OFFER,
        format!(
            "<wsCreateOfferResponseBean><offerCode>{code}</offerCode><jobTitle>{}</jobTitle><provinceId>{}</provinceId></wsCreateOfferResponseBean>",
            escape(&offer.title),
            offer.province_id
        ),
    )
}

fn edit(sandbox: &Sandbox, operation: Node<'_, '_>) -> Response {
    let Some(bean) = child(operation, None, "wsEditOfferRequestBean") else {
        return client_fault("WS.1000", "editOffer needs a wsEditOfferRequestBean");
    };
    let code = child(bean, None, "code").map(text_of).unwrap_or_default();
    let code = code.trim().to_owned();
    if code.is_empty() {
        return client_fault("WS.1101", "Invalid offer code. Null or empty string");
    }
    let offer = match validate(sandbox, bean, true) {
        Ok(offer) => offer,
        Err((code, message)) => return client_fault(code, &message),
    };
    let edited = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&code)?;
        posting.updates += 1;
        posting.title = offer.title.clone();
        posting.content = content(&offer);
        Some(())
    });
    match edited {
        Some(()) => success(
            "editOffer",
            OFFER,
            format!(
                "<wsEditOfferResponseBean><offerCode>{code}</offerCode></wsEditOfferResponseBean>"
            ),
        ),
        None => client_fault("WS.1102", "The job offer code doesn't exist"),
    }
}

/// `enableOffer` (live) or `disableOffer` (not live).
fn set_live(sandbox: &Sandbox, operation: Node<'_, '_>, live: bool) -> Response {
    let name = if live { "enableOffer" } else { "disableOffer" };
    let code = child(operation, None, "offerCode")
        .map(text_of)
        .unwrap_or_default();
    let code = code.trim().to_owned();
    if code.is_empty() {
        return client_fault("WS.1101", "Invalid offer code. Null or empty string");
    }
    let result = sandbox.with_postings(BOARD, |held| {
        let posting = held.get_mut(&code).ok_or("WS.1102")?;
        if posting.live == live {
            return Err(if live { "WS.1110" } else { "WS.1112" });
        }
        posting.live = live;
        if !live {
            posting.withdrawals += 1;
        }
        Ok(posting.title.clone())
    });
    match result {
        Ok(title) => success(name, OFFER, offer_summary(&code, &title)),
        Err("WS.1110") => client_fault("WS.1110", "The offer is already enabled."),
        Err("WS.1112") => client_fault("WS.1112", "The offer is already disabled."),
        Err(_) => client_fault("WS.1102", "The job offer code doesn't exist"),
    }
}

fn published(sandbox: &Sandbox, namespace: &str) -> Response {
    let offers: String = sandbox.with_postings(BOARD, |held| {
        held.values()
            .map(|posting| {
                format!(
                    "<offer><name>{}</name><offerCode>{}</offerCode><status>{}</status></offer>",
                    escape(&posting.title),
                    posting.external_id,
                    if posting.live { "ACTIVE" } else { "DISABLED" }
                )
            })
            .collect()
    });
    success(
        "findOffersPublishedByEmployer",
        namespace,
        format!("<offerList>{offers}</offerList>"),
    )
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
