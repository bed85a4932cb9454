//! InfoJobs (Spain): SOAP 1.1 web services with employer credentials
//! (BOARDS.md §2 row 18, §3.13, §6.1, §6.2).
//!
//! Documented (BOARDS.md §3.13, from developer.infojobs.net's createOffer V2
//! page): `createOffer` on `WSOfferV2Service`, role `ROLE_EMPLOYER`;
//! `jobTitle` 3–255 characters and one position per offer; `jobDescription`
//! 100–4,000 characters of plain text (no HTML), without links to external
//! sites or contact details; `city` 3–500 characters; `contractTypeId`,
//! `countryId` (17 = Spain) and `provinceId` (9 = Barcelona) are ids from the
//! dictionaries `findByListName` returns for a `publicNameKey` (`CONTRACTS`,
//! ...). The same site's pages, read for this adapter, add: `editOffer` on
//! `WSOfferV2Service` takes the offer `code` returned on creation and wants a
//! `city` of at least 5 characters; `enableOffer(offerCode)` on
//! `WSOfferService` puts an archived or expired offer back online and answers
//! `WS.1102` for an unknown code and `WS.1110` for an offer already enabled;
//! its example envelope authenticates with a WS-Security `UsernameToken`
//! (`PasswordText`) in namespace `http://offer.endpoints.www.soap.infojobs.net/`;
//! an offer summary carries `offerCode`, `jobTitle`, `jobReference` ("used by
//! the company for classification purposes") and `provinceId`.
//! From public copies of InfoJobs' dictionaries [V2]: CONTRACTS (1
//! Indefinido, 3 Formativo, 4 A tiempo parcial, 5 Otros contratos, 8 De
//! duración determinada, ...), PROVINCES (33 = Madrid, 43 = Sevilla, ...,
//! each with the country as `parent`), and offer links of the form
//! `https://www.infojobs.net/<province>/<title>/of-i<code>`.
//!
//! Inferred [I], and modelled the same way in the sandbox twin:
//! * mechanism: the WS-Security UsernameToken of the documented example,
//!   with the employer's `username` and `password` as credentials;
//! * the request element names (`<offer>` around the fields), every response
//!   body (`<return>` with `offerCode`, `jobReference`, `state`
//!   `active`|`archived` and `link`), and `findByListName` items
//!   (`id`, `key`, `value`, `parent`) shaped like the REST dictionary;
//! * `archiveOffer(offerCode)` on `WSOfferService` as the take-down, because
//!   the documented `enableOffer` brings back exactly archived offers;
//!   `WS.1112` for an offer already archived;
//! * our posting reference travels in `jobReference`, and
//!   `findOffersByJobReference(jobReference)` finds offers by it: InfoJobs
//!   keys offers by its own code, so a create whose answer was lost is found
//!   this way instead of being created twice;
//! * faults: `Client` faults (HTTP 500, as SOAP 1.1 sends every fault) carry
//!   `WS.<n>` codes in `detail/infojobsFault`; refused credentials are the
//!   WS-Security fault `wsse:FailedAuthentication`; `Server` faults mean the
//!   board may have acted; 503 and 429 (with `Retry-After`) come as plain HTTP;
//! * dictionaries change rarely: they are fetched once and kept 24 hours.
//!
//! One offer is one position in one place, so a job is offered at its first
//! location in Spain. The ad becomes plain text: the summary, then each
//! section as a heading line and `- item` lines. Text that contains markup,
//! a link, an e-mail address or a phone number is refused by name before
//! anything is sent: InfoJobs withdraws such offers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::http::{self, Reply};
use super::render::{chars, check_max, check_min, headings};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::{EmploymentType, LocalizedAd, Location, primary_language};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str =
    "SOAP WSOfferV2Service (createOffer/editOffer, archive/enable), WS-Security UsernameToken";
pub const ID: &str = "infojobs";
const NAME: &str = "InfoJobs";

/// Paths under the base URL (`https://api.infojobs.net/` in production).
pub const OFFER_SERVICE_V2: &str = "soap/WSOfferV2Service";
pub const OFFER_SERVICE: &str = "soap/WSOfferService";

pub const NS_SOAP_ENVELOPE: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const NS_OFFER: &str = "http://offer.endpoints.www.soap.infojobs.net/";
pub const NS_WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const PASSWORD_TEXT: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";

pub const MIN_TITLE: usize = 3;
pub const MAX_TITLE: usize = 255;
pub const MIN_DESCRIPTION: usize = 100;
pub const MAX_DESCRIPTION: usize = 4_000;
pub const MIN_CITY: usize = 3;
/// `editOffer` documents a longer minimum than `createOffer`.
pub const MIN_CITY_EDIT: usize = 5;
pub const MAX_CITY: usize = 500;
const LANGUAGE: &str = "es";
const COUNTRY: &str = "ES";
/// How long a fetched dictionary is trusted.
pub const DICTIONARY_TTL: Duration = Duration::from_secs(24 * 3600);

