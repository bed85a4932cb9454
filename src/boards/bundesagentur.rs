//! Bundesagentur für Arbeit (the BA's JOBBÖRSE): HR-BA-XML files uploaded over
//! HTTPS with a client certificate, results read later from the BA's error
//! files (BOARDS.md §2 row 17, §3.12, §6).
//!
//! Documented [V]: a cooperation agreement gives the partner a certificate
//! (.p12 + password), a Supplier ID and a Partner ID (`P000XXXXXX`); since
//! 2016 files go up over HTTPS with that client certificate
//! (hrbaxml.arbeitsagentur.de) and the **error files** are downloaded a few
//! minutes later; files are named `DS{SupplierId}_{YYYY-MM-DD_HH-MM-SS}_F{nnn}{C|E}.xml`
//! (`E` marks the last file of a batch); the document is
//! `HRBAXMLJobPositionPosting` → `Header{SupplierId, Timestamp, Amount,
//! TypeOfLoad F|D}` → `Data{JobPositionPosting*, DeleteEntry{EntryId}*}`, a
//! posting keyed by `JobPositionPostingId` with `HiringOrg`, `PostDetail`,
//! `JobPositionInformation{JobPositionTitle{TitleCode}, …, JobPositionLocation,
//! Application}`; every offer needs a `TitleCode` from the BA's occupation
//! catalogue; files are validated against the BA's XSD; own offers can be
//! updated and deleted at any time.
//!
//! Secondary sources [V2]: the element order and sample values of the BA's
//! "HRBAXML_Musterdatei" and `XMLJob.php` (kzorluoglu/arbeitsagentur); the
//! PEM split of the .p12 (certificate, key, CA chain), the upload area
//! `https://hrbaxml.arbeitsagentur.de/in/`, error files listed at the root
//! with names starting `ES` where the upload's started `DS` (pludoni/ba_upload);
//! `Objective` (the ad text) at most 4,000 characters (the PHP test data).
//!
//! Inferred [I], and modelled the same way in the sandbox:
//! * one **delta** (`D`) file per operation, one entry in it, named
//!   `…_F001E.xml`; file timestamps in UTC, one second apart per adapter so
//!   no two files share a name; a reused name answers 409 (sent again under
//!   a new name);
//! * the upload is the portal's HTML form at `<base_url>/in/` (public clients
//!   fetch that page and submit its first form with the file, pludoni/ba_upload
//!   `Connection#upload` [V2]): we POST it straight to `/in/` as
//!   `multipart/form-data` with one file part named [`FORM_FIELD`] [I: the
//!   field's name is not published] whose filename is the file's name (the
//!   BA validates the original file name [V2]); a Partner ID puts every path
//!   under `daten/<partner id>/` [V2, `base_url`]; the
//!   result as `GET <base_url>/<ES file name>`: 404 until the BA has
//!   processed the file, then an XML list of errors per entry
//!   (`HRBAXMLErrorFile{FileName, SupplierId, Entries, Error{EntryId,
//!   ErrorCode, ErrorText}*}`); an entry without errors is online;
//! * a delta `JobPositionPosting` with a known id replaces the offer (and
//!   puts a deleted one back online); `DeleteEntry` of an id the BA does not
//!   hold answers error `E201`, which for us means "withdrawn";
//! * code values: `JobOfferType` 1 work, 34 internship (the codes of the BA's
//!   public job search), `WorkingPlan` 1 full time, 2 part time,
//!   `KindOfApplication` 2 by e-mail, 3 online, `Status` 1 and `Action` 1 for
//!   an offer to publish; the title (`JobPositionTitleDescription`) at most
//!   100 characters; ads in German only; the text plain (no HTML);
//! * `HiringOrgId` from the `hiring_org_id` option when set (the BA issues
//!   it with the agreement; left out otherwise);
//! * the occupation code from the job's category through [`TITLE_CODES`] (a
//!   starter table), else the `title_code` option; a job with neither is
//!   refused naming the rule;
//! * a certificate the BA refuses fails the TLS handshake (or answers 401 /
//!   403): [`ErrorClass::Auth`]. The BA gives no id and no URL back: the
//!   posting's id at the BA is our reference.
//!
//! Publishing, updating and withdrawing therefore answer
//! [`Receipt::Accepted`] once the upload is accepted (the posting is
//! `submitted`); the task is the file name (with [`DELETE_MARK`] for a
//! withdrawal), and [`Board::confirm`] reads the error file: not there yet →
//! pending; no error for our entry → live (or withdrawn); an error → rejected
//! with the BA's code and text.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::CONTENT_TYPE;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;
use tokio_rustls::rustls;

