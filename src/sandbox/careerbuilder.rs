//! CareerBuilder DPI's twin: the `RealTimeJobPost` and `RealTimeJobStatus`
//! ASMX services under `/careerbuilder/webservices/…`, speaking SOAP 1.1
//! with the DPI document as an escaped string (see `boards::careerbuilder`
//! for what is documented and what is inferred).
//!
//! It checks the `SOAPAction` header and the content type as ASMX does
//! (a wrong one is a `soap:Client` fault with HTTP 500, a wrong media type
//! 415), the DPI header's Vendor ID, Customer Account Code and password,
//! then the job's fields against its own reading of CareerBuilder's rules,
//! and answers `ProcessJobResult` with the `Errors` list on every answer:
//! `100` (and any warnings) with `PostStatus` `Posted` / `Expired`, the
//! failures with `Failed`. The DPIError codes live in [`codes`], this
//! twin's one table.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use time::OffsetDateTime;

use super::{Gate, HeldPosting, Sandbox, Twin, answer};

pub const BOARD: &str = "careerbuilder";

pub const TWIN: Twin = Twin {
    board: BOARD,
    credentials: &["password"],
    routes,
};

/// The Vendor ID CareerBuilder issued to boardcast, and the customer
/// account the sandbox holds (`[boards.careerbuilder.options]` in
/// config/default.toml). The account's password is the twin's credential.
pub const VENDOR_ID: &str = "boardcast";
pub const ACCOUNT_CODE: &str = "CB0042917";

const POST_ACTION: &str = "\"http://dpi.careerbuilder.com/WebServices/RealTimeJobPost/ProcessJob\"";
const STATUS_ACTION: &str =
    "\"http://dpi.careerbuilder.com/WebServices/RealTimeJobStatus/GetJobPostStatus\"";
const POST_NS: &str = "http://dpi.careerbuilder.com/WebServices/RealTimeJobPost";
const STATUS_NS: &str = "http://dpi.careerbuilder.com/WebServices/RealTimeJobStatus";
const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// The twin's own reading of a DPI `<Job>` (the DPI guide's field names),
/// not the adapter's types: a field the adapter misnames is missing here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Action {
    Add,
    Update,
    Expire,
}

#[derive(Debug, Default)]
struct DpiHeader {
    vendor_id: String,
    customer_account_code: String,
    account_password: String,
    replacement_directive: String,
}

#[derive(Debug, Clone, Serialize)]
struct DpiJob {
    #[serde(rename = "Action")]
    action: Action,
    #[serde(rename = "JobID")]
    job_id: String,
    #[serde(rename = "JobTitle")]
    job_title: Option<String>,
    #[serde(rename = "CompanyProfileName")]
    company_profile_name: Option<String>,
    #[serde(rename = "Description")]
    description: Option<String>,
    #[serde(rename = "City")]
    city: Option<String>,
    #[serde(rename = "State")]
    state: Option<String>,
    #[serde(rename = "PostalCode")]
    postal_code: Option<String>,
    #[serde(rename = "Country")]
    country: Option<String>,
    #[serde(rename = "EmployeeType")]
    employee_type: Option<String>,
    #[serde(rename = "JobTypeCode")]
    job_type_code: Option<String>,
    #[serde(rename = "BasePayLow")]
    base_pay_low: Option<String>,
    #[serde(rename = "BasePayHigh")]
    base_pay_high: Option<String>,
    #[serde(rename = "PayRate")]
    pay_rate: Option<String>,
    #[serde(rename = "CurrencyCode")]
    currency_code: Option<String>,
    #[serde(rename = "ApplicationURL")]
    application_url: Option<String>,
    #[serde(rename = "ContactEmail")]
    contact_email: Option<String>,
    #[serde(rename = "ExpirationDate")]
    expiration_date: Option<String>,
}

struct DpiJobPost {
    header: DpiHeader,
    job: DpiJob,
}

/// One entry of the answer's `Errors` list.
#[derive(Debug, Clone)]
struct DpiError {
    error_code: String,
    error_text: String,
}