/// InfoJobs' codes the adapter acts on.
pub const OFFER_NOT_FOUND: &str = "WS.1102";
pub const ALREADY_ENABLED: &str = "WS.1110";
pub const ALREADY_ARCHIVED: &str = "WS.1112";

/// The dictionaries an offer needs, by `publicNameKey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListName {
    Contracts,
    Countries,
    Provinces,
}

impl ListName {
    pub const ALL: [ListName; 3] = [Self::Contracts, Self::Countries, Self::Provinces];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contracts => "CONTRACTS",
            Self::Countries => "COUNTRIES",
            Self::Provinces => "PROVINCES",
        }
    }
}

/// One entry of a `findByListName` dictionary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DictionaryItem {
    pub id: i64,
    /// Normalised text (`a-coruna`).
    pub key: String,
    /// What people read (`A Coruña`).
    pub value: String,
    /// The country of a province.
    pub parent: Option<i64>,
}

/// The three dictionaries, as last fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dictionaries {
    pub contracts: Vec<DictionaryItem>,
    pub countries: Vec<DictionaryItem>,
    pub provinces: Vec<DictionaryItem>,
}

/// Which call the offer is for: the rules differ a little.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation<'a> {
    Create,
    Edit { code: &'a str },
}

/// The fields of `createOffer` / `editOffer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferRequest {
    /// The offer's code: `editOffer` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub job_title: String,
    pub job_description: String,
    pub city: String,
    pub contract_type_id: i64,
    pub country_id: i64,
    pub province_id: i64,
    /// Our posting reference, by which a lost create is found again.
    pub job_reference: String,
}

impl OfferRequest {
    /// `<off:createOffer>` or `<off:editOffer>` with this offer.
    pub fn to_element(&self) -> XmlElement {
        let operation = if self.code.is_some() {
            "off:editOffer"
        } else {
            "off:createOffer"
        };
        let mut offer = XmlElement::new("offer");
        if let Some(code) = &self.code {
            offer.push(XmlElement::leaf("code", code));
        }
        offer.push(XmlElement::leaf("jobTitle", &self.job_title));
        offer.push(XmlElement::leaf("jobDescription", &self.job_description));
        offer.push(XmlElement::leaf("city", &self.city));
        offer.push(XmlElement::leaf(
            "contractTypeId",
            &self.contract_type_id.to_string(),
        ));
        offer.push(XmlElement::leaf("countryId", &self.country_id.to_string()));
        offer.push(XmlElement::leaf(
            "provinceId",
            &self.province_id.to_string(),
        ));
        offer.push(XmlElement::leaf("jobReference", &self.job_reference));
        XmlElement::new(operation).with(offer)
    }
}

/// The summary of an offer InfoJobs answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferSummary {
    pub offer_code: String,
    pub job_reference: Option<String>,
    pub job_title: Option<String>,
    /// `active` or `archived`.
    pub state: Option<String>,
    pub link: Option<String>,
}

impl OfferSummary {
    pub fn from_element(element: &XmlElement) -> Option<Self> {
        let text = |name: &str| element.child_text(name).map(str::to_owned);
        Some(Self {
            offer_code: text("offerCode").filter(|c| !c.is_empty())?,
            job_reference: text("jobReference"),
            job_title: text("jobTitle"),
            state: text("state"),
            link: text("link"),
        })
    }

    pub fn to_element(&self, name: &str) -> XmlElement {
        let mut element =
            XmlElement::new(name).with(XmlElement::leaf("offerCode", &self.offer_code));
        for (field, value) in [
            ("jobTitle", &self.job_title),
            ("jobReference", &self.job_reference),
            ("state", &self.state),
            ("link", &self.link),
        ] {
            if let Some(value) = value {
                element.push(XmlElement::leaf(field, value));
            }
        }
        element
    }

    pub fn is_active(&self) -> bool {
        self.state.as_deref() == Some("active")
    }
}

// ---------------------------------------------------------------------------
// A small XML tree: enough for SOAP envelopes, written with indentation and
// read back by local names (prefixes vary between SOAP stacks).

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XmlElement {
    /// As written (`off:createOffer`); as read, the local name (`createOffer`).
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<XmlElement>,
    pub text: String,
}

impl XmlElement {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    pub fn leaf(name: &str, text: &str) -> Self {
        Self {
            name: name.to_owned(),
            text: text.to_owned(),
            ..Self::default()
        }
    }