use super::http::{self, Reply};
use super::render::{check_max, headings};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::{EmploymentType, Job, PayPeriod, Salary, primary_language};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str = "HR-BA-XML delta file upload over HTTPS with a client certificate; results from the BA's error files";
pub const ID: &str = "bundesagentur";
const NAME: &str = "Bundesagentur für Arbeit";
/// [I] The title's limit (`JobPositionTitleDescription`).
pub const MAX_TITLE: usize = 100;
/// [V2] `Objective`, the ad text.
pub const MAX_OBJECTIVE: usize = 4_000;
/// Appended to a withdrawal's file name in the task, so that `confirm`
/// knows the entry was a `DeleteEntry`.
pub const DELETE_MARK: &str = "#DeleteEntry";
/// [I] The name of the upload form's file field.
pub const FORM_FIELD: &str = "file";
/// The multipart boundary; it never occurs in an HR-BA-XML file (checked
/// before sending).
pub const BOUNDARY: &str = "boardcast-hrbaxml-upload-7f3a";
/// [I] The error code for a `DeleteEntry` whose offer the BA does not hold.
pub const UNKNOWN_ENTRY: &str = "E201";

/// BA occupation codes (`TitleCode`: the id of an occupation in the BA's
/// catalogue `vam_beruf_kurz.xml`) for our job categories.
/// [I] A starter table: the ids are placeholders in the catalogue's shape,
/// to be checked against the current catalogue; `title_code` covers the rest.
pub const TITLE_CODES: &[(&str, &[&str])] = &[
    (
        "27446",
        &["sales", "business development", "account management"],
    ),
    ("27432", &["marketing", "advertising"]),
    ("27398", &["accounting", "finance"]),
    ("27410", &["human resources", "hr"]),
    (
        "27502",
        &["software", "engineering", "it", "information technology"],
    ),
    ("27365", &["customer service", "customer support"]),
    ("27442", &["logistics", "transport", "transportation"]),
    ("27371", &["administrative", "admin", "office"]),
];