/// `ProcessJobResult`, as the twin writes it.
#[derive(Debug, Default)]
struct ProcessJobResult {
    errors: Vec<DpiError>,
    action: Option<String>,
    job_did: Option<String>,
    product_id: Option<String>,
    user_job_id: Option<String>,
    pr_end_date: Option<String>,
    transaction_did: Option<String>,
    post_status: Option<String>,
}

/// Reads the `xmlJob` string: `<DPIJobPost><Header>…</Header><Job>…</Job></DPIJobPost>`.
/// Strict: an element the guide does not list, or one given twice, is refused.
fn read_job_post(text: &str) -> Result<DpiJobPost, String> {
    let document = roxmltree::Document::parse(text).map_err(|e| e.to_string())?;
    let root = document.root_element();
    if root.tag_name().name() != "DPIJobPost" {
        return Err(format!(
            "the root is <{}>, not <DPIJobPost>",
            root.tag_name().name()
        ));
    }
    let section = |name: &str| {
        root.children()
            .find(|c| c.is_element() && c.tag_name().name() == name)
            .ok_or_else(|| format!("<{name}> missing"))
    };
    let fields = |node: roxmltree::Node<'_, '_>, known: &[&str]| {
        let mut found = std::collections::BTreeMap::new();
        for child in node.children().filter(|c| c.is_element()) {
            let name = child.tag_name().name();
            if !known.contains(&name) {
                return Err(format!("<{name}> is not a DPI field"));
            }
            let value = child.text().unwrap_or_default().to_owned();
            if found.insert(name.to_owned(), value).is_some() {
                return Err(format!("<{name}> given twice"));
            }
        }
        Ok(found)
    };
    let mut header = fields(
        section("Header")?,
        &[
            "VendorID",
            "CustomerAccountCode",
            "AccountPassword",
            "ReplacementDirective",
            "Origin",
        ],
    )?;
    let mut job = fields(
        section("Job")?,
        &[
            "Action",
            "JobID",
            "DisplayJobID",
            "JobTitle",
            "CompanyProfileName",
            "Description",
            "City",
            "State",
            "PostalCode",
            "Country",
            "EmployeeType",
            "JobTypeCode",
            "BasePayLow",
            "BasePayHigh",
            "PayRate",
            "CurrencyCode",
            "ApplicationURL",
            "ContactEmail",
            "ExpirationDate",
        ],
    )?;
    let action = match job.get("Action").map(|a| a.trim()) {
        Some("Add") => Action::Add,
        Some("Update") => Action::Update,
        Some("Expire") => Action::Expire,
        other => return Err(format!("Action {other:?} is not Add, Update or Expire")),
    };
    let mut take = |name: &str| job.remove(name);
    let job = DpiJob {
        action,
        job_id: take("JobID").unwrap_or_default(),
        job_title: take("JobTitle"),
        company_profile_name: take("CompanyProfileName"),
        description: take("Description"),
        city: take("City"),
        state: take("State"),
        postal_code: take("PostalCode"),
        country: take("Country"),
        employee_type: take("EmployeeType"),
        job_type_code: take("JobTypeCode"),
        base_pay_low: take("BasePayLow"),
        base_pay_high: take("BasePayHigh"),
        pay_rate: take("PayRate"),
        currency_code: take("CurrencyCode"),
        application_url: take("ApplicationURL"),
        contact_email: take("ContactEmail"),
        expiration_date: take("ExpirationDate"),
    };
    let mut header_field = |name: &str| header.remove(name).unwrap_or_default();
    let header = DpiHeader {
        vendor_id: header_field("VendorID"),
        customer_account_code: header_field("CustomerAccountCode"),
        account_password: header_field("AccountPassword"),
        replacement_directive: header_field("ReplacementDirective"),
    };
    Ok(DpiJobPost { header, job })
}