    pub fn attribute(mut self, name: &str, value: &str) -> Self {
        self.attributes.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn with(mut self, child: XmlElement) -> Self {
        self.children.push(child);
        self
    }

    pub fn push(&mut self, child: XmlElement) {
        self.children.push(child);
    }

    /// The name without its prefix.
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    pub fn child(&self, local: &str) -> Option<&XmlElement> {
        self.children.iter().find(|c| c.local_name() == local)
    }

    pub fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a XmlElement> {
        self.children
            .iter()
            .filter(move |c| c.local_name() == local)
    }

    pub fn child_text(&self, local: &str) -> Option<&str> {
        self.child(local).map(|c| c.text.as_str())
    }

    /// The first element named `local` at any depth (this one included).
    pub fn find(&self, local: &str) -> Option<&XmlElement> {
        if self.local_name() == local {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(local))
    }

    pub fn attribute_value(&self, local: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(name, _)| name.rsplit(':').next() == Some(local))
            .map(|(_, value)| value.as_str())
    }

    /// The document, UTF-8, with an XML declaration.
    pub fn to_document(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = "  ".repeat(depth);
        out.push_str(&indent);
        out.push('<');
        out.push_str(&self.name);
        for (name, value) in &self.attributes {
            out.push_str(&format!(" {name}=\"{}\"", quick_xml::escape::escape(value)));
        }
        if self.children.is_empty() {
            if self.text.is_empty() {
                out.push_str("/>\n");
            } else {
                // Only what XML needs escaped: every other character, ñ and ¿
                // included, goes out as its own UTF-8 bytes.
                out.push('>');
                out.push_str(&quick_xml::escape::partial_escape(&self.text));
                out.push_str(&format!("</{}>\n", self.name));
            }
            return;
        }
        out.push_str(">\n");
        for child in &self.children {
            child.write(out, depth + 1);
        }
        out.push_str(&format!("{indent}</{}>\n", self.name));
    }

    /// Reads a document; element names become local names.
    pub fn parse(xml: &str) -> Result<XmlElement, String> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut stack: Vec<XmlElement> = Vec::new();
        let open = |e: &quick_xml::events::BytesStart<'_>| -> Result<XmlElement, String> {
            let mut element = XmlElement::new(e.local_name().as_ref());
            for attribute in e.attributes() {
                let attribute = attribute.map_err(|error| error.to_string())?;
                let value = attribute
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|error| error.to_string())?;
                element
                    .attributes
                    .push((attribute.key.as_ref().to_owned(), value.into_owned()));
            }
            Ok(element)
        };
        loop {
            match reader.read_event().map_err(|error| error.to_string())? {
                Event::Start(e) => stack.push(open(&e)?),
                Event::Empty(e) => {
                    let element = open(&e)?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => return Ok(element),
                    }
                }
                Event::End(_) => {
                    let element = stack.pop().ok_or("an end tag without a start")?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => return Ok(element),
                    }
                }
                Event::Text(e) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&e.xml10_content());
                    }
                }
                Event::CData(e) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&e.into_inner());
                    }
                }
                Event::GeneralRef(e) => {
                    let resolved = match e.resolve_char_ref().map_err(|error| error.to_string())? {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_predefined_entity(&e)
                            .ok_or_else(|| format!("unknown entity &{};", &*e))?
                            .to_owned(),
                    };
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&resolved);
                    }
                }
                Event::Eof => return Err("the document ends inside an element".into()),
                _ => {}
            }
        }
    }
}

/// The SOAP 1.1 envelope around one operation, with the WS-Security
/// UsernameToken header.
pub fn envelope(operation: XmlElement, username: &str, password: &str) -> String {
    let token = XmlElement::new("wsse:UsernameToken")
        .with(XmlElement::leaf("wsse:Username", username))
        .with(XmlElement::leaf("wsse:Password", password).attribute("Type", PASSWORD_TEXT));
    let security = XmlElement::new("wsse:Security")
        .attribute("soapenv:mustUnderstand", "1")
        .attribute("xmlns:wsse", NS_WSSE)
        .with(token);
    XmlElement::new("soapenv:Envelope")
        .attribute("xmlns:soapenv", NS_SOAP_ENVELOPE)
        .attribute("xmlns:off", NS_OFFER)
        .with(XmlElement::new("soapenv:Header").with(security))
        .with(XmlElement::new("soapenv:Body").with(operation))
        .to_document()
}

// ---------------------------------------------------------------------------
// Rendering: a pure function of the posting and the board's dictionaries.

/// The ad as InfoJobs' plain text: the summary, then per section a heading
/// line and one `- item` line per item, sections apart by a blank line.
pub fn plain_description(ad: &LocalizedAd, locale: &str) -> String {
    let titles = headings(locale);
    let mut text = ad.summary.trim().to_owned();
    for (heading, items) in [
        (titles.responsibilities, &ad.responsibilities),
        (titles.requirements, &ad.requirements),
        (titles.benefits, &ad.benefits),
    ] {
        if items.is_empty() {
            continue;
        }
        text.push_str(&format!("\n\n{heading}:"));
        for item in items {
            text.push_str(&format!("\n- {}", item.trim()));
        }
    }
    text
}