// ---------------------------------------------------------------------------
// Wire types, in the order of the BA's sample file.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "HRBAXMLJobPositionPosting")]
pub struct Document {
    #[serde(rename = "Header")]
    pub header: Header,
    #[serde(rename = "Data")]
    pub data: Data,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Header {
    pub supplier_id: String,
    pub timestamp: String,
    /// The number of entries in `Data`.
    pub amount: u32,
    /// `F` (full: every offer of the supplier) or `D` (delta).
    pub type_of_load: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Data {
    #[serde(
        rename = "JobPositionPosting",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub postings: Vec<JobPositionPosting>,
    #[serde(rename = "DeleteEntry", default, skip_serializing_if = "Vec::is_empty")]
    pub deletes: Vec<DeleteEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteEntry {
    pub entry_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobPositionPosting {
    pub job_position_posting_id: String,
    pub hiring_org: HiringOrg,
    pub post_detail: PostDetail,
    pub job_position_information: JobPositionInformation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HiringOrg {
    pub hiring_org_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hiring_org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_web_site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Contact {
    #[serde(rename = "EMail")]
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PostDetail {
    pub start_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    pub last_modification_date: String,
    pub status: String,
    pub action: String,
    pub supplier_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_reference: Option<String>,
    #[serde(rename = "BASupervision")]
    pub ba_supervision: String,
    pub supervision_desired: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobPositionInformation {
    pub job_position_title: JobPositionTitle,
    pub job_position_title_description: String,
    pub job_offer_type: String,
    pub objective: String,
    pub job_position_description: JobPositionDescription,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobPositionTitle {
    pub title_code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobPositionDescription {
    pub job_position_location: JobPositionLocation,
    pub application: Application,
    pub classification: Classification,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensation_description: Option<CompensationDescription>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPositionLocation {
    #[serde(rename = "Location")]
    pub locations: Vec<Location>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Location {
    pub country_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    pub municipality: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Application {
    pub kind_of_application: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_end_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Classification {
    pub schedule: Schedule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Schedule {
    pub working_plan: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompensationDescription {
    pub salary: String,
}

/// The BA's error file for one upload [I: its shape].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "HRBAXMLErrorFile")]
pub struct ErrorFile {
    #[serde(rename = "FileName")]
    pub file_name: String,
    #[serde(rename = "SupplierId")]
    pub supplier_id: String,
    /// Entries processed.
    #[serde(rename = "Entries")]
    pub entries: u32,
    #[serde(rename = "Error", default)]
    pub errors: Vec<EntryError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryError {
    /// The entry's id; absent for an error about the whole file.
    #[serde(rename = "EntryId", default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<String>,
    #[serde(rename = "ErrorCode")]
    pub code: String,
    #[serde(rename = "ErrorText")]
    pub text: String,
}

/// A file to upload: its name and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub file_name: String,
    pub document: String,
}

/// The body of the upload form: one file part holding the document, named
/// after the file (`multipart/form-data`, RFC 7578).
pub fn form_body(upload: &Upload) -> Result<Vec<u8>, BoardError> {
    if upload.document.contains(BOUNDARY) || upload.file_name.contains(['"', '\r', '\n']) {
        super::preview::broken(format!(
            "{NAME}: file {} cannot be framed as a form upload",
            upload.file_name
        ))?;
    }
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{FORM_FIELD}\"; filename=\"{}\"\r\nContent-Type: text/xml\r\n\r\n",
        upload.file_name
    );
    body.push_str(&upload.document);
    body.push_str(&format!("\r\n--{BOUNDARY}--\r\n"));
    Ok(body.into_bytes())
}

/// What the account contributes to every file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub supplier_id: String,
    /// The employer's id at the BA (comes with the cooperation agreement).
    pub hiring_org_id: Option<String>,
    /// The occupation code for jobs whose category maps to none.
    pub title_code: Option<String>,
}

/// Serialises a document with its XML declaration, indented.
pub fn to_xml(document: &Document) -> String {
    let mut text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut serializer = quick_xml::se::Serializer::new(&mut text);
    serializer.indent(' ', 2);
    document
        .serialize(serializer)
        .expect("HR-BA-XML documents serialise");
    text.push('\n');
    text
}

/// `DS{SupplierId}_{YYYY-MM-DD_HH-MM-SS}_F001E.xml`: the only file of its batch.
pub fn file_name(supplier_id: &str, at: OffsetDateTime) -> String {
    let stamp = at
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]_[hour]-[minute]-[second]"
        ))
        .expect("a UTC date formats");
    format!("DS{supplier_id}_{stamp}_F001E.xml")
}

/// The error file the BA writes for an upload: `ES…` for `DS…`.
pub fn error_file_name(file_name: &str) -> String {
    format!("ES{}", file_name.strip_prefix("DS").unwrap_or(file_name))
}

fn timestamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .expect("a UTC date formats")
}

/// The UTC date of `at`; `None` when it falls past the last date `time`
/// can hold (9999-12-31 in UTC), which `to_offset` would panic on.
fn date(at: OffsetDateTime) -> Option<String> {
    at.checked_to_offset(time::UtcOffset::UTC)
        .map(|utc| utc.date().to_string())
}

/// The occupation code for `job`: its category through [`TITLE_CODES`], else
/// the account's `title_code`.
pub fn title_code(job: &Job, account: &Account) -> Result<String, BoardError> {
    let category = job.category.as_deref().map(|c| c.trim().to_lowercase());
    let mapped = category.as_deref().and_then(|category| {
        TITLE_CODES
            .iter()
            .find(|(_, names)| names.contains(&category))
            .map(|(code, _)| (*code).to_owned())
    });
    if let Some(code) = mapped.or_else(|| account.title_code.clone()) {
        return Ok(code);
    }
    let why = match category {
        Some(category) => format!("the category \"{category}\" maps to none"),
        None => "the job has no category".to_owned(),
    };
    Err(BoardError::rule(format!(
        "{NAME} needs an occupation code (TitleCode) for every job: {why}, and \
         [boards.bundesagentur.options] title_code is not set"
    )))
}

/// The ad as plain text: summary, then each section under its heading.
fn objective(posting: &PostingContext<'_>) -> String {
    let ad = posting.ad;
    let titles = headings(posting.locale);
    let mut text = ad.summary.trim().to_owned();
    for (heading, items) in [
        (titles.responsibilities, &ad.responsibilities),
        (titles.requirements, &ad.requirements),
        (titles.benefits, &ad.benefits),
    ] {
        if items.is_empty() {
            continue;
        }
        text.push_str("\n\n");
        text.push_str(heading);
        text.push(':');
        for item in items {
            text.push_str("\n- ");
            text.push_str(item.trim());
        }
    }
    text
}

/// `48.000 – 72.000 EUR pro Jahr`, as German ads write pay.
fn salary_text(salary: &Salary) -> String {
    let amount = |value: f64| {
        let cents = (value * 100.0).round() as i64;
        let (whole, fraction) = (cents / 100, cents % 100);
        let digits = whole.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push('.');
            }
            grouped.push(c);
        }
        if fraction != 0 {
            grouped.push_str(&format!(",{fraction:02}"));
        }
        grouped
    };
    let period = match salary.period {
        PayPeriod::Hour => "Stunde",
        PayPeriod::Day => "Tag",
        PayPeriod::Week => "Woche",
        PayPeriod::Month => "Monat",
        PayPeriod::Year => "Jahr",
    };
    let range = if salary.min == salary.max {
        amount(salary.min)
    } else {
        format!("{} – {}", amount(salary.min), amount(salary.max))
    };
    format!("{range} {} pro {period}", salary.currency)
}

fn job_offer_type(kind: EmploymentType) -> Result<&'static str, BoardError> {
    match kind {
        EmploymentType::Internship => Ok("34"),
        EmploymentType::Volunteer => Err(BoardError::rule(format!(
            "{NAME} takes offers of work, training and internships; a volunteer position has no JobOfferType"
        ))),
        _ => Ok("1"),
    }
}

/// The delta file that publishes (or replaces) one posting: a pure function
/// of the posting, the account and the time of the upload.
pub fn render(
    posting: &PostingContext<'_>,
    account: &Account,
    at: OffsetDateTime,
) -> Result<Upload, BoardError> {
    let job = posting.job;
    let ad = posting.ad;
    let language = primary_language(posting.locale);
    if language != "de" {
        super::preview::broken(format!(
            "{NAME} takes ads in German (de); this one is in {language}"
        ))?;
    }
    let locations: Vec<Location> = job
        .locations
        .iter()
        .filter(|l| l.country == "DE")
        .map(|l| Location {
            country_code: l.country.clone(),
            postal_code: l.postal_code.clone(),
            municipality: l.city.clone(),
        })
        .collect();
    if locations.is_empty() {
        let mut countries: Vec<&str> = Vec::new();
        for location in &job.locations {
            if !countries.contains(&location.country.as_str()) {
                countries.push(&location.country);
            }
        }
        return Err(BoardError::rule(format!(
            "{NAME} publishes jobs in DE; this job is in {}",
            countries.join(", ")
        )));
    }
    let title = ad.title.trim();
    if title.is_empty() {
        super::preview::broken(format!("{NAME} needs a title"))?;
    }
    check_max(NAME, "title", title, MAX_TITLE)?;
    let title_code = title_code(job, account)?;
    let objective = objective(posting);
    check_max(NAME, "description", &objective, MAX_OBJECTIVE)?;
    let job_offer_type = job_offer_type(job.employment_type)?;
    let kind_of_application = match (&job.apply.url, &job.apply.email) {
        (Some(_), _) => "3",
        (None, Some(_)) => "2",
        (None, None) => {
            return Err(BoardError::rule(format!(
                "{NAME} needs a way to apply: an URL or an e-mail address"
            )));
        }
    };
    let end = match job.valid_through {
        None => None,
        Some(valid_through) => Some(date(valid_through).ok_or_else(|| {
            BoardError::rule(format!(
                "{NAME} takes dates up to 9999-12-31 (UTC); valid_through {valid_through} is later"
            ))
        })?),
    };
    let posting_entry = JobPositionPosting {
        job_position_posting_id: posting.reference.to_owned(),
        hiring_org: HiringOrg {
            hiring_org_name: job.company.name.clone(),
            hiring_org_id: account.hiring_org_id.clone(),
            profile_web_site: job.company.url.clone(),
            contact: job.apply.email.clone().map(|email| Contact { email }),
        },
        post_detail: PostDetail {
            start_date: date(at).unwrap_or_default(),
            end_date: end.clone(),
            last_modification_date: timestamp(at),
            status: "1".to_owned(),
            action: "1".to_owned(),
            supplier_id: account.supplier_id.clone(),
            internet_reference: job.apply.url.clone(),
            ba_supervision: "0".to_owned(),
            supervision_desired: "0".to_owned(),
        },
        job_position_information: JobPositionInformation {
            job_position_title: JobPositionTitle { title_code },
            job_position_title_description: title.to_owned(),
            job_offer_type: job_offer_type.to_owned(),
            objective,
            job_position_description: JobPositionDescription {
                job_position_location: JobPositionLocation { locations },
                application: Application {
                    kind_of_application: kind_of_application.to_owned(),
                    application_end_date: end,
                },
                classification: Classification {
                    schedule: Schedule {
                        working_plan: match job.employment_type {
                            EmploymentType::PartTime => "2",
                            _ => "1",
                        }
                        .to_owned(),
                    },
                },
                compensation_description: job.salary.as_ref().map(|s| CompensationDescription {
                    salary: salary_text(s),
                }),
            },
        },
    };
    Ok(upload(
        account,
        at,
        Data {
            postings: vec![posting_entry],
            deletes: Vec::new(),
        },
    ))
}

/// The delta file that deletes one posting (`DeleteEntry/EntryId`).
pub fn render_withdrawal(reference: &str, account: &Account, at: OffsetDateTime) -> Upload {
    upload(
        account,
        at,
        Data {
            postings: Vec::new(),
            deletes: vec![DeleteEntry {
                entry_id: reference.to_owned(),
            }],
        },
    )
}

fn upload(account: &Account, at: OffsetDateTime, data: Data) -> Upload {
    let document = Document {
        header: Header {
            supplier_id: account.supplier_id.clone(),
            timestamp: timestamp(at),
            amount: (data.postings.len() + data.deletes.len()) as u32,
            type_of_load: "D".to_owned(),
        },
        data,
    };
    Upload {
        file_name: file_name(&account.supplier_id, at),
        document: to_xml(&document),
    }
}

// ---------------------------------------------------------------------------
// The adapter.

/// The last second a file of this process was named after.
static LAST_FILE_SECOND: AtomicI64 = AtomicI64::new(0);

/// Hands out upload times one second apart at least, for every adapter in
/// the process (tenants' accounts included), so no two files share a name.
fn next_file_time() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let previous = LAST_FILE_SECOND
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last + 1))
        })
        .expect("the update always answers");
    OffsetDateTime::from_unix_timestamp(now.max(previous + 1)).expect("a current unix time")
}

pub struct Bundesagentur {
    http: reqwest::Client,
    base: url::Url,
    account: Account,
    partner_id: Option<String>,
    timeout: Duration,
}

/// A credential that is there but cannot be used, reported like a missing one.
fn unusable(config: &BoardConfig<'_>, name: &str, why: &str) -> BuildError {
    BuildError::MissingCredential {
        account: match config.tenant {
            None => format!("board \"{}\"", config.id),
            Some(tenant) => format!("tenant \"{tenant}\"'s account at board \"{}\"", config.id),
        },
        name: name.to_owned(),
        whence: why.to_owned(),
    }
}

/// A client of its own: it carries the account's certificate, and trusts the
/// configured CA for the board's server (the public roots when none is set).
fn client(config: &BoardConfig<'_>) -> Result<reqwest::Client, BuildError> {
    const SPLIT: &str = "a PEM certificate, with client_key_pem its PEM private key \
        (split the BA's .p12: openssl pkcs12 -clcerts -nokeys, and -nocerts -nodes); \
        the values given could not be read";
    // Preview holds placeholders, not a certificate, and never connects.
    if super::preview::active() {
        return Ok(config.http.clone());
    }
    let cert = config.credential("client_cert_pem")?;
    let key = config.credential("client_key_pem")?;
    let pem = format!("{}\n{}\n", cert.expose_secret(), key.expose_secret());
    let identity = reqwest::Identity::from_pem(pem.as_bytes())
        .map_err(|_| unusable(config, "client_cert_pem", SPLIT))?;
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("boardcast/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(90))
        .identity(identity);
    let ca = match config.settings.credentials.get("server_ca_pem") {
        Some(secret) => Some(secret.expose_secret().to_owned()),
        None => config.settings.options.get("server_ca_pem").cloned(),
    };
    if let Some(ca) = ca {
        let roots = reqwest::Certificate::from_pem_bundle(ca.as_bytes())
            .ok()
            .filter(|roots| !roots.is_empty())
            .ok_or_else(|| {
                unusable(
                    config,
                    "server_ca_pem",
                    "PEM certificates of the CA that signed the board's server certificate; \
                     the value given holds none",
                )
            })?;
        builder = builder.tls_certs_only(roots);
    }
    builder
        .build()
        .map_err(|_| unusable(config, "client_cert_pem", SPLIT))
}

impl Bundesagentur {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        Ok(Self {
            http: client(config)?,
            base: config.base_url()?,
            account: Account {
                supplier_id: config.option("supplier_id")?,
                hiring_org_id: config.settings.options.get("hiring_org_id").cloned(),
                title_code: config.settings.options.get("title_code").cloned(),
            },
            partner_id: config.settings.options.get("partner_id").cloned(),
            timeout: config.request_timeout,
        })
    }

    /// `path` on the BA's server, under `daten/<partner id>/` when the
    /// account names its Partner ID (pludoni/ba_upload `base_url`).
    fn url(&self, path: &str) -> Result<url::Url, BoardError> {
        let path = match &self.partner_id {
            Some(partner) => format!("daten/{partner}/{path}"),
            None => path.to_owned(),
        };
        self.base
            .join(&path)
            .map_err(|error| BoardError::rule(format!("{NAME}: no URL for {path:?} ({error})")))
    }

    /// Uploads one file through the form at `in/`; `Ok` once the BA has taken it.
    async fn put(&self, upload: &Upload, log: &mut CallLog) -> Result<(), BoardError> {
        let url = self.url("in/")?;
        let body = form_body(upload)?;
        let request = self
            .http
            .post(url)
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .timeout(self.timeout)
            .body(body.clone());
        let reply = send(request, Some(&body), log).await?;
        match reply.status {
            200..=299 => Ok(()),
            401 | 403 => Err(BoardError::new(
                ErrorClass::Auth,
                Some(reply.status),
                format!(
                    "{NAME} refused our certificate for the upload ({}): {}",
                    reply.status,
                    http::excerpt(&reply.body)
                ),
            )),
            // Only the name was wrong: the next attempt gets a new one.
            409 => Err(BoardError::new(
                ErrorClass::Transient,
                Some(409),
                format!(
                    "{NAME} already has a file named {}; sending again under a new name",
                    upload.file_name
                ),
            )),
            408 | 429 => Err(reply.error(NAME)),
            400..=499 => Err(BoardError::new(
                ErrorClass::Rejected,
                Some(reply.status),
                format!(
                    "{NAME} refused file {} ({}): {}",
                    upload.file_name,
                    reply.status,
                    http::excerpt(&reply.body)
                ),
            )),
            _ => Err(reply.error(NAME)),
        }
    }

    async fn upload(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let upload = render(posting, &self.account, next_file_time())?;
        self.put(&upload, log).await?;
        Ok(Receipt::Accepted {
            task: upload.file_name,
            external_id: Some(posting.reference.to_owned()),
        })
    }
}

/// Sends like [`http::send`], and tells a refused certificate (a TLS alert
/// during or right after the handshake) from a network failure.
async fn send(
    request: reqwest::RequestBuilder,
    body: Option<&[u8]>,
    log: &mut CallLog,
) -> Result<Reply, BoardError> {
    if let Some(answer) = super::preview::intercept(&request).await {
        return answer;
    }
    if let Some(body) = body {
        log.request_hash = Some(http::hash(body));
    }
    let response = request.send().await.map_err(|e| transport_error(&e))?;
    log.http_status = Some(response.status().as_u16());
    http::read_reply(NAME, response, transport_error).await
}

/// The TLS error somewhere in `error`'s causes (rustls' errors travel inside
/// `io::Error`s, whose own `source` skips what they wrap).
fn tls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        cause = match error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    None
}

fn transport_error(error: &reqwest::Error) -> BoardError {
    use rustls::AlertDescription as Alert;
    match tls_error(error) {
        Some(rustls::Error::AlertReceived(
            alert @ (Alert::BadCertificate
            | Alert::UnsupportedCertificate
            | Alert::CertificateRevoked
            | Alert::CertificateExpired
            | Alert::CertificateUnknown
            | Alert::UnknownCA
            | Alert::AccessDenied
            | Alert::CertificateRequired),
        )) => {
            return BoardError::new(
                ErrorClass::Auth,
                None,
                format!("{NAME} refused our client certificate in the TLS handshake ({alert:?})"),
            );
        }
        Some(rustls::Error::InvalidCertificate(problem)) => {
            return BoardError::new(
                ErrorClass::Auth,
                None,
                format!(
                    "{NAME}'s server certificate could not be verified ({problem}); check server_ca_pem"
                ),
            );
        }
        _ => {}
    }
    let cause = std::error::Error::source(error)
        .map(|source| format!(": {source}"))
        .unwrap_or_default();
    if error.is_connect() {
        BoardError::new(
            ErrorClass::Transient,
            None,
            format!("could not connect to {NAME}{cause}"),
        )
    } else if error.is_timeout() {
        BoardError::new(
            ErrorClass::Ambiguous,
            None,
            format!("{NAME} did not answer in time; it may have taken the file"),
        )
    } else {
        BoardError::new(
            ErrorClass::Ambiguous,
            None,
            format!("the connection to {NAME} failed mid-request{cause}"),
        )
    }
}

/// The BA's verdict on our entry in an error file.
pub fn verdict(file: &ErrorFile, reference: &str, deleting: bool) -> Result<Receipt, BoardError> {
    let ours: Vec<&EntryError> = file
        .errors
        .iter()
        .filter(|e| e.entry_id.as_deref().is_none_or(|id| id == reference))
        .collect();
    if ours.is_empty() || (deleting && ours.iter().all(|e| e.code == UNKNOWN_ENTRY)) {
        return Ok(if deleting {
            Receipt::Withdrawn
        } else {
            Receipt::Live {
                external_id: reference.to_owned(),
                url: None,
            }
        });
    }
    let reasons: Vec<String> = ours
        .iter()
        .map(|e| format!("{}: {}", e.code, e.text))
        .collect();
    Err(BoardError::new(
        ErrorClass::Rejected,
        Some(200),
        format!(
            "{NAME} refused {reference} in {}: {}",
            file.file_name,
            reasons.join("; ")
        ),
    ))
}

#[async_trait]
impl Board for Bundesagentur {
    fn id(&self) -> &'static str {
        ID
    }