/// The `xmlJob` string of a SOAP 1.1 `ProcessJob` call.
fn read_process_job(body: &str) -> Result<String, String> {
    let document = roxmltree::Document::parse(body).map_err(|e| e.to_string())?;
    let envelope = document.root_element();
    if envelope.tag_name().name() != "Envelope" || envelope.tag_name().namespace() != Some(SOAP_NS)
    {
        return Err("not a SOAP 1.1 envelope".to_owned());
    }
    let operation = envelope
        .children()
        .find(|c| {
            c.is_element()
                && c.tag_name().name() == "Body"
                && c.tag_name().namespace() == Some(SOAP_NS)
        })
        .and_then(|b| b.children().find(|c| c.is_element()))
        .ok_or("no operation in the SOAP Body")?;
    if operation.tag_name().name() != "ProcessJob"
        || operation.tag_name().namespace() != Some(POST_NS)
    {
        return Err(format!(
            "<{}> in {:?} is not ProcessJob in {POST_NS}",
            operation.tag_name().name(),
            operation.tag_name().namespace()
        ));
    }
    operation
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "xmlJob")
        .and_then(|x| x.text())
        .map(str::to_owned)
        .ok_or_else(|| "ProcessJob without xmlJob".to_owned())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `<Errors>` and the result's other fields, in the order the DPI guide shows.
fn write_result(name: &str, result: &ProcessJobResult) -> String {
    let mut out = format!("<{name}><Errors>");
    for error in &result.errors {
        out.push_str(&format!(
            "<DPIError><ErrorCode>{}</ErrorCode><ErrorText>{}</ErrorText></DPIError>",
            escape(&error.error_code),
            escape(&error.error_text)
        ));
    }
    out.push_str("</Errors>");
    for (element, value) in [
        ("Action", &result.action),
        ("JobDID", &result.job_did),
        ("ProductID", &result.product_id),
        ("UserJobID", &result.user_job_id),
        ("PREndDate", &result.pr_end_date),
        ("TransactionDID", &result.transaction_did),
        ("PostStatus", &result.post_status),
    ] {
        if let Some(value) = value {
            out.push_str(&format!("<{element}>{}</{element}>", escape(value)));
        }
    }
    out.push_str(&format!("</{name}>"));
    out
}

/// The board's rules as the twin reads them.
const MAX_TITLE: usize = 100;
const MAX_JOB_ID: usize = 50;
const EMPLOYEE_TYPES: [&str; 5] = ["ETFE", "ETPE", "ETCT", "ETTS", "ETIN"];
const PAY_RATES: [&str; 5] = ["Year", "Month", "Week", "Day", "Hour"];
const HTML_TAGS: [&str; 11] = [
    "p", "br", "ul", "ol", "li", "b", "strong", "i", "em", "u", "h3",
];
/// A posting without an Expiration Date runs this long.
const DEFAULT_DAYS: i64 = 30;

/// The twin's DPIError table: `(code, text)`.
pub mod codes {
    pub const PROCESSED: (&str, &str) = ("100", "Request processed");
    pub const NO_EXPIRATION_DATE: (&str, &str) = (
        "110",
        "Expiration Date not given; the default 30-day posting applies",
    );
    pub const NO_POSTAL_CODE: (&str, &str) = (
        "120",
        "Postal Code not given; the job is placed by City and State",
    );
    pub const NO_JOB_TYPE_CODE: (&str, &str) = (
        "130",
        "Job Type Code not given; CareerBuilder will categorise the job",
    );
    pub const NOT_A_DOCUMENT: (&str, &str) = ("200", "xmlJob is not a valid DPI document");
    pub const REQUIRED: (&str, &str) = ("201", "Required field missing");
    pub const TOO_LONG: (&str, &str) = ("202", "Field too long");
    pub const COUNTRY: (&str, &str) = ("203", "Country not accepted");
    pub const EMPLOYEE_TYPE: (&str, &str) = ("204", "Invalid Employee Type");
    pub const JOB_TYPE_CODE: (&str, &str) = ("205", "Invalid Job Type Code");
    pub const PAY: (&str, &str) = ("206", "Invalid pay");
    pub const CURRENCY: (&str, &str) = ("207", "Invalid Currency Code");
    pub const CONTACT: (&str, &str) = ("208", "Invalid Application URL or Contact Email");
    pub const PLACE: (&str, &str) = ("209", "Invalid State or Postal Code");
    pub const HTML: (&str, &str) = ("210", "Description contains HTML that is not allowed");
    pub const INVALID: (&str, &str) = ("211", "Invalid value");
    pub const UNKNOWN_JOB: (&str, &str) = ("301", "Job ID not found");
    pub const JOB_EXISTS: (&str, &str) = ("302", "Job ID already exists; use Action Update");
    pub const ALREADY_EXPIRED: (&str, &str) = ("303", "Job is already expired");
    pub const VENDOR: (&str, &str) = ("401", "Invalid Vendor ID");
    pub const ACCOUNT: (&str, &str) = ("402", "Invalid Customer Account Code or password");
}