/// What in `text` would make InfoJobs withdraw the offer: markup, a link, an
/// e-mail address or a phone number, described with the offending words.
pub fn forbidden_content(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '<'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/' || *n == '!')
        {
            let tag: String = chars[i..].iter().take_while(|c| **c != '>').collect();
            return Some(format!("HTML markup ({tag}>)"));
        }
    }
    for word in text.split_whitespace() {
        let word = word
            .trim_matches(|c: char| ",;:()[]{}\"'¿?¡!".contains(c))
            .trim_end_matches('.');
        let lower = word.to_lowercase();
        if lower.contains("://") || lower.starts_with("www.") || has_web_domain(&lower) {
            return Some(format!("a link ({word})"));
        }
        if let Some((local, domain)) = lower.split_once('@')
            && !local.is_empty()
            && domain.contains('.')
            && !domain.ends_with('.')
        {
            return Some(format!("an e-mail address ({word})"));
        }
    }
    phone_number(&chars).map(|phone| format!("a phone number ({phone})"))
}

/// Top-level domains that mark a bare `name.tld` as a link [I]; a short list,
/// so that "Node.js" or "p. ej." stay words.
const WEB_DOMAINS: [&str; 12] = [
    "com", "es", "net", "org", "eu", "io", "info", "cat", "biz", "co", "dev", "app",
];

fn has_web_domain(word: &str) -> bool {
    let word = word.trim_end_matches(['.', '/']);
    let host = word.split('/').next().unwrap_or(word);
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| WEB_DOMAINS.contains(tld))
}

/// A run of at least 9 digits (a Spanish number has 9), optionally after
/// `+`, with single spaces, dots, dashes or brackets between them.
fn phone_number(chars: &[char]) -> Option<String> {
    let digit_at = |k: usize| chars.get(k).is_some_and(char::is_ascii_digit);
    let mut i = 0;
    while i < chars.len() {
        if !(digit_at(i) || (chars[i] == '+' && digit_at(i + 1))) {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = 0;
        let mut end = i;
        let mut j = i;
        while j < chars.len() {
            let c = chars[j];
            let separator = j > start
                && " .-()".contains(c)
                && (digit_at(j + 1) || chars.get(j + 1) == Some(&'('));
            if c.is_ascii_digit() {
                digits += 1;
                end = j + 1;
            } else if !((j == start && c == '+') || separator) {
                break;
            }
            j += 1;
        }
        if digits >= 9 {
            return Some(chars[start..end].iter().collect());
        }
        i = j.max(i + 1);
    }
    None
}

fn check_text(field: &str, text: &str) -> Result<(), BoardError> {
    match forbidden_content(text) {
        Some(found) if found.starts_with("HTML") => Err(BoardError::rule(format!(
            "{field} contains {found}; InfoJobs takes plain text only"
        ))),
        Some(found) => Err(BoardError::rule(format!(
            "{field} contains {found}; contact details are not allowed in InfoJobs descriptions"
        ))),
        None => Ok(()),
    }
}

/// The job's first location in Spain, or the rule it breaks.
pub fn location<'a>(posting: &PostingContext<'a>) -> Result<&'a Location, BoardError> {
    posting
        .job
        .locations
        .iter()
        .find(|l| l.country == COUNTRY)
        .ok_or_else(|| {
            let mut countries: Vec<&str> = Vec::new();
            for location in &posting.job.locations {
                if !countries.contains(&location.country.as_str()) {
                    countries.push(&location.country);
                }
            }
            BoardError::rule(format!(
                "{NAME} publishes jobs in {COUNTRY}; this job is in {}",
                countries.join(", ")
            ))
        })
}

/// Every rule that needs no dictionary: checked before anything is sent.
pub fn check(posting: &PostingContext<'_>, operation: Operation<'_>) -> Result<(), BoardError> {
    let language = primary_language(posting.locale);
    if language != LANGUAGE {
        return Err(BoardError::rule(format!(
            "{NAME} takes ads in {LANGUAGE}; this one is in {language}"
        )));
    }
    let location = location(posting)?;
    let title = posting.ad.title.trim();
    check_min(NAME, "jobTitle", title, MIN_TITLE)?;
    check_max(NAME, "jobTitle", title, MAX_TITLE)?;
    check_text("jobTitle", title)?;
    let description = plain_description(posting.ad, posting.locale);
    check_text("jobDescription", &description)?;
    check_min(NAME, "jobDescription", &description, MIN_DESCRIPTION)?;
    check_max(NAME, "jobDescription", &description, MAX_DESCRIPTION)?;
    let city = location.city.trim();
    check_text("city", city)?;
    check_min(NAME, "city", city, MIN_CITY)?;
    check_max(NAME, "city", city, MAX_CITY)?;
    if matches!(operation, Operation::Edit { .. }) && chars(city) < MIN_CITY_EDIT {
        return Err(BoardError::rule(format!(
            "city is {} characters; {NAME} needs at least {MIN_CITY_EDIT} to edit an offer",
            chars(city)
        )));
    }
    Ok(())
}

