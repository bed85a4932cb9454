//! The Bundesagentur für Arbeit's twin: the HR-BA-XML upload over HTTPS with
//! a client certificate, and the error files it writes for each upload.
//!
//! It answers only on the sandbox's HTTPS listener ([`super::tls`]): the
//! handshake fails without the client certificate the sandbox issued, and a
//! request that arrives over plain HTTP is refused with 403.
//!
//! Upload: the portal's form at `/bundesagentur/in/` (or under
//! `daten/<partner id>/` for an account naming its Partner ID), a
//! `multipart/form-data` POST whose one file part carries the file under its
//! own name (the twin reads the multipart body itself, RFC 7578; any other
//! method or path is not the form). Checked in the order the BA would: the
//! file name rule `DS{SupplierId}_{YYYY-MM-DD_HH-MM-SS}_F{nnn}{C|E}.xml`
//! (a name used before answers 409); UTF-8, well-formed XML whose root is
//! `HRBAXMLJobPositionPosting` (a strict XML 1.0 parser, `roxmltree`); the header (supplier id as in the file name,
//! timestamp, `Amount` = the entries, `TypeOfLoad` F or D); then the schema's
//! rules for every entry (required elements, code formats, dates, lengths:
//! title ≤ 100, `Objective` ≤ 4,000). A file that breaks any of these is
//! refused whole with 400 and the validator's messages. A file that passes
//! is processed: each entry is checked against the BA's catalogues and
//! rules (a `TitleCode` of the occupation catalogue below, the posting's
//! supplier id, the end after the start, a `DeleteEntry` of an offer held)
//! and applied; a full load (`F`) also deletes the supplier's offers the
//! file leaves out. The error file (`GET /bundesagentur/ES…xml`, named after
//! the upload) lists the errors per entry; it is there after
//! [`set_polls_before_result`] reads that answer 404 (1 by default, so a
//! test sees "pending" once without sleeping).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};

use super::tls::{self, TlsPeer};
use super::{Gate, HeldPosting, Sandbox, Twin, answer};

pub const BOARD: &str = "bundesagentur";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &[tls::CLIENT_CERT, tls::CLIENT_KEY, tls::SERVER_CA],
    routes,
};

/// The sandbox's excerpt of the BA's occupation catalogue (`TitleCode`s).
pub const CATALOGUE: &[&str] = &[
    "271", "8088", "27365", "27371", "27398", "27410", "27432", "27442", "27446", "27502", "58788",
];

/// Limits of the schema as the sandbox models them.
const MAX_TITLE: usize = 100;
const MAX_OBJECTIVE: usize = 4_000;

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/in/", post(upload))
        .route("/daten/{partner}/in/", post(upload_as_partner))
        .route("/{file}", get(error_file))
        .route("/daten/{partner}/{file}", get(error_file_as_partner))
        .with_state(sandbox)
}

/// The twin's own state beyond the postings.
#[derive(Debug, Default)]
pub struct TwinState {
    /// Every file name ever uploaded.
    files: BTreeSet<String>,
    /// Error files by name, with the reads still to answer 404.
    results: BTreeMap<String, (u32, String)>,
    /// Reads of an error file answered 404 before it appears (default 1).
    polls_before_result: Option<u32>,
}

/// How many reads of a new error file answer 404 first.
pub fn set_polls_before_result(sandbox: &Sandbox, polls: u32) {
    sandbox.with_extra(BOARD, |state: &mut TwinState| {
        state.polls_before_result = Some(polls);
    });
}

fn text(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/plain; charset=utf-8".parse().expect("static header"),
    );
    response
}

fn xml(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/xml; charset=utf-8"
            .parse()
            .expect("static header"),
    );
    response
}

/// Only an mTLS connection with a certificate reaches the BA's server.
fn refuse_without_certificate(peer: &Option<Extension<ConnectInfo<TlsPeer>>>) -> Option<Response> {
    let certified = peer
        .as_ref()
        .is_some_and(|Extension(ConnectInfo(peer))| peer.certificate.is_some());
    (!certified).then(|| {
        text(
            StatusCode::FORBIDDEN,
            "HR-BA-XML: nur über HTTPS mit dem Client-Zertifikat der BA \
             (only over HTTPS with the client certificate the BA issued)"
                .to_owned(),
        )
    })
}