pub fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/webservices/realtimejobpost.asmx", post(process_job))
        .route("/webservices/realtimejobstatus.asmx", post(job_status))
        .with_state(sandbox)
}

fn dpi_error((code, text): (&str, &str), detail: &str) -> DpiError {
    DpiError {
        error_code: code.to_owned(),
        error_text: if detail.is_empty() {
            text.to_owned()
        } else {
            format!("{text}: {detail}")
        },
    }
}

fn xml(status: StatusCode, body: &str) -> Response {
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:soap=\"{SOAP_NS}\"><soap:Body>{body}</soap:Body></soap:Envelope>"
    );
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/xml; charset=utf-8".parse().expect("static header"),
    );
    response
}

/// A SOAP fault, with the HTTP 500 ASMX sends it with.
fn fault(code: &str, text: String) -> Response {
    xml(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!(
            "<soap:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring></soap:Fault>",
            escape(code),
            escape(&text)
        ),
    )
}

/// The checks ASMX makes before a method runs, then the fault knobs.
fn gate(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    soap_action: &str,
) -> Result<(std::time::Duration, bool), Response> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !media_type.trim_start().starts_with("text/xml") {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("SOAP 1.1 requests are text/xml, not {media_type:?}"),
        )
            .into_response());
    }
    let action = headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if action != soap_action {
        return Err(fault(
            "soap:Client",
            format!("Server did not recognize the value of HTTP Header SOAPAction: {action}."),
        ));
    }
    match sandbox.gate(BOARD) {
        Gate::Refuse(response) => Err(response),
        Gate::Proceed { latency, hang } => Ok((latency, hang)),
    }
}

fn authorise(sandbox: &Sandbox, header: &DpiHeader) -> Option<DpiError> {
    if header.vendor_id.trim() != VENDOR_ID {
        return Some(dpi_error(codes::VENDOR, header.vendor_id.trim()));
    }
    if header.customer_account_code.trim() != ACCOUNT_CODE
        || header.account_password != sandbox.credential(BOARD, "password")
    {
        return Some(dpi_error(codes::ACCOUNT, ""));
    }
    None
}

fn failed(errors: Vec<DpiError>, job: Option<&DpiJob>) -> ProcessJobResult {
    ProcessJobResult {
        errors,
        action: job.map(|j| action_name(j).to_owned()),
        user_job_id: job.map(|j| j.job_id.clone()),
        post_status: Some("Failed".to_owned()),
        ..ProcessJobResult::default()
    }
}

fn action_name(job: &DpiJob) -> &'static str {
    match job.action {
        Action::Add => "Add",
        Action::Update => "Update",
        Action::Expire => "Expire",
    }
}

fn result_response(result: ProcessJobResult) -> Response {
    xml(
        StatusCode::OK,
        &format!(
            "<ProcessJobResponse xmlns=\"{POST_NS}\">{}</ProcessJobResponse>",
            write_result("ProcessJobResult", &result)
        ),
    )
}