/// Builds the offer for one language variant: a pure function of the
/// posting and InfoJobs' dictionaries.
pub fn render(
    posting: &PostingContext<'_>,
    dictionaries: &Dictionaries,
    operation: Operation<'_>,
) -> Result<OfferRequest, BoardError> {
    check(posting, operation)?;
    let location = location(posting)?;
    let contract_type_id = contract_type_id(posting.job.employment_type, &dictionaries.contracts)?;
    let country_id = country_id(&location.country, &dictionaries.countries)?;
    let province_id = province_id(location, country_id, &dictionaries.provinces)?;
    Ok(OfferRequest {
        code: match operation {
            Operation::Create => None,
            Operation::Edit { code } => Some(code.to_owned()),
        },
        job_title: posting.ad.title.trim().to_owned(),
        job_description: plain_description(posting.ad, posting.locale),
        city: location.city.trim().to_owned(),
        contract_type_id,
        country_id,
        province_id,
        job_reference: posting.reference.to_owned(),
    })
}

fn missing(what: &str, list: ListName) -> BoardError {
    BoardError::rule(format!(
        "{what} has no entry in {NAME}' {} list",
        list.as_str()
    ))
}

/// The CONTRACTS entry (by key) each employment type maps to [I]; volunteer
/// work has none.
fn contract_key(kind: EmploymentType) -> Option<&'static str> {
    match kind {
        EmploymentType::FullTime => Some("indefinido"),
        EmploymentType::PartTime => Some("a-tiempo-parcial"),
        EmploymentType::Contract | EmploymentType::Temporary => Some("de-duracion-determinada"),
        EmploymentType::Internship => Some("formativo"),
        EmploymentType::Other => Some("otros-contratos"),
        EmploymentType::Volunteer => None,
    }
}

pub fn contract_type_id(
    kind: EmploymentType,
    contracts: &[DictionaryItem],
) -> Result<i64, BoardError> {
    contract_key(kind)
        .and_then(|key| contracts.iter().find(|item| item.key == key))
        .map(|item| item.id)
        .ok_or_else(|| {
            missing(
                &format!(
                    "employment type {}",
                    super::render::employment_type_name(kind)
                ),
                ListName::Contracts,
            )
        })
}

/// ISO 3166-1 code to COUNTRIES key: InfoJobs (Spain) serves Spain.
pub fn country_id(iso: &str, countries: &[DictionaryItem]) -> Result<i64, BoardError> {
    let key = match iso {
        "ES" => "espana",
        _ => "",
    };
    countries
        .iter()
        .find(|item| !key.is_empty() && (item.key == key || normalise(&item.value) == key))
        .map(|item| item.id)
        .ok_or_else(|| missing(&format!("country {iso}"), ListName::Countries))
}

/// Names of Spanish provinces the dictionary does not spell that way
/// (co-official or older forms, single-province regions, islands) [I].
const PROVINCE_ALIASES: [(&str, &str); 22] = [
    ("la-coruna", "a-coruna"),
    ("coruna", "a-coruna"),
    ("araba", "alava"),
    ("araba-alava", "alava"),
    ("alava-araba", "alava"),
    ("bizkaia", "vizcaya"),
    ("gipuzkoa", "guipuzcoa"),
    ("baleares", "illes-balears"),
    ("balears", "illes-balears"),
    ("islas-baleares", "illes-balears"),
    ("gerona", "girona"),
    ("lerida", "lleida"),
    ("orense", "ourense"),
    ("nafarroa", "navarra"),
    ("comunidad-de-madrid", "madrid"),
    ("comunidad-foral-de-navarra", "navarra"),
    ("region-de-murcia", "murcia"),
    ("principado-de-asturias", "asturias"),
    ("tenerife", "santa-cruz-de-tenerife"),
    ("gran-canaria", "las-palmas"),
    ("palma", "illes-balears"),
    ("palma-de-mallorca", "illes-balears"),
];

/// The PROVINCES entry of the location: its region, else its city, matched on
/// the dictionary's key or any of the names in its value ("Valencia/València").
pub fn province_id(
    location: &Location,
    country_id: i64,
    provinces: &[DictionaryItem],
) -> Result<i64, BoardError> {
    let in_country = |item: &&DictionaryItem| item.parent.is_none_or(|p| p == country_id);
    let candidates = location
        .region
        .iter()
        .chain(std::iter::once(&location.city))
        .map(|name| normalise(name));
    for candidate in candidates {
        let aliased = PROVINCE_ALIASES
            .iter()
            .find(|(alias, _)| *alias == candidate)
            .map(|(_, key)| (*key).to_owned());
        let found = provinces.iter().filter(in_country).find(|item| {
            item.key == candidate
                || aliased.as_deref() == Some(item.key.as_str())
                || item
                    .value
                    .split('/')
                    .any(|name| normalise(name) == candidate)
        });
        if let Some(item) = found {
            return Ok(item.id);
        }
    }
    let place = match &location.region {
        Some(region) => format!("{} ({region})", location.city),
        None => location.city.clone(),
    };
    Err(missing(&place, ListName::Provinces))
}