    /// A delta file upserts: a publish that may have landed sends the same
    /// file again and the BA replaces its copy.
    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.upload(posting, log).await
    }

    /// The same upload; it also puts a deleted offer back online.
    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        self.upload(posting, log).await
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let upload = render_withdrawal(posting.reference, &self.account, next_file_time());
        self.put(&upload, log).await?;
        Ok(Receipt::Accepted {
            task: format!("{}{DELETE_MARK}", upload.file_name),
            external_id: Some(posting.reference.to_owned()),
        })
    }

    /// Reads the error file of the upload named by `task`.
    async fn confirm(
        &self,
        posting: &PostingContext<'_>,
        task: &str,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let (file, deleting) = match task.strip_suffix(DELETE_MARK) {
            Some(file) => (file, true),
            None => (task, false),
        };
        if !file.starts_with("DS") || !file.ends_with(".xml") || file.contains(['/', '?', '#']) {
            return Err(BoardError::rule(format!(
                "{NAME}: \"{task}\" is not the name of an uploaded file"
            )));
        }
        let errors = error_file_name(file);
        let request = self.http.get(self.url(&errors)?).timeout(self.timeout);
        let reply = send(request, None, log).await?;
        match reply.status {
            // Not processed yet.
            404 => Ok(Receipt::Pending),
            401 | 403 => Err(BoardError::new(
                ErrorClass::Auth,
                Some(reply.status),
                format!(
                    "{NAME} refused our certificate for the error files ({})",
                    reply.status
                ),
            )),
            200..=299 => {
                let parsed: ErrorFile = quick_xml::de::from_str(&reply.body).map_err(|error| {
                    BoardError::new(
                        ErrorClass::Ambiguous,
                        Some(reply.status),
                        format!(
                            "{NAME}'s error file {errors} could not be read ({error}): {}",
                            http::excerpt(&reply.body)
                        ),
                    )
                })?;
                verdict(&parsed, posting.reference, deleting)
            }
            _ => Err(reply.error(NAME)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        let at = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        let name = file_name("P000012345", at);
        assert_eq!(name, "DSP000012345_2026-05-28_20-26-40_F001E.xml");
        assert_eq!(
            error_file_name(&name),
            "ESP000012345_2026-05-28_20-26-40_F001E.xml"
        );
    }

    #[test]
    fn german_pay() {
        let salary = |min, max, period| Salary {
            currency: "EUR".into(),
            min,
            max,
            period,
        };
        assert_eq!(
            salary_text(&salary(48_000.0, 72_000.0, PayPeriod::Year)),
            "48.000 – 72.000 EUR pro Jahr"
        );
        assert_eq!(
            salary_text(&salary(15.5, 15.5, PayPeriod::Hour)),
            "15,50 EUR pro Stunde"
        );
        assert_eq!(
            salary_text(&salary(950.0, 1_250_000.0, PayPeriod::Month)),
            "950 – 1.250.000 EUR pro Monat"
        );
    }

    #[test]
    fn the_clock_never_repeats_a_second() {
        let (a, b, c) = (next_file_time(), next_file_time(), next_file_time());
        assert!(a < b && b < c);
    }

    #[test]
    fn verdicts_read_our_entry_only() {
        let file = |errors: Vec<EntryError>| ErrorFile {
            file_name: "DSX_F001E.xml".into(),
            supplier_id: "X".into(),
            entries: 1,
            errors,
        };
        let error = |id: Option<&str>, code: &str| EntryError {
            entry_id: id.map(str::to_owned),
            code: code.into(),
            text: "Text".into(),
        };
        assert!(matches!(
            verdict(&file(vec![error(Some("other"), "E101")]), "ours", false),
            Ok(Receipt::Live { .. })
        ));
        let refused = verdict(&file(vec![error(Some("ours"), "E101")]), "ours", false);
        assert_eq!(refused.unwrap_err().class, ErrorClass::Rejected);
        let whole_file = verdict(&file(vec![error(None, "E001")]), "ours", false);
        assert_eq!(whole_file.unwrap_err().class, ErrorClass::Rejected);
        assert_eq!(
            verdict(
                &file(vec![error(Some("ours"), UNKNOWN_ENTRY)]),
                "ours",
                true
            ),
            Ok(Receipt::Withdrawn)
        );
    }
}