async fn process_job(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    let timing = match gate(&sandbox, &headers, POST_ACTION) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let xml_job = match read_process_job(&body) {
        Ok(xml_job) => xml_job,
        Err(error) => {
            return fault(
                "soap:Client",
                format!("Server was unable to read request. ---> {error}"),
            );
        }
    };
    let document = match read_job_post(&xml_job) {
        Ok(document) => document,
        Err(error) => {
            let error = dpi_error(codes::NOT_A_DOCUMENT, &error);
            return answer(timing, result_response(failed(vec![error], None))).await;
        }
    };
    let result = match authorise(&sandbox, &document.header) {
        Some(error) => failed(vec![error], Some(&document.job)),
        None => apply(&sandbox, document),
    };
    answer(timing, result_response(result)).await
}

fn blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// The tags of an HTML fragment that are not in the allow-list.
fn disallowed_tags(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !HTML_TAGS.contains(&name.as_str()) && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

fn is_date(text: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format).is_ok()
}

fn is_us_zip(text: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match text.trim().split_once('-') {
        Some((zip, plus4)) => digits(zip, 5) && digits(plus4, 4),
        None => digits(text.trim(), 5),
    }
}

/// Every rule an Add or Update breaks, and the warnings it earns.
fn validate(job: &DpiJob) -> (Vec<DpiError>, Vec<DpiError>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for (field, value) in [
        ("Job Title", &job.job_title),
        ("Description", &job.description),
        ("Company Profile Name", &job.company_profile_name),
        ("City", &job.city),
        ("Country", &job.country),
        ("Employee Type", &job.employee_type),
    ] {
        if blank(value) {
            errors.push(dpi_error(codes::REQUIRED, field));
        }
    }
    if job.job_id.trim().is_empty() {
        errors.push(dpi_error(codes::REQUIRED, "Job ID"));
    }
    if job.job_id.chars().count() > MAX_JOB_ID {
        errors.push(dpi_error(
            codes::TOO_LONG,
            &format!("Job ID is limited to {MAX_JOB_ID} characters"),
        ));
    }
    if let Some(title) = &job.job_title {
        let length = title.chars().count();
        if length > MAX_TITLE {
            errors.push(dpi_error(
                codes::TOO_LONG,
                &format!("Job Title is {length} characters; the limit is {MAX_TITLE}"),
            ));
        }
    }
    if let Some(description) = &job.description {
        let tags = disallowed_tags(description);
        if !tags.is_empty() {
            errors.push(dpi_error(codes::HTML, &format!("<{}>", tags.join(">, <"))));
        }
    }
    if let Some(country) = job.country.as_deref().filter(|c| !c.trim().is_empty())
        && country.trim() != "US"
    {
        errors.push(dpi_error(
            codes::COUNTRY,
            &format!("{country}; DPI posts jobs in US only"),
        ));
    }
    if job.country.as_deref().map(str::trim) == Some("US") {
        match job.state.as_deref().map(str::trim) {
            None | Some("") => errors.push(dpi_error(codes::REQUIRED, "State (for US jobs)")),
            Some(state) if state.len() != 2 || !state.bytes().all(|b| b.is_ascii_uppercase()) => {
                errors.push(dpi_error(
                    codes::PLACE,
                    &format!("State {state:?} is not a two-letter USPS code"),
                ));
            }
            Some(_) => {}
        }
        match job.postal_code.as_deref() {
            None => warnings.push(dpi_error(codes::NO_POSTAL_CODE, "")),
            Some(zip) if !is_us_zip(zip) => errors.push(dpi_error(
                codes::PLACE,
                &format!("Postal Code {zip:?} is not a US ZIP code"),
            )),
            Some(_) => {}
        }
    }
    if let Some(kind) = job
        .employee_type
        .as_deref()
        .filter(|k| !k.trim().is_empty())
        && !EMPLOYEE_TYPES.contains(&kind.trim())
    {
        errors.push(dpi_error(codes::EMPLOYEE_TYPE, kind));
    }
    match job.job_type_code.as_deref().map(str::trim) {
        None | Some("") => warnings.push(dpi_error(codes::NO_JOB_TYPE_CODE, "")),
        Some(code) => {
            let ok = code.len() == 5
                && code.starts_with("JN")
                && code[2..].bytes().all(|b| b.is_ascii_digit());
            if !ok {
                errors.push(dpi_error(codes::JOB_TYPE_CODE, code));
            }
        }
    }
    validate_pay(job, &mut errors);
    if blank(&job.application_url) && blank(&job.contact_email) {
        errors.push(dpi_error(
            codes::REQUIRED,
            "Application URL or Contact Email",
        ));
    }
    if let Some(url) = &job.application_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        errors.push(dpi_error(codes::CONTACT, url));
    }
    if let Some(email) = &job.contact_email
        && !email.contains('@')
    {
        errors.push(dpi_error(codes::CONTACT, email));
    }
    match &job.expiration_date {
        None => warnings.push(dpi_error(codes::NO_EXPIRATION_DATE, "")),
        Some(date) if !is_date(date) => errors.push(dpi_error(
            codes::INVALID,
            &format!("Expiration Date {date:?} is not YYYY-MM-DD"),
        )),
        Some(_) => {}
    }
    (errors, warnings)
}