/// Lower case, Spanish and Catalan accents dropped, other characters to `-`:
/// the shape of InfoJobs' dictionary keys.
pub fn normalise(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().to_lowercase().chars() {
        let plain = match c {
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            '·' => continue,
            c if c.is_alphanumeric() => c,
            _ => '-',
        };
        if plain == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(plain);
    }
    out.trim_end_matches('-').to_owned()
}

// ---------------------------------------------------------------------------
// Answers.

/// A `Client` fault: InfoJobs' verdict on the request, with its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: Option<String>,
    pub message: String,
}

impl Fault {
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub fn into_error(self) -> BoardError {
        let code = self.code.map(|c| format!("{c} ")).unwrap_or_default();
        BoardError::new(
            ErrorClass::Rejected,
            Some(500),
            format!("{NAME} refused the request: {code}{}", self.message),
        )
    }
}

/// InfoJobs' token errors (`WS.150`–`WS.156`) are about credentials.
fn is_auth_code(code: &str) -> bool {
    matches!(
        code,
        "WS.150" | "WS.151" | "WS.152" | "WS.153" | "WS.154" | "WS.155" | "WS.156"
    )
}

/// Reads one answer: the `<operation>Response` element, InfoJobs' refusal
/// (`Ok(Err(fault))`), or the error class of anything else.
pub fn read_answer(
    reply: &Reply,
    operation: &str,
) -> Result<Result<XmlElement, Fault>, BoardError> {
    let document = XmlElement::parse(&reply.body).ok();
    if let Some(fault) = document.as_ref().and_then(|d| d.find("Fault")) {
        let faultcode = fault.child_text("faultcode").unwrap_or_default().trim();
        let faultstring = fault.child_text("faultstring").unwrap_or_default().trim();
        let detail = fault.find("infojobsFault");
        let code = detail
            .and_then(|d| d.child_text("code"))
            .map(|c| c.trim().to_owned());
        let message = detail
            .and_then(|d| d.child_text("message"))
            .map(|m| m.trim().to_owned())
            .unwrap_or_else(|| faultstring.to_owned());
        let kind = faultcode.rsplit(':').next().unwrap_or(faultcode);
        let headline = format!(
            "{NAME} answered {} with fault {faultcode}: {message}",
            reply.status
        );
        if matches!(
            kind,
            "FailedAuthentication" | "InvalidSecurity" | "InvalidSecurityToken" | "FailedCheck"
        ) || code.as_deref().is_some_and(is_auth_code)
        {
            return Err(BoardError::new(
                ErrorClass::Auth,
                Some(reply.status),
                format!("{NAME} refused our employer credentials ({faultcode}: {faultstring})"),
            ));
        }
        if kind == "Client" {
            return Ok(Err(Fault { code, message }));
        }
        // A Server fault: InfoJobs may have acted, unless the status says it
        // did not (503) or asks us to slow down (429).
        return Err(match reply.status {
            408 | 429 | 503 => http::classify(reply.status, &reply.headers, &headline),
            _ => BoardError::new(ErrorClass::Ambiguous, Some(reply.status), headline),
        });
    }
    if !reply.is_success() {
        return Err(reply.error(NAME));
    }
    let response = format!("{operation}Response");
    document
        .as_ref()
        .and_then(|d| d.find(&response))
        .cloned()
        .map(Ok)
        .ok_or_else(|| {
            BoardError::new(
                ErrorClass::Ambiguous,
                Some(reply.status),
                format!(
                    "{NAME} answered without a {response}: {}",
                    http::excerpt(&reply.body)
                ),
            )
        })
}

fn summary(response: &XmlElement) -> Result<OfferSummary, BoardError> {
    response
        .child("return")
        .and_then(OfferSummary::from_element)
        .ok_or_else(|| {
            BoardError::new(
                ErrorClass::Ambiguous,
                Some(200),
                format!("{NAME}'s answer names no offer code"),
            )
        })
}

fn live(summary: OfferSummary) -> Receipt {
    Receipt::Live {
        external_id: summary.offer_code,
        url: summary.link,
    }
}

// ---------------------------------------------------------------------------
// The adapter.

struct CachedList {
    fetched: Instant,
    items: Vec<DictionaryItem>,
}

pub struct InfoJobs {
    http: reqwest::Client,
    v2_url: url::Url,
    v1_url: url::Url,
    username: SecretString,
    password: SecretString,
    timeout: Duration,
    /// Dictionaries by list, each with the time it was fetched.
    dictionaries: Mutex<HashMap<ListName, CachedList>>,
}

/// What stands in for the password in the hash kept with each attempt.
const REDACTED: &str = "********";