// ---------------------------------------------------------------------------
// The file as the validator reads it: every element optional, so that the
// twin itself says what is missing.

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Doc {
    header: Option<Head>,
    data: Option<Entries>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Head {
    supplier_id: Option<String>,
    timestamp: Option<String>,
    amount: Option<String>,
    type_of_load: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Entries {
    #[serde(rename = "JobPositionPosting")]
    postings: Vec<Posting>,
    #[serde(rename = "DeleteEntry")]
    deletes: Vec<Delete>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Delete {
    entry_id: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Posting {
    job_position_posting_id: Option<String>,
    hiring_org: Option<Org>,
    post_detail: Option<Detail>,
    job_position_information: Option<Info>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Org {
    hiring_org_name: Option<String>,
    hiring_org_id: Option<String>,
    profile_web_site: Option<String>,
    contact: Option<OrgContact>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct OrgContact {
    #[serde(rename = "EMail")]
    email: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Detail {
    start_date: Option<String>,
    end_date: Option<String>,
    last_modification_date: Option<String>,
    status: Option<String>,
    action: Option<String>,
    supplier_id: Option<String>,
    internet_reference: Option<String>,
    #[serde(rename = "BASupervision")]
    ba_supervision: Option<String>,
    supervision_desired: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Info {
    job_position_title: Option<Title>,
    job_position_title_description: Option<String>,
    job_offer_type: Option<String>,
    objective: Option<String>,
    job_position_description: Option<Description>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Title {
    title_code: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Description {
    job_position_location: Option<Places>,
    application: Option<Apply>,
    classification: Option<Class>,
    compensation_description: Option<Pay>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Places {
    #[serde(rename = "Location")]
    locations: Vec<Place>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Place {
    country_code: Option<String>,
    postal_code: Option<String>,
    municipality: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Apply {
    kind_of_application: Option<String>,
    application_end_date: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Class {
    schedule: Option<Sched>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Sched {
    working_plan: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Pay {
    salary: Option<String>,
}

// ---------------------------------------------------------------------------
// Validation.

/// The supplier id in a file name that follows the rule.
fn supplier_in_name(file: &str) -> Option<&str> {
    let stem = file.strip_prefix("DS")?.strip_suffix(".xml")?;
    // {SupplierId}_{YYYY-MM-DD}_{HH-MM-SS}_F{nnn}{C|E}
    let mut parts = stem.rsplitn(4, '_');
    let (batch, clock, day, supplier) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let batch = batch.as_bytes();
    let batch_ok = batch.len() == 5
        && batch[0] == b'F'
        && batch[1..4].iter().all(u8::is_ascii_digit)
        && matches!(batch[4], b'C' | b'E');
    let day_ok =
        day.split('-').map(str::len).eq([4, 2, 2]) && day.split('-').all(|p| digits(p, p.len()));
    let clock_ok =
        clock.split('-').map(str::len).eq([2, 2, 2]) && clock.split('-').all(|p| digits(p, 2));
    let supplier_ok = supplier_format(supplier);
    (batch_ok && day_ok && clock_ok && supplier_ok).then_some(supplier)
}

/// A letter and nine digits, like `P000012345` [I: the sample files' ids].
fn supplier_format(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 10 && bytes[0].is_ascii_alphabetic() && bytes[1..].iter().all(u8::is_ascii_digit)
}

fn is_date(text: &str) -> bool {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_ok()
}

fn is_date_time(text: &str) -> bool {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
}

/// The schema's messages for one file, Xerces style.
struct Schema {
    errors: Vec<String>,
}

impl Schema {
    fn missing(&mut self, parent: &str, child: &str) {
        self.errors.push(format!(
            "cvc-complex-type.2.4.b: The content of element '{parent}' is not complete. One of '{{{child}}}' is expected."
        ));
    }

    /// The element's text, or a message that it is missing or empty.
    fn required<'a>(
        &mut self,
        parent: &str,
        child: &str,
        value: &'a Option<String>,
    ) -> Option<&'a str> {
        match value.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Some(text),
            Some(_) => {
                self.errors.push(format!(
                    "cvc-minLength-valid: Value '' with length = '0' is not facet-valid with respect to minLength '1' for element '{child}'."
                ));
                None
            }
            None => {
                self.missing(parent, child);
                None
            }
        }
    }

    fn pattern(&mut self, element: &str, value: &str, ok: bool, rule: &str) {
        if !ok {
            self.errors.push(format!(
                "cvc-pattern-valid: Value '{value}' of element '{element}' is not facet-valid: {rule}."
            ));
        }
    }

    fn max_length(&mut self, element: &str, value: &str, max: usize) {
        let length = value.chars().count();
        if length > max {
            self.errors.push(format!(
                "cvc-maxLength-valid: Value with length = '{length}' is not facet-valid with respect to maxLength '{max}' for element '{element}'."
            ));
        }
    }

    fn header(&mut self, head: &Option<Head>, file_supplier: &str, entries: usize) {
        let Some(head) = head else {
            self.missing("HRBAXMLJobPositionPosting", "Header");
            return;
        };
        if let Some(supplier) = self.required("Header", "SupplierId", &head.supplier_id)
            && supplier != file_supplier
        {
            self.errors.push(format!(
                "SupplierId '{supplier}' im Header stimmt nicht mit dem Dateinamen ('{file_supplier}') überein."
            ));
        }
        if let Some(stamp) = self.required("Header", "Timestamp", &head.timestamp) {
            self.pattern("Timestamp", stamp, is_date_time(stamp), "xs:dateTime");
        }
        if let Some(amount) = self.required("Header", "Amount", &head.amount)
            && amount.parse::<usize>().ok() != Some(entries)
        {
            self.errors.push(format!(
                "Amount '{amount}' im Header stimmt nicht mit der Anzahl der Einträge ({entries}) überein."
            ));
        }
        if let Some(load) = self.required("Header", "TypeOfLoad", &head.type_of_load) {
            self.pattern("TypeOfLoad", load, matches!(load, "F" | "D"), "F or D");
        }
    }

    fn posting(&mut self, posting: &Posting) {
        self.required(
            "JobPositionPosting",
            "JobPositionPostingId",
            &posting.job_position_posting_id,
        );
        match &posting.hiring_org {
            Some(org) => {
                self.required("HiringOrg", "HiringOrgName", &org.hiring_org_name);
            }
            None => self.missing("JobPositionPosting", "HiringOrg"),
        }
        match &posting.post_detail {
            Some(detail) => {
                for (name, value) in [("StartDate", &detail.start_date)] {
                    if let Some(date) = self.required("PostDetail", name, value) {
                        self.pattern(name, date, is_date(date), "xs:date");
                    }
                }
                if let Some(date) = detail.end_date.as_deref() {
                    self.pattern("EndDate", date, is_date(date), "xs:date");
                }
                if let Some(stamp) = self.required(
                    "PostDetail",
                    "LastModificationDate",
                    &detail.last_modification_date,
                ) {
                    self.pattern(
                        "LastModificationDate",
                        stamp,
                        is_date_time(stamp),
                        "xs:dateTime",
                    );
                }
                for (name, value) in [("Status", &detail.status), ("Action", &detail.action)] {
                    if let Some(code) = self.required("PostDetail", name, value) {
                        self.pattern(name, code, matches!(code, "1" | "2" | "3"), "1, 2 or 3");
                    }
                }
                if let Some(id) = self.required("PostDetail", "SupplierId", &detail.supplier_id) {
                    self.pattern(
                        "SupplierId",
                        id,
                        supplier_format(id),
                        "a letter and nine digits",
                    );
                }
            }
            None => self.missing("JobPositionPosting", "PostDetail"),
        }
        let Some(info) = &posting.job_position_information else {
            self.missing("JobPositionPosting", "JobPositionInformation");
            return;
        };
        match &info.job_position_title {
            Some(title) => {
                if let Some(code) =
                    self.required("JobPositionTitle", "TitleCode", &title.title_code)
                {
                    self.pattern(
                        "TitleCode",
                        code,
                        code.bytes().all(|b| b.is_ascii_digit()),
                        "digits",
                    );
                }
            }
            None => self.missing("JobPositionInformation", "JobPositionTitle"),
        }
        if let Some(title) = self.required(
            "JobPositionInformation",
            "JobPositionTitleDescription",
            &info.job_position_title_description,
        ) {
            self.max_length("JobPositionTitleDescription", title, MAX_TITLE);
        }
        if let Some(kind) = self.required(
            "JobPositionInformation",
            "JobOfferType",
            &info.job_offer_type,
        ) {
            self.pattern(
                "JobOfferType",
                kind,
                matches!(kind, "1" | "2" | "4" | "34"),
                "1, 2, 4 or 34",
            );
        }
        if let Some(objective) = &info.objective {
            self.max_length("Objective", objective, MAX_OBJECTIVE);
        }
        let Some(description) = &info.job_position_description else {
            self.missing("JobPositionInformation", "JobPositionDescription");
            return;
        };
        match &description.job_position_location {
            Some(places) if !places.locations.is_empty() => {
                for place in &places.locations {
                    if let Some(country) =
                        self.required("Location", "CountryCode", &place.country_code)
                    {
                        self.pattern(
                            "CountryCode",
                            country,
                            country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()),
                            "ISO 3166-1 alpha-2",
                        );
                    }
                    self.required("Location", "Municipality", &place.municipality);
                }
            }
            Some(_) => self.missing("JobPositionLocation", "Location"),
            None => self.missing("JobPositionDescription", "JobPositionLocation"),
        }
        match &description.application {
            Some(apply) => {
                if let Some(kind) = self.required(
                    "Application",
                    "KindOfApplication",
                    &apply.kind_of_application,
                ) {
                    self.pattern(
                        "KindOfApplication",
                        kind,
                        matches!(kind, "1" | "2" | "3" | "4" | "5"),
                        "1 to 5",
                    );
                }
                if let Some(date) = apply.application_end_date.as_deref() {
                    self.pattern("ApplicationEndDate", date, is_date(date), "xs:date");
                }
            }
            None => self.missing("JobPositionDescription", "Application"),
        }
        if let Some(plan) = description
            .classification
            .as_ref()
            .and_then(|c| c.schedule.as_ref())
            .and_then(|s| s.working_plan.as_deref())
        {
            self.pattern(
                "WorkingPlan",
                plan,
                matches!(plan, "1" | "2" | "3" | "4"),
                "1 to 4",
            );
        }
    }
}

/// The BA's checks after the schema, for one posting (the error file's entries).
fn business_rules(posting: &Posting, file_supplier: &str) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    let info = posting.job_position_information.as_ref();
    let code = info
        .and_then(|i| i.job_position_title.as_ref())
        .and_then(|t| t.title_code.as_deref())
        .unwrap_or_default();
    if !CATALOGUE.contains(&code) {
        errors.push((
            "E101",
            format!("Der Berufscode (TitleCode) {code} ist im Berufekatalog nicht vorhanden."),
        ));
    }
    let detail = posting.post_detail.as_ref();
    let supplier = detail
        .and_then(|d| d.supplier_id.as_deref())
        .unwrap_or_default();
    if supplier != file_supplier {
        errors.push((
            "E102",
            format!(
                "Die SupplierId {supplier} im PostDetail stimmt nicht mit der SupplierId der Datei ({file_supplier}) überein."
            ),
        ));
    }
    let start = detail
        .and_then(|d| d.start_date.as_deref())
        .unwrap_or_default();
    if let Some(end) = detail.and_then(|d| d.end_date.as_deref())
        && end < start
    {
        errors.push((
            "E103",
            format!("Das Enddatum {end} liegt vor dem Beginn der Veröffentlichung ({start})."),
        ));
    }
    errors
}

/// Checks well-formedness (strict XML 1.0) and the root element.
fn well_formed(body: &str) -> Result<(), String> {
    let document = roxmltree::Document::parse(body).map_err(|error| {
        format!("Die Datei ist kein wohlgeformtes XML (not well-formed): {error}")
    })?;
    match document.root_element().tag_name().name() {
        "HRBAXMLJobPositionPosting" => Ok(()),
        other => Err(format!(
            "cvc-elt.1.a: Cannot find the declaration of element '{other}'."
        )),
    }
}

/// One error of the error file.
#[derive(Debug, Clone)]
struct EntryError {
    entry_id: Option<String>,
    code: String,
    text: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The error file for an upload [I: shape in docs/boards/bundesagentur.md].
fn error_document(file: &str, supplier: &str, entries: usize, errors: &[EntryError]) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<HRBAXMLErrorFile><FileName>{}</FileName><SupplierId>{}</SupplierId><Entries>{entries}</Entries>",
        escape(file),
        escape(supplier)
    );
    for error in errors {
        xml.push_str("<Error>");
        if let Some(id) = &error.entry_id {
            xml.push_str(&format!("<EntryId>{}</EntryId>", escape(id)));
        }
        xml.push_str(&format!(
            "<ErrorCode>{}</ErrorCode><ErrorText>{}</ErrorText></Error>",
            escape(&error.code),
            escape(&error.text)
        ));
    }
    xml.push_str("</HRBAXMLErrorFile>\n");
    xml
}

/// The one file of a `multipart/form-data` body (RFC 7578): its filename
/// and its bytes, or why the body is not a form upload.
fn form_file<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<(String, &'a [u8]), String> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut parts = media.split(';').map(str::trim);
    if !parts
        .next()
        .is_some_and(|m| m.eq_ignore_ascii_case("multipart/form-data"))
    {
        return Err(format!(
            "Das Formular erwartet multipart/form-data, nicht \"{media}\"."
        ));
    }
    let boundary = parts
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or("multipart/form-data ohne boundary.")?;
    let delimiter = format!("--{boundary}");
    let find = |haystack: &[u8], needle: &[u8], from: usize| {
        haystack[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|at| at + from)
    };
    let mut at = find(body, delimiter.as_bytes(), 0).ok_or("Kein Teil im Formular.")?;
    let mut files = Vec::new();
    loop {
        at += delimiter.len();
        if body[at..].starts_with(b"--") {
            break;
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err("Formularteil ohne CRLF nach der boundary.".to_owned());
        }
        at += 2;
        let head_end = find(body, b"\r\n\r\n", at).ok_or("Formularteil ohne Kopf.")?;
        let head = std::str::from_utf8(&body[at..head_end]).map_err(|_| "Kopf nicht UTF-8.")?;
        let next = find(body, format!("\r\n{delimiter}").as_bytes(), head_end + 4)
            .ok_or("Formularteil ohne abschließende boundary.")?;
        let content = &body[head_end + 4..next];
        let disposition = head
            .split("\r\n")
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then_some(value.trim())
            })
            .ok_or("Formularteil ohne Content-Disposition.")?;
        let parameter = |key: &str| {
            disposition.split(';').map(str::trim).find_map(|p| {
                p.strip_prefix(key)
                    .and_then(|v| v.strip_prefix('='))
                    .map(|v| v.trim_matches('"').to_owned())
            })
        };
        if !disposition.starts_with("form-data") {
            return Err(format!(
                "Formularteil \"{disposition}\" ist kein form-data."
            ));
        }
        if let Some(filename) = parameter("filename") {
            files.push((filename, content));
        }
        at = next + 2;
    }
    match files.len() {
        1 => Ok(files.remove(0)),
        0 => Err("Das Formular enthält keine Datei.".to_owned()),
        n => Err(format!(
            "Das Formular enthält {n} Dateien; erwartet wird eine."
        )),
    }
}

fn refused(file: &str, problems: &[String]) -> Response {
    text(
        StatusCode::BAD_REQUEST,
        format!(
            "Datei {file} abgelehnt (Schemavalidierung):\n{}\n",
            problems.join("\n")
        ),
    )
}

// ---------------------------------------------------------------------------
// Handlers.

async fn upload(
    State(sandbox): State<Sandbox>,
    peer: Option<Extension<ConnectInfo<TlsPeer>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    receive(sandbox, peer, None, &headers, &body).await
}

async fn upload_as_partner(
    State(sandbox): State<Sandbox>,
    peer: Option<Extension<ConnectInfo<TlsPeer>>>,
    Path(partner): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    receive(sandbox, peer, Some(partner), &headers, &body).await
}

async fn receive(
    sandbox: Sandbox,
    peer: Option<Extension<ConnectInfo<TlsPeer>>>,
    partner: Option<String>,
    headers: &HeaderMap,
    form: &[u8],
) -> Response {
    if let Some(refusal) = refuse_without_certificate(&peer) {
        return refusal;
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    let (file, body) = match form_file(headers, form) {
        Ok(found) => found,
        Err(problem) => return text(StatusCode::BAD_REQUEST, problem),
    };
    let Some(file_supplier) = supplier_in_name(&file) else {
        return refused(
            &file,
            &[format!(
                "Der Dateiname entspricht nicht der Konvention DS{{SupplierId}}_{{YYYY-MM-DD_HH-MM-SS}}_F{{nnn}}{{C|E}}.xml: {file}"
            )],
        );
    };
    if let Some(partner) = &partner
        && !(partner.len() == 10 && partner.starts_with('P') && supplier_format(partner))
    {
        return refused(
            &file,
            &[format!(
                "Die Partner-ID {partner} hat nicht die Form P000XXXXXX."
            )],
        );
    }
    let Ok(body) = std::str::from_utf8(body) else {
        return refused(&file, &["Die Datei ist nicht UTF-8-kodiert.".to_owned()]);
    };
    if let Err(problem) = well_formed(body) {
        return refused(&file, &[problem]);
    }
    let doc: Doc = match quick_xml::de::from_str(body) {
        Ok(doc) => doc,
        Err(error) => return refused(&file, &[format!("cvc-datatype-valid: {error}")]),
    };
    let entries = doc.data.unwrap_or_default();
    let count = entries.postings.len() + entries.deletes.len();
    let mut schema = Schema { errors: Vec::new() };
    schema.header(&doc.header, file_supplier, count);
    if count == 0 {
        schema.missing("Data", "JobPositionPosting, DeleteEntry");
    }
    for posting in &entries.postings {
        schema.posting(posting);
    }
    for delete in &entries.deletes {
        schema.required("DeleteEntry", "EntryId", &delete.entry_id);
    }
    if !schema.errors.is_empty() {
        return refused(&file, &schema.errors);
    }
    let taken = sandbox.with_extra(BOARD, |state: &mut TwinState| {
        !state.files.insert(file.clone())
    });
    if taken {
        return text(
            StatusCode::CONFLICT,
            format!("Eine Datei namens {file} wurde bereits übertragen."),
        );
    }

    let full_load = doc.header.and_then(|h| h.type_of_load).as_deref() == Some("F");
    let errors = apply(&sandbox, file_supplier, entries, full_load);
    let document = error_document(&file, file_supplier, count, &errors);
    let name = format!("ES{}", file.strip_prefix("DS").unwrap_or(&file));
    sandbox.with_extra(BOARD, |state: &mut TwinState| {
        let polls = state.polls_before_result.unwrap_or(1);
        state.results.insert(name, (polls, document));
    });
    answer(
        timing,
        text(StatusCode::CREATED, format!("Datei {file} übertragen.")),
    )
    .await
}

/// Applies the file's entries; the errors for the error file.
fn apply(sandbox: &Sandbox, supplier: &str, entries: Entries, full_load: bool) -> Vec<EntryError> {
    let mut errors = Vec::new();
    let mut in_file = BTreeSet::new();
    for posting in entries.postings {
        let reference = posting.job_position_posting_id.clone().unwrap_or_default();
        in_file.insert(reference.clone());
        let problems = business_rules(&posting, supplier);
        if !problems.is_empty() {
            errors.extend(problems.into_iter().map(|(code, text)| EntryError {
                entry_id: Some(reference.clone()),
                code: code.to_owned(),
                text,
            }));
            continue;
        }
        let title = posting
            .job_position_information
            .as_ref()
            .and_then(|i| i.job_position_title_description.clone())
            .unwrap_or_default();
        let content = serde_json::to_value(&posting).expect("serialisable");
        let next_id = sandbox.next_id(BOARD);
        sandbox.with_postings(BOARD, |held| match held.get_mut(&reference) {
            Some(offer) => {
                offer.updates += 1;
                offer.live = true;
                offer.title = title;
                offer.content = content;
            }
            None => {
                let id = format!("10001-{}-S", 1_000_000_000 + next_id);
                held.insert(
                    reference.clone(),
                    HeldPosting {
                        board: BOARD.to_owned(),
                        reference: reference.clone(),
                        url: format!("https://www.arbeitsagentur.de/jobsuche/jobdetail/{id}"),
                        external_id: id,
                        live: true,
                        title,
                        language: "de".to_owned(),
                        creates: 1,
                        updates: 0,
                        withdrawals: 0,
                        content,
                    },
                );
            }
        });
    }
    for delete in entries.deletes {
        let reference = delete.entry_id.unwrap_or_default();
        in_file.insert(reference.clone());
        let deleted = sandbox.with_postings(BOARD, |held| match held.get_mut(&reference) {
            Some(offer) if offer.live => {
                offer.live = false;
                offer.withdrawals += 1;
                true
            }
            _ => false,
        });
        if !deleted {
            errors.push(EntryError {
                text: format!(
                    "Das Stellenangebot {reference} ist nicht vorhanden und kann nicht gelöscht werden."
                ),
                entry_id: Some(reference),
                code: "E201".to_owned(),
            });
        }
    }
    if full_load {
        // A full load is every offer of the supplier: the rest go offline.
        sandbox.with_postings(BOARD, |held| {
            for offer in held.values_mut() {
                let theirs = offer.content["PostDetail"]["SupplierId"].as_str() == Some(supplier);
                if theirs && offer.live && !in_file.contains(&offer.reference) {
                    offer.live = false;
                    offer.withdrawals += 1;
                }
            }
        });
    }
    errors
}

async fn error_file_as_partner(
    State(sandbox): State<Sandbox>,
    peer: Option<Extension<ConnectInfo<TlsPeer>>>,
    Path((_partner, file)): Path<(String, String)>,
) -> Response {
    read_error_file(sandbox, peer, file).await
}

async fn error_file(
    State(sandbox): State<Sandbox>,
    peer: Option<Extension<ConnectInfo<TlsPeer>>>,
    Path(file): Path<String>,
) -> Response {
    read_error_file(sandbox, peer, file).await
}

async fn read_error_file(
    sandbox: Sandbox,
    peer: Option<Extension<ConnectInfo<TlsPeer>>>,
    file: String,
) -> Response {
    if let Some(refusal) = refuse_without_certificate(&peer) {
        return refusal;
    }
    let timing = match sandbox.gate(BOARD) {
        Gate::Refuse(response) => return response,
        Gate::Proceed { latency, hang } => (latency, hang),
    };
    let found = sandbox.with_extra(BOARD, |state: &mut TwinState| {
        let (polls, document) = state.results.get_mut(&file)?;
        if *polls > 0 {
            *polls -= 1;
            return Some(None);
        }
        Some(Some(document.clone()))
    });
    let response = match found {
        Some(Some(document)) => xml(document),
        Some(None) => text(
            StatusCode::NOT_FOUND,
            format!("{file}: die Datei wird noch verarbeitet."),
        ),
        None => text(
            StatusCode::NOT_FOUND,
            format!("{file}: keine solche Datei."),
        ),
    };
    answer(timing, response).await
}

/// The client certificate, its key and the CA the sandbox issues for this
/// board (see [`super::tls::issue`]).
pub fn certificates() -> std::collections::BTreeMap<String, String> {
    super::tls::issue(BOARD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            supplier_in_name("DSP000012345_2026-05-28_20-26-40_F001E.xml"),
            Some("P000012345")
        );
        assert_eq!(
            supplier_in_name("DSP000012345_2026-05-28_20-26-40_F012C.xml"),
            Some("P000012345")
        );
        for wrong in [
            "DSP000012345_2026-05-28_20-26-40_F001X.xml",
            "DSP000012345_2026-05-28_20-26-40.xml",
            "DSP12_2026-05-28_20-26-40_F001E.xml",
            "ESP000012345_2026-05-28_20-26-40_F001E.xml",
            "DSP000012345_2026-5-28_20-26-40_F001E.xml",
            "DSP000012345_2026-05-28_20-26-40_F001E.txt",
        ] {
            assert_eq!(supplier_in_name(wrong), None, "{wrong}");
        }
    }
}