fn validate_pay(job: &DpiJob, errors: &mut Vec<DpiError>) {
    let fields = [
        &job.base_pay_low,
        &job.base_pay_high,
        &job.pay_rate,
        &job.currency_code,
    ];
    if fields.iter().all(|f| f.is_none()) {
        return;
    }
    if fields.iter().any(|f| blank(f)) {
        errors.push(dpi_error(
            codes::PAY,
            "Base Pay Low, Base Pay High, Pay Rate and Currency Code go together",
        ));
        return;
    }
    let amount = |value: &Option<String>| {
        value
            .as_deref()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    match (amount(&job.base_pay_low), amount(&job.base_pay_high)) {
        (Some(low), Some(high)) if low > high => errors.push(dpi_error(
            codes::PAY,
            "Base Pay Low is greater than Base Pay High",
        )),
        (Some(_), Some(_)) => {}
        _ => errors.push(dpi_error(codes::PAY, "Base Pay must be a positive number")),
    }
    let rate = job.pay_rate.as_deref().unwrap_or_default().trim();
    if !PAY_RATES.contains(&rate) {
        errors.push(dpi_error(codes::PAY, &format!("Pay Rate {rate:?}")));
    }
    let currency = job.currency_code.as_deref().unwrap_or_default().trim();
    if currency != "USD" {
        errors.push(dpi_error(
            codes::CURRENCY,
            &format!("{currency}; US jobs are paid in USD"),
        ));
    }
}

/// The posting's run: its Expiration Date, or 30 days from today.
fn end_date(job: &DpiJob) -> String {
    match &job.expiration_date {
        Some(date) => date.trim().to_owned(),
        None => (OffsetDateTime::now_utc().date() + time::Duration::days(DEFAULT_DAYS)).to_string(),
    }
}

fn apply(sandbox: &Sandbox, document: DpiJobPost) -> ProcessJobResult {
    let job = document.job;
    if document.header.replacement_directive.trim() != "None" {
        return failed(
            vec![dpi_error(
                codes::INVALID,
                "Replacement Directive must be None for real-time posts",
            )],
            Some(&job),
        );
    }
    let mut notices = vec![dpi_error(codes::PROCESSED, "")];
    if job.action != Action::Expire {
        let (errors, warnings) = validate(&job);
        if !errors.is_empty() {
            return failed(errors, Some(&job));
        }
        notices.extend(warnings);
    }
    let id = sandbox.next_id(BOARD);
    let transaction = format!("TX{:016}", 7_300_000 + id);
    let reference = job.job_id.clone();
    let content = serde_json::to_value(&job).expect("serialisable");
    let done = |posting: &HeldPosting, status: &str, end: Option<String>| ProcessJobResult {
        errors: notices.clone(),
        action: Some(action_name(&job).to_owned()),
        job_did: Some(posting.external_id.clone()),
        product_id: Some("DPI-JP30".to_owned()),
        user_job_id: Some(posting.reference.clone()),
        pr_end_date: end,
        transaction_did: Some(transaction.clone()),
        post_status: Some(status.to_owned()),
    };
    sandbox.with_postings(BOARD, |held| match (job.action, held.get_mut(&reference)) {
        (Action::Add, Some(_)) => {
            failed(vec![dpi_error(codes::JOB_EXISTS, &reference)], Some(&job))
        }
        (Action::Add, None) => {
            let job_did = format!("J3{:017}", 5_000_000 + id);
            let posting = HeldPosting {
                board: BOARD.to_owned(),
                reference: reference.clone(),
                url: format!("https://www.careerbuilder.com/job/{job_did}"),
                external_id: job_did,
                live: true,
                title: job.job_title.clone().unwrap_or_default(),
                language: "en".to_owned(),
                creates: 1,
                updates: 0,
                withdrawals: 0,
                content,
            };
            let result = done(&posting, "Posted", Some(end_date(&job)));
            held.insert(reference.clone(), posting);
            result
        }
        (Action::Update | Action::Expire, None) => {
            failed(vec![dpi_error(codes::UNKNOWN_JOB, &reference)], Some(&job))
        }
        (Action::Update, Some(posting)) => {
            posting.updates += 1;
            // An Update puts an expired job back online.
            posting.live = true;
            posting.title = job.job_title.clone().unwrap_or_default();
            posting.content = content;
            done(posting, "Posted", Some(end_date(&job)))
        }
        (Action::Expire, Some(posting)) if !posting.live => failed(
            vec![dpi_error(codes::ALREADY_EXPIRED, &reference)],
            Some(&job),
        ),
        (Action::Expire, Some(posting)) => {
            posting.live = false;
            posting.withdrawals += 1;
            let today = OffsetDateTime::now_utc().date().to_string();
            done(posting, "Expired", Some(today))
        }
    })
}

fn status_response(result: ProcessJobResult) -> Response {
    xml(
        StatusCode::OK,
        &format!(
            "<GetJobPostStatusResponse xmlns=\"{STATUS_NS}\">{}</GetJobPostStatusResponse>",
            write_result("GetJobPostStatusResult", &result)
        ),
    )
}

/// `GetJobPostStatus` as CareerBuilder documents it (its ASMX page): one
/// parameter, `sTGDID`, the TransactionDID of a queued post. Read strictly;
/// a request without `sTGDID` (a Job ID lookup, say) is refused, as is any
/// TransactionDID the twin never issued [inferred: the twin queues nothing].
async fn job_status(State(sandbox): State<Sandbox>, headers: HeaderMap, body: String) -> Response {
    let timing = match gate(&sandbox, &headers, STATUS_ACTION) {
        Ok(timing) => timing,
        Err(response) => return response,
    };
    let document = match roxmltree::Document::parse(&body) {
        Ok(document) => document,
        Err(error) => {
            return fault(
                "soap:Client",
                format!("Server was unable to read request. ---> {error}"),
            );
        }
    };
    let operation = document.descendants().find(|n| {
        n.is_element()
            && n.tag_name().name() == "GetJobPostStatus"
            && n.tag_name().namespace() == Some(STATUS_NS)
    });
    let transaction = operation.and_then(|op| {
        op.children()
            .find(|c| c.is_element() && c.tag_name().name() == "sTGDID")
            .and_then(|c| c.text())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    });
    let Some(transaction) = transaction else {
        return fault(
            "soap:Client",
            "GetJobPostStatus takes one parameter, sTGDID (the TransactionDID of a queued post)"
                .to_owned(),
        );
    };
    let result = ProcessJobResult {
        errors: vec![dpi_error(codes::UNKNOWN_JOB, &transaction)],
        ..ProcessJobResult::default()
    };
    answer(timing, status_response(result)).await
}