impl InfoJobs {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let base = config.base_url()?;
        Ok(Self {
            http: config.http.clone(),
            v2_url: base.join(OFFER_SERVICE_V2).expect("a static path joins"),
            v1_url: base.join(OFFER_SERVICE).expect("a static path joins"),
            username: config.credential("username")?,
            password: config.credential("password")?,
            timeout: config.request_timeout,
            dictionaries: Mutex::new(HashMap::new()),
        })
    }

    /// Sends one operation and reads its answer.
    async fn call(
        &self,
        url: &url::Url,
        operation: XmlElement,
        log: &mut CallLog,
    ) -> Result<Result<XmlElement, Fault>, BoardError> {
        let name = operation.local_name().to_owned();
        let username = self.username.expose_secret();
        // The attempt's hash covers everything sent but the password.
        let recorded = envelope(operation.clone(), username, REDACTED);
        let body = envelope(operation, username, self.password.expose_secret());
        let request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", "\"\"")
            .timeout(self.timeout)
            .body(body);
        let reply = http::send(NAME, request, Some(recorded.as_bytes()), log).await?;
        read_answer(&reply, &name)
    }

    /// The three dictionaries, fetched once and then kept for a day.
    async fn dictionaries(&self, log: &mut CallLog) -> Result<Dictionaries, BoardError> {
        let mut cache = self.dictionaries.lock().await;
        for list in ListName::ALL {
            if cache
                .get(&list)
                .is_some_and(|cached| cached.fetched.elapsed() < DICTIONARY_TTL)
            {
                continue;
            }
            let operation = XmlElement::new("off:findByListName")
                .with(XmlElement::leaf("publicNameKey", list.as_str()));
            let response = self
                .call(&self.v2_url, operation, log)
                .await?
                .map_err(Fault::into_error)?;
            let items = read_dictionary(&response).ok_or_else(|| {
                BoardError::new(
                    ErrorClass::Ambiguous,
                    Some(200),
                    format!("{NAME}'s {} dictionary could not be read", list.as_str()),
                )
            })?;
            cache.insert(
                list,
                CachedList {
                    fetched: Instant::now(),
                    items,
                },
            );
        }
        let items = |list| {
            cache
                .get(&list)
                .map(|c| c.items.clone())
                .unwrap_or_default()
        };
        Ok(Dictionaries {
            contracts: items(ListName::Contracts),
            countries: items(ListName::Countries),
            provinces: items(ListName::Provinces),
        })
    }

    /// Offers InfoJobs holds under our reference.
    async fn find(
        &self,
        reference: &str,
        log: &mut CallLog,
    ) -> Result<Vec<OfferSummary>, BoardError> {
        let operation = XmlElement::new("off:findOffersByJobReference")
            .with(XmlElement::leaf("jobReference", reference));
        let response = self
            .call(&self.v2_url, operation, log)
            .await?
            .map_err(Fault::into_error)?;
        Ok(response
            .children_named("return")
            .filter_map(OfferSummary::from_element)
            .filter(|offer| offer.job_reference.as_deref() == Some(reference))
            .collect())
    }

    async fn create(
        &self,
        posting: &PostingContext<'_>,
        dictionaries: &Dictionaries,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let offer = render(posting, dictionaries, Operation::Create)?;
        let response = self
            .call(&self.v2_url, offer.to_element(), log)
            .await?
            .map_err(Fault::into_error)?;
        Ok(live(summary(&response)?))
    }

    /// Edits offer `code` and puts it online if it is not; `None` when
    /// InfoJobs has no such offer.
    async fn edit(
        &self,
        posting: &PostingContext<'_>,
        dictionaries: &Dictionaries,
        code: &str,
        log: &mut CallLog,
    ) -> Result<Option<Receipt>, BoardError> {
        let offer = render(posting, dictionaries, Operation::Edit { code })?;
        let edited = match self.call(&self.v2_url, offer.to_element(), log).await? {
            Ok(response) => summary(&response)?,
            Err(fault) if fault.is(OFFER_NOT_FOUND) => return Ok(None),
            Err(fault) => return Err(fault.into_error()),
        };
        if edited.is_active() && posting.live_at_board {
            return Ok(Some(live(edited)));
        }
        let operation =
            XmlElement::new("off:enableOffer").with(XmlElement::leaf("offerCode", code));
        match self.call(&self.v1_url, operation, log).await? {
            Ok(response) => Ok(Some(live(summary(&response)?))),
            Err(fault) if fault.is(ALREADY_ENABLED) => Ok(Some(live(edited))),
            Err(fault) => Err(fault.into_error()),
        }
    }

    async fn archive(&self, code: &str, log: &mut CallLog) -> Result<(), BoardError> {
        let operation =
            XmlElement::new("off:archiveOffer").with(XmlElement::leaf("offerCode", code));
        match self.call(&self.v1_url, operation, log).await? {
            Ok(_) => Ok(()),
            // Gone or down already: what we wanted.
            Err(fault) if fault.is(OFFER_NOT_FOUND) || fault.is(ALREADY_ARCHIVED) => Ok(()),
            Err(fault) => Err(fault.into_error()),
        }
    }
}

/// The items of a `findByListNameResponse`.
pub fn read_dictionary(response: &XmlElement) -> Option<Vec<DictionaryItem>> {
    let list = response.child("return")?;
    list.children_named("item")
        .map(|item| {
            Some(DictionaryItem {
                id: item.child_text("id")?.trim().parse().ok()?,
                key: item.child_text("key")?.trim().to_owned(),
                value: item.child_text("value")?.trim().to_owned(),
                parent: match item.child_text("parent") {
                    Some(parent) => Some(parent.trim().parse().ok()?),
                    None => None,
                },
            })
        })
        .collect()
}

#[async_trait]
impl Board for InfoJobs {
    fn id(&self) -> &'static str {
        ID
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        check(posting, Operation::Create)?;
        let dictionaries = self.dictionaries(log).await?;
        if posting.may_exist {
            // An earlier create may have landed: bring that offer in line instead.
            let found = self.find(posting.reference, log).await?;
            if let Some(offer) = found.iter().find(|o| o.is_active()).or(found.first()) {
                let mut existing = *posting;
                existing.live_at_board = offer.is_active();
                if let Some(receipt) = self
                    .edit(&existing, &dictionaries, &offer.offer_code, log)
                    .await?
                {
                    return Ok(receipt);
                }
            }
        }
        self.create(posting, &dictionaries, log).await
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        check(posting, Operation::Create)?;
        let dictionaries = self.dictionaries(log).await?;
        let code = match posting.external_id {
            Some(code) => Some(code.to_owned()),
            None => {
                let found = self.find(posting.reference, log).await?;
                found
                    .iter()
                    .find(|o| o.is_active())
                    .or(found.first())
                    .map(|o| o.offer_code.clone())
            }
        };
        if let Some(code) = code
            && let Some(receipt) = self.edit(posting, &dictionaries, &code, log).await?
        {
            return Ok(receipt);
        }
        // InfoJobs never had it: create it now.
        self.create(posting, &dictionaries, log).await
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let codes = match posting.external_id {
            Some(code) => vec![code.to_owned()],
            None => self
                .find(posting.reference, log)
                .await?
                .into_iter()
                .filter(OfferSummary::is_active)
                .map(|o| o.offer_code)
                .collect(),
        };
        for code in codes {
            self.archive(&code, log).await?;
        }
        Ok(Receipt::Withdrawn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised_like_infojobs() {
        assert_eq!(normalise("A Coruña"), "a-coruna");
        assert_eq!(normalise("Castellón/Castelló"), "castellon-castello");
        assert_eq!(normalise("  Comunidad de Madrid "), "comunidad-de-madrid");
        assert_eq!(
            normalise("L'Hospitalet de Llobregat"),
            "l-hospitalet-de-llobregat"
        );
    }

    #[test]
    fn contact_details_and_markup_are_found() {
        let found = |text: &str| forbidden_content(text);
        assert_eq!(
            found("Escríbenos a rrhh@empresa.es hoy").unwrap(),
            "an e-mail address (rrhh@empresa.es)"
        );
        assert_eq!(
            found("Más en https://empresa.es/empleo.").unwrap(),
            "a link (https://empresa.es/empleo)"
        );
        assert_eq!(
            found("Visita www.empresa.es").unwrap(),
            "a link (www.empresa.es)"
        );
        assert_eq!(
            found("Visita empresa.com, gracias").unwrap(),
            "a link (empresa.com)"
        );
        assert_eq!(
            found("Llama al +34 600 123 456.").unwrap(),
            "a phone number (+34 600 123 456)"
        );
        assert_eq!(
            found("Llama al 912-345-678").unwrap(),
            "a phone number (912-345-678)"
        );
        assert_eq!(found("Sé <b>proactivo</b>").unwrap(), "HTML markup (<b>)");
        for clean in [
            "Conocimientos de CRM (p. ej. Salesforce) y Node.js",
            "Plan 401(k), salario 48.000 - 72.000 EUR, desde 2027-01-31",
            "Si 3 < 4 y 5 > 2, ¿qué?",
            "Horario de 9:00 a 18:00",
        ] {
            assert_eq!(found(clean), None, "{clean}");
        }
    }

    #[test]
    fn text_round_trips_through_the_tree() {
        let element = XmlElement::new("off:createOffer")
            .with(XmlElement::leaf("jobTitle", "¿Diseñador/a & más <ya>?"));
        let document = element.to_document();
        assert!(document.contains("¿Diseñador/a &amp; más &lt;ya&gt;?"));
        let parsed = XmlElement::parse(&document).unwrap();
        assert_eq!(parsed.name, "createOffer");
        assert_eq!(
            parsed.child_text("jobTitle"),
            Some("¿Diseñador/a & más <ya>?")
        );
    }
}
