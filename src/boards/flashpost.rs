//! FlashPost (The Network, StepStone group): one REST JSON listing fanned out
//! to several target job boards (BOARDS.md §2 row 22, §3.19, §3.17, §3.10).
//!
//! Documented [V FP, the per-board pages `jb/101` Cadremploi, `jb/131`
//! FigaroEmploi, `jb/22` StepStone DE, `jb/440` Infojobs.it]: the create
//! listing body `{customerId, jobBoardIds, providerReferenceId (1–255),
//! jobDetails, companyDetails?, templateId?, walletId?, anonymous?}`; the
//! update listing body (the same without `customerId` and
//! `providerReferenceId`); `jobDetails {title, description
//! {structuredDescription}, applicationMethod (at least one of applicationUrl
//! ≤2083 | email ≤255), categories {contractType, …}, jobAddress {city,
//! country, postcode, street}, jobLocationType ON_SITE | REMOTE_ONLY |
//! REMOTE_POSSIBLE, language (ISO 639-1), salary {currency, min, max, period
//! MONTH | YEAR …, hidden}, salaryDescription, numberOfVacancies ≥1}`. Each
//! target board's page marks fields required, optional, **forbidden** ("cannot
//! be used for this job board") and "**cannot be updated**", and those rules
//! are in [`TARGETS`], one row per target:
//! * Cadremploi: providerReferenceId 1–40; title 1–50 and not updatable;
//!   `categories.contractType` and `categories.experience` required and not
//!   updatable; `jobLocationType` and `companyWebsiteUrl` not listed;
//!   `companyDetails.contactAddress` required with city 1–100 and postcode
//!   4–30; `anonymous` and `templateId` forbidden; content in French when the
//!   job is in France.
//! * FigaroEmploi: title 1–80.
//! * StepStone DE: title 1–150; language `en` or `de` only; `jobAddress`
//!   required; `companyWebsiteUrl` 1–100; `anonymous` forbidden.
//! * Infojobs.it: `salary` and `jobAddress` required; `salaryDescription`
//!   1–50; title not updatable; `anonymous` forbidden.
//!
//! Inferred [I] (and modelled the same way in the sandbox twin):
//! * Paths and auth: `POST /listings`, `PUT /listings/{id}`, `DELETE
//!   /listings/{id}` (closes), `GET /listings/{id}` and `GET
//!   /listings?providerReferenceId=` with the API key in an `X-API-Key`
//!   header, following the REST shape of ZipRecruiter's documented Job API
//!   (§3.6). Answers: the listing `{id, providerReferenceId,
//!   status OPEN | CLOSED, jobBoards: [{jobBoardId, status PENDING | PUBLISHED
//!   | REJECTED, url?, reason?}]}`; errors `{status, message, errors: [{field,
//!   jobBoardId?, message}]}` with 400 (unreadable body), 422 (a rule, in the
//!   pages' own words), 401, 404, 409 (a second open listing with the same
//!   providerReferenceId), 429 + Retry-After, 500, 503 — EasyJobs' documented
//!   pattern (§3.17, §6.4).
//! * The listing is asynchronous, like idibu's per-board `PENDING` posts
//!   (§3.19): publish and update answer [`Receipt::Accepted`] with the listing
//!   id, and [`Board::confirm`] reads the listing: every target `PUBLISHED` →
//!   live (the first target's ad URL), one `REJECTED` → rejected naming the
//!   target and its reason, otherwise pending.
//! * `jobBoardIds` are the documentation page numbers (Cadremploi 101,
//!   FigaroEmploi 131, StepStone DE 22, Infojobs.it 440); `customerId` is the
//!   account's number (option `customer_id`); the targets come from option
//!   `job_boards` (`"cadremploi,figaroemploi,stepstone-de,infojobs-it"`).
//! * Languages per target: Cadremploi and FigaroEmploi take French,
//!   Infojobs.it Italian (StepStone DE's `en`/`de` is documented). A language
//!   variant goes to every configured target that takes its language; a
//!   variant none takes is refused, naming the targets. One countries list
//!   per target (FR, FR, DE, IT) picks the `jobAddress`: the first of the
//!   job's locations in a country a chosen target serves.
//! * Each target gets only the fields its page lists: an optional field one
//!   chosen target's page does not list ([`Target::unlisted`]) is left out of
//!   the listing (Cadremploi's page has no `jobLocationType`; only StepStone
//!   DE's has `companyWebsiteUrl`).
//! * Taxonomy ids (`categories.contractType`, `categories.experience`) are
//!   the account's, from FlashPost's taxonomy, in options `contract_types`
//!   (`full_time=1,part_time=2,…`) and `experience`; an employment type the
//!   configured taxonomy does not map is refused, never guessed.
//! * A rule one target breaks fails the whole posting, naming the target and
//!   the rule ("Cadremploi: title is 63 characters; Cadremploi allows 50"):
//!   FlashPost validates every target of a listing, so dropping the target
//!   silently would publish less than asked.
//! * `structuredDescription {introduction, tasks, profile, offer}`, HTML with
//!   `p`, `ul`, `li`: StepStone's documented ad sections (§3.10), FlashPost
//!   being StepStone's multiposter. The company's contact address is the job's address (our job model has
//!   no company address); salary periods HOUR, DAY and WEEK besides the
//!   documented MONTH and YEAR; a `PUT` of a closed listing reopens it, and a
//!   closed listing's providerReferenceId may open a new listing.
//!
//! Not sent: our free-text `category` (FlashPost wants its own workfield ids),
//! keywords, salaryDescription. The conformance record is
//! `docs/boards/flashpost.md`.

use std::collections::BTreeSet;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::http::{self, Reply};
use super::render::{check_max, check_min};
use super::{
    Board, BoardConfig, BoardError, BuildError, CallLog, ErrorClass, PostingContext, Receipt,
};
use crate::intake::message::{EmploymentType, Location, PayPeriod, Workplace, primary_language};

/// How the board takes jobs, for `boardcast boards`.
pub const MECHANISM: &str = "REST JSON multiposter: one listing to several target boards (job_boards), API key header, per-board status polled";
pub const ID: &str = "flashpost";
const NAME: &str = "FlashPost";
/// FlashPost-wide limits, the same on every target's page.
pub const MAX_REFERENCE: usize = 255;
pub const MAX_APPLICATION_URL: usize = 2083;
pub const MAX_EMAIL: usize = 255;
const API_KEY_HEADER: &str = "x-api-key";

// ---------------------------------------------------------------------------
// The targets and their rules.

/// A field a target's rules talk about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    ProviderReferenceId,
    Anonymous,
    TemplateId,
    Title,
    ContractType,
    JobAddress,
    Salary,
    SalaryDescription,
    ContactCity,
    ContactPostcode,
    CompanyWebsiteUrl,
    Experience,
    JobLocationType,
}

impl Field {
    /// The field's name as FlashPost's pages write it.
    pub fn label(self) -> &'static str {
        match self {
            Field::ProviderReferenceId => "providerReferenceId",
            Field::Anonymous => "anonymous",
            Field::TemplateId => "templateId",
            Field::Title => "title",
            Field::ContractType => "categories.contractType",
            Field::JobAddress => "jobAddress",
            Field::Salary => "salary",
            Field::SalaryDescription => "salaryDescription",
            Field::ContactCity => "contactAddress.city",
            Field::ContactPostcode => "contactAddress.postcode",
            Field::CompanyWebsiteUrl => "companyWebsiteUrl",
            Field::Experience => "categories.experience",
            Field::JobLocationType => "jobLocationType",
        }
    }

    /// The field's value in a create body, as text; `None` when absent.
    pub fn value(self, listing: &CreateListing) -> Option<String> {
        let details = &listing.job_details;
        let contact = listing
            .company_details
            .as_ref()
            .and_then(|c| c.contact_address.as_ref());
        match self {
            Field::ProviderReferenceId => Some(listing.provider_reference_id.clone()),
            Field::Anonymous => listing.anonymous.map(|a| a.to_string()),
            Field::TemplateId => listing.template_id.clone(),
            Field::Title => Some(details.title.clone()),
            Field::ContractType => Some(details.categories.contract_type.to_string()),
            Field::JobAddress => details.job_address.as_ref().map(|a| {
                format!(
                    "{}, {} {}",
                    a.city,
                    a.postcode.as_deref().unwrap_or_default(),
                    a.country
                )
            }),
            Field::Salary => details
                .salary
                .as_ref()
                .map(|s| format!("{}–{} {} per {}", s.min, s.max, s.currency, s.period)),
            Field::SalaryDescription => details.salary_description.clone(),
            Field::ContactCity => contact.map(|c| c.city.clone()),
            Field::ContactPostcode => contact.and_then(|c| c.postcode.clone()),
            Field::CompanyWebsiteUrl => listing
                .company_details
                .as_ref()
                .and_then(|c| c.company_website_url.clone()),
            Field::Experience => details.categories.experience.map(|e| e.to_string()),
            Field::JobLocationType => details.job_location_type.clone(),
        }
    }
}

/// A documented length range ("length must be between 1 and 50").
#[derive(Debug, Clone, Copy)]
pub struct Length {
    pub field: Field,
    pub min: usize,
    pub max: usize,
}

const fn length(field: Field, min: usize, max: usize) -> Length {
    Length { field, min, max }
}

/// One target job board behind FlashPost, with its page's rules.
#[derive(Debug)]
pub struct Target {
    /// Our name for it in option `job_boards`.
    pub slug: &'static str,
    pub name: &'static str,
    /// FlashPost's id for it in `jobBoardIds` [I: the documentation page number].
    pub job_board_id: u32,
    /// Languages (ISO 639-1) it publishes in.
    pub languages: &'static [&'static str],
    /// Countries its jobs are in [I]; picks the listing's address.
    pub countries: &'static [&'static str],
    pub lengths: &'static [Length],
    pub required: &'static [Field],
    pub forbidden: &'static [Field],
    /// "cannot be updated": changing them means closing and re-creating.
    pub fixed: &'static [Field],
    /// Optional fields we could send that the page does not list: never
    /// sent in a listing for this target.
    pub unlisted: &'static [Field],
}

/// Every target this adapter knows, with the rules of its FlashPost page.
pub const TARGETS: [Target; 4] = [
    Target {
        slug: "cadremploi",
        name: "Cadremploi",
        job_board_id: 101,
        languages: &["fr"],
        countries: &["FR"],
        lengths: &[
            length(Field::ProviderReferenceId, 1, 40),
            length(Field::Title, 1, 50),
            length(Field::ContactCity, 1, 100),
            length(Field::ContactPostcode, 4, 30),
        ],
        required: &[
            Field::ContractType,
            Field::Experience,
            Field::ContactCity,
            Field::ContactPostcode,
        ],
        forbidden: &[Field::Anonymous, Field::TemplateId],
        fixed: &[Field::Title, Field::ContractType, Field::Experience],
        unlisted: &[Field::JobLocationType, Field::CompanyWebsiteUrl],
    },
    Target {
        slug: "figaroemploi",
        name: "FigaroEmploi",
        job_board_id: 131,
        languages: &["fr"],
        countries: &["FR"],
        lengths: &[length(Field::Title, 1, 80)],
        required: &[],
        forbidden: &[],
        fixed: &[],
        unlisted: &[Field::CompanyWebsiteUrl],
    },
    Target {
        slug: "stepstone-de",
        name: "StepStone DE",
        job_board_id: 22,
        languages: &["de", "en"],
        countries: &["DE"],
        lengths: &[
            length(Field::Title, 1, 150),
            length(Field::CompanyWebsiteUrl, 1, 100),
        ],
        required: &[Field::JobAddress],
        forbidden: &[Field::Anonymous],
        fixed: &[],
        unlisted: &[],
    },
    Target {
        slug: "infojobs-it",
        name: "Infojobs.it",
        job_board_id: 440,
        languages: &["it"],
        countries: &["IT"],
        lengths: &[
            length(Field::Title, 1, 255),
            length(Field::SalaryDescription, 1, 50),
        ],
        required: &[Field::Salary, Field::JobAddress],
        forbidden: &[Field::Anonymous],
        fixed: &[Field::Title],
        unlisted: &[Field::CompanyWebsiteUrl],
    },
];

/// The target with this `jobBoardId`.
pub fn target_by_id(job_board_id: u32) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.job_board_id == job_board_id)
}

/// The FlashPost account: who we post as, and to which targets.
#[derive(Debug, Clone)]
pub struct Account {
    pub customer_id: u64,
    /// In the configured order.
    pub targets: Vec<&'static Target>,
    /// `categories.contractType` ids of FlashPost's taxonomy, per employment
    /// type, as the account's taxonomy lists them (option `contract_types`).
    pub contract_types: Vec<(EmploymentType, u32)>,
    /// `categories.experience` id of FlashPost's taxonomy (option `experience`).
    pub experience: Option<u32>,
}

impl Account {
    /// From options `customer_id` (a number) and `job_boards` (comma-separated slugs).
    pub fn parse(customer_id: &str, job_boards: &str) -> Result<Self, String> {
        let customer_id = customer_id
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("customer_id \"{customer_id}\" is not a number"))?;
        let mut targets: Vec<&'static Target> = Vec::new();
        for slug in job_boards
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let Some(target) = TARGETS.iter().find(|t| t.slug == slug) else {
                let known: Vec<&str> = TARGETS.iter().map(|t| t.slug).collect();
                return Err(format!(
                    "job_boards names \"{slug}\"; known: {}",
                    known.join(", ")
                ));
            };
            if !targets.iter().any(|t| t.slug == slug) {
                targets.push(target);
            }
        }
        if targets.is_empty() {
            return Err("job_boards names no target".to_owned());
        }
        Ok(Self {
            customer_id,
            targets,
            contract_types: Vec::new(),
            experience: None,
        })
    }

    /// Adds the taxonomy ids: `contract_types` as `full_time=1,part_time=2,…`
    /// (our employment types, FlashPost's ids) and `experience` as an id.
    pub fn with_taxonomy(
        mut self,
        contract_types: Option<&str>,
        experience: Option<&str>,
    ) -> Result<Self, String> {
        for pair in contract_types
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let parsed = pair.split_once('=').and_then(|(kind, id)| {
                let kind: EmploymentType =
                    serde_json::from_value(serde_json::Value::String(kind.trim().to_owned()))
                        .ok()?;
                Some((kind, id.trim().parse::<u32>().ok()?))
            });
            let Some((kind, id)) = parsed else {
                return Err(format!(
                    "contract_types has \"{pair}\"; expected <employment type>=<FlashPost id>"
                ));
            };
            self.contract_types.retain(|(k, _)| *k != kind);
            self.contract_types.push((kind, id));
        }
        self.experience = match experience.map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(text) => Some(
                text.parse::<u32>()
                    .map_err(|_| format!("experience \"{text}\" is not a FlashPost id"))?,
            ),
        };
        Ok(self)
    }

    /// FlashPost's contract type id for `kind`, from the account's taxonomy.
    pub fn contract_type(&self, kind: EmploymentType) -> Option<u32> {
        self.contract_types
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
    }

    /// The configured targets that take ads in `language`.
    pub fn targets_for(&self, language: &str) -> Vec<&'static Target> {
        self.targets
            .iter()
            .copied()
            .filter(|t| t.languages.contains(&language))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Wire types.

/// The create listing body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateListing {
    pub customer_id: u64,
    pub job_board_ids: Vec<u32>,
    pub provider_reference_id: String,
    pub job_details: JobDetails,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub company_details: Option<CompanyDetails>,
    /// Never sent by us; forbidden on most targets.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub anonymous: Option<bool>,
    /// Never sent by us; forbidden on Cadremploi.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub template_id: Option<String>,
}

/// The update listing body: the create body without the account and our reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateListing {
    pub job_board_ids: Vec<u32>,
    pub job_details: JobDetails,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub company_details: Option<CompanyDetails>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub template_id: Option<String>,
}

impl From<CreateListing> for UpdateListing {
    fn from(create: CreateListing) -> Self {
        Self {
            job_board_ids: create.job_board_ids,
            job_details: create.job_details,
            company_details: create.company_details,
            template_id: create.template_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDetails {
    pub title: String,
    pub description: Description,
    pub application_method: ApplicationMethod,
    pub categories: Categories,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub job_address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub job_location_type: Option<String>,
    pub language: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary: Option<Salary>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub salary_description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Description {
    pub structured_description: StructuredDescription,
}

/// StepStone's ad sections [I], each HTML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StructuredDescription {
    pub introduction: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tasks: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub offer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationMethod {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub application_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Categories {
    pub contract_type: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub experience: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub city: String,
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub postcode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Salary {
    pub currency: String,
    pub min: f64,
    pub max: f64,
    pub period: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyDetails {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub company_website_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub contact_address: Option<Address>,
}

/// A listing as FlashPost answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    pub id: u64,
    pub provider_reference_id: String,
    /// `OPEN` or `CLOSED`.
    pub status: String,
    pub job_boards: Vec<JobBoardStatus>,
}

/// One target's state of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobBoardStatus {
    pub job_board_id: u32,
    /// `PENDING`, `PUBLISHED`, `REJECTED` or `CLOSED`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

/// `GET /listings?providerReferenceId=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListingPage {
    pub listings: Vec<Listing>,
}

/// One field FlashPost refused, for one target or for all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub job_board_id: Option<u32>,
    pub message: String,
}

/// FlashPost's error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub status: u16,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

// ---------------------------------------------------------------------------
// Rendering.

/// Builds the create body for one language variant and checks it against
/// FlashPost's rules and every chosen target's: a pure function.
pub fn render(
    posting: &PostingContext<'_>,
    account: &Account,
) -> Result<CreateListing, BoardError> {
    let language = primary_language(posting.locale);
    let targets = choose_targets(account, language)?;
    let location = choose_location(posting, &targets, language)?;
    let Some(contract_type) = account.contract_type(posting.job.employment_type) else {
        return Err(BoardError::rule(format!(
            "{NAME}'s taxonomy as configured (option contract_types) has no contract type for employment type {}",
            crate::boards::render::employment_type_name(posting.job.employment_type)
        )));
    };
    let listing = build(posting, account, &targets, location, contract_type);
    check_common(&listing)?;
    check_targets(&listing, &targets)?;
    Ok(listing)
}

/// The configured targets that take `language`; none is a rule naming them all.
fn choose_targets(account: &Account, language: &str) -> Result<Vec<&'static Target>, BoardError> {
    let targets = account.targets_for(language);
    if targets.is_empty() {
        let offered: Vec<String> = account
            .targets
            .iter()
            .map(|t| format!("{}: {}", t.name, t.languages.join(", ")))
            .collect();
        return Err(BoardError::rule(format!(
            "none of {NAME}'s targets takes {language} ads ({})",
            offered.join("; ")
        )));
    }
    Ok(targets)
}

/// The first of the job's locations in a country one of `targets` serves.
fn choose_location<'a>(
    posting: &PostingContext<'a>,
    targets: &[&'static Target],
    language: &str,
) -> Result<&'a Location, BoardError> {
    let served: BTreeSet<&str> = targets
        .iter()
        .flat_map(|t| t.countries.iter().copied())
        .collect();
    if let Some(location) = posting
        .job
        .locations
        .iter()
        .find(|l| served.contains(l.country.as_str()))
    {
        return Ok(location);
    }
    let mut countries: Vec<&str> = Vec::new();
    for location in &posting.job.locations {
        if !countries.contains(&location.country.as_str()) {
            countries.push(&location.country);
        }
    }
    let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
    let served: Vec<&str> = served.into_iter().collect();
    Err(BoardError::rule(format!(
        "{NAME}'s targets for {language} ads ({}) publish jobs in {}; this job is in {}",
        names.join(", "),
        served.join(", "),
        countries.join(", ")
    )))
}

fn build(
    posting: &PostingContext<'_>,
    account: &Account,
    targets: &[&'static Target],
    location: &Location,
    contract_type: u32,
) -> CreateListing {
    // A field goes out only when every target's page lists it.
    let listed = |field: Field| !targets.iter().any(|t| t.unlisted.contains(&field));
    let job = posting.job;
    let ad = posting.ad;
    let address = Address {
        city: location.city.clone(),
        country: location.country.clone(),
        postcode: location.postal_code.clone(),
    };
    let section = |items: &[String]| (!items.is_empty()).then(|| html_list(items));
    CreateListing {
        customer_id: account.customer_id,
        job_board_ids: targets.iter().map(|t| t.job_board_id).collect(),
        provider_reference_id: posting.reference.to_owned(),
        job_details: JobDetails {
            title: ad.title.clone(),
            description: Description {
                structured_description: StructuredDescription {
                    introduction: format!("<p>{}</p>", escape_text(&ad.summary)),
                    tasks: section(&ad.responsibilities),
                    profile: section(&ad.requirements),
                    offer: section(&ad.benefits),
                },
            },
            application_method: ApplicationMethod {
                application_url: job.apply.url.clone(),
                email: job.apply.email.clone(),
            },
            categories: Categories {
                contract_type,
                experience: account.experience,
            },
            job_address: Some(address.clone()),
            job_location_type: listed(Field::JobLocationType).then(|| {
                match job.workplace {
                    Workplace::OnSite => "ON_SITE",
                    Workplace::Remote => "REMOTE_ONLY",
                    Workplace::Hybrid => "REMOTE_POSSIBLE",
                }
                .to_owned()
            }),
            language: primary_language(posting.locale).to_owned(),
            salary: job.salary.as_ref().map(|s| Salary {
                currency: s.currency.clone(),
                min: s.min,
                max: s.max,
                period: salary_period(s.period).to_owned(),
            }),
            salary_description: None,
        },
        company_details: Some(CompanyDetails {
            company_website_url: job
                .company
                .url
                .clone()
                .filter(|_| listed(Field::CompanyWebsiteUrl)),
            // Our job model has no company address: the hiring location stands in [I].
            contact_address: Some(address),
        }),
        anonymous: None,
        template_id: None,
    }
}

/// Escapes text for HTML element content: only `&`, `<` and `>`, so quotes
/// and apostrophes stay literal characters rather than entities.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `<ul><li>…</li></ul>` (callers skip empty lists).
fn html_list(items: &[String]) -> String {
    let mut html = String::from("<ul>");
    for item in items {
        html.push_str("<li>");
        html.push_str(&escape_text(item));
        html.push_str("</li>");
    }
    html.push_str("</ul>");
    html
}

fn salary_period(period: PayPeriod) -> &'static str {
    match period {
        PayPeriod::Hour => "HOUR",
        PayPeriod::Day => "DAY",
        PayPeriod::Week => "WEEK",
        PayPeriod::Month => "MONTH",
        PayPeriod::Year => "YEAR",
    }
}

/// The rules every target's page repeats.
fn check_common(listing: &CreateListing) -> Result<(), BoardError> {
    check_min(
        NAME,
        "providerReferenceId",
        &listing.provider_reference_id,
        1,
    )?;
    check_max(
        NAME,
        "providerReferenceId",
        &listing.provider_reference_id,
        MAX_REFERENCE,
    )?;
    check_min(NAME, "title", &listing.job_details.title, 1)?;
    let method = &listing.job_details.application_method;
    if method.application_url.is_none() && method.email.is_none() {
        super::preview::broken(format!("{NAME} needs an applicationUrl or an email"))?;
    }
    if let Some(url) = &method.application_url {
        check_max(NAME, "applicationUrl", url, MAX_APPLICATION_URL)?;
    }
    if let Some(email) = &method.email {
        check_max(NAME, "email", email, MAX_EMAIL)?;
    }
    Ok(())
}

/// Each target's forbidden, required and length rules, in the configured
/// order; the first broken one fails the posting, naming the target.
pub fn check_targets(listing: &CreateListing, targets: &[&Target]) -> Result<(), BoardError> {
    for target in targets {
        let name = target.name;
        for field in target.forbidden {
            if field.value(listing).is_some() {
                super::preview::broken(format!(
                    "{name}: {} cannot be used for this job board",
                    field.label()
                ))?;
            }
        }
        for field in target.required {
            if field.value(listing).is_none_or(|v| v.trim().is_empty()) {
                super::preview::broken(format!(
                    "{name} requires {}; this listing has none",
                    field.label()
                ))?;
            }
        }
        for rule in target.lengths {
            if let Some(value) = rule.field.value(listing) {
                check_min(name, rule.field.label(), &value, rule.min)
                    .and_then(|()| check_max(name, rule.field.label(), &value, rule.max))
                    .map_err(|e| BoardError::rule(format!("{name}: {}", e.message)))?;
            }
        }
    }
    Ok(())
}

/// The values of the fields some chosen target cannot update, one
/// `label=value` line each; `None` when no chosen target fixes a field (or
/// no target takes the variant at all).
pub fn fixed_values(posting: &PostingContext<'_>, account: &Account) -> Option<String> {
    let language = primary_language(posting.locale);
    let targets = account.targets_for(language);
    let mut fields: Vec<Field> = Vec::new();
    for field in targets.iter().flat_map(|t| t.fixed.iter().copied()) {
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    if fields.is_empty() {
        return None;
    }
    // The fixed fields never depend on the address; fall back to the first
    // location when no location suits, so the value is still comparable.
    let location = choose_location(posting, &targets, language)
        .ok()
        .or_else(|| posting.job.locations.first())?;
    let contract_type = account
        .contract_type(posting.job.employment_type)
        .unwrap_or_default();
    let listing = build(posting, account, &targets, location, contract_type);
    let lines: Vec<String> = fields
        .iter()
        .map(|f| format!("{}={}", f.label(), f.value(&listing).unwrap_or_default()))
        .collect();
    Some(lines.join("\n"))
}

/// What a listing's per-target statuses mean for the posting.
pub fn verdict(listing: &Listing) -> Result<Receipt, BoardError> {
    let name_of = |id: u32| {
        target_by_id(id)
            .map(|t| t.name.to_owned())
            .unwrap_or_else(|| format!("job board {id}"))
    };
    if listing.status == "CLOSED" {
        return Err(BoardError::rule(format!(
            "{NAME} listing {} is closed",
            listing.id
        )));
    }
    if let Some(refused) = listing.job_boards.iter().find(|b| b.status == "REJECTED") {
        return Err(BoardError::new(
            ErrorClass::Rejected,
            None,
            format!(
                "{NAME}: {} rejected listing {}: {}",
                name_of(refused.job_board_id),
                listing.id,
                refused.reason.as_deref().unwrap_or("no reason given")
            ),
        ));
    }
    if !listing.job_boards.is_empty() && listing.job_boards.iter().all(|b| b.status == "PUBLISHED")
    {
        return Ok(Receipt::Live {
            external_id: listing.id.to_string(),
            url: listing.job_boards.iter().find_map(|b| b.url.clone()),
        });
    }
    Ok(Receipt::Pending)
}

/// The listings' path under the base URL [inferred].
pub const LISTINGS_PATH: &str = "listings";

/// Every operation's request as it leaves us, for the golden files:
/// `(operation, method, path under the base URL, body)`.
pub fn operations(
    create: &CreateListing,
    listing_id: &str,
) -> Vec<(
    &'static str,
    &'static str,
    String,
    Option<serde_json::Value>,
)> {
    let one = format!("{LISTINGS_PATH}/{listing_id}");
    let update = UpdateListing::from(create.clone());
    vec![
        (
            "publish",
            "POST",
            LISTINGS_PATH.to_owned(),
            Some(serde_json::to_value(create).expect("bodies serialise")),
        ),
        (
            "update",
            "PUT",
            one.clone(),
            Some(serde_json::to_value(update).expect("bodies serialise")),
        ),
        ("withdraw", "DELETE", one.clone(), None),
        ("confirm", "GET", one, None),
        (
            "lookup",
            "GET",
            format!(
                "{LISTINGS_PATH}?providerReferenceId={}",
                create.provider_reference_id
            ),
            None,
        ),
    ]
}

// ---------------------------------------------------------------------------
// The adapter.

pub struct FlashPost {
    http: reqwest::Client,
    listings_url: url::Url,
    api_key: SecretString,
    timeout: std::time::Duration,
    account: Account,
}

impl FlashPost {
    pub fn new(config: &BoardConfig<'_>) -> Result<Self, BuildError> {
        let invalid = |name: String| BuildError::MissingOption {
            board: config.id.to_owned(),
            key: config.id.replace('-', "_"),
            name,
        };
        let customer_id = config.option("customer_id")?;
        let job_boards = config.option("job_boards")?;
        let options = &config.settings.options;
        let account = Account::parse(&customer_id, &job_boards)
            .map_err(|problem| invalid(format!("customer_id / job_boards ({problem})")))?
            .with_taxonomy(
                options.get("contract_types").map(String::as_str),
                options.get("experience").map(String::as_str),
            )
            .map_err(|problem| invalid(format!("contract_types / experience ({problem})")))?;
        Ok(Self {
            http: config.http.clone(),
            listings_url: config
                .base_url()?
                .join(LISTINGS_PATH)
                .expect("a static path joins"),
            api_key: config.credential("api_key")?,
            timeout: config.request_timeout,
            account,
        })
    }

    /// The account this adapter posts as.
    pub fn account(&self) -> &Account {
        &self.account
    }

    fn listing_url(&self, id: &str) -> url::Url {
        let mut url = self.listings_url.clone();
        url.path_segments_mut()
            .expect("an http URL has path segments")
            .push(id);
        url
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: url::Url,
        body: Option<Vec<u8>>,
        log: &mut CallLog,
    ) -> Result<Reply, BoardError> {
        let mut request = self
            .http
            .request(method, url)
            .header(API_KEY_HEADER, self.api_key.expose_secret())
            .timeout(self.timeout);
        if let Some(bytes) = &body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone());
        }
        let reply = http::send(NAME, request, body.as_deref(), log).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(failure(&reply))
        }
    }

    async fn create(&self, body: &CreateListing, log: &mut CallLog) -> Result<Listing, BoardError> {
        let bytes = serde_json::to_vec(body).expect("request bodies serialise");
        self.call(
            reqwest::Method::POST,
            self.listings_url.clone(),
            Some(bytes),
            log,
        )
        .await?
        .json(NAME)
    }

    async fn replace(
        &self,
        id: &str,
        body: CreateListing,
        log: &mut CallLog,
    ) -> Result<Listing, BoardError> {
        let bytes =
            serde_json::to_vec(&UpdateListing::from(body)).expect("request bodies serialise");
        self.call(reqwest::Method::PUT, self.listing_url(id), Some(bytes), log)
            .await?
            .json(NAME)
    }

    /// Our reference's listings, open first (there is at most one open).
    async fn find(&self, reference: &str, log: &mut CallLog) -> Result<Vec<Listing>, BoardError> {
        let mut url = self.listings_url.clone();
        url.query_pairs_mut()
            .append_pair("providerReferenceId", reference);
        let page: ListingPage = self
            .call(reqwest::Method::GET, url, None, log)
            .await?
            .json(NAME)?;
        let mut listings = page.listings;
        listings.sort_by_key(|l| (l.status != "OPEN", std::cmp::Reverse(l.id)));
        Ok(listings)
    }

    async fn find_open(
        &self,
        reference: &str,
        log: &mut CallLog,
    ) -> Result<Option<Listing>, BoardError> {
        Ok(self
            .find(reference, log)
            .await?
            .into_iter()
            .find(|l| l.status == "OPEN"))
    }

    /// Creates the listing; when our reference already has an open one (an
    /// earlier answer was lost), brings that one in line instead.
    async fn create_or_replace(
        &self,
        body: CreateListing,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        match self.create(&body, log).await {
            Ok(listing) => Ok(accepted(&listing)),
            Err(error) if is_rejected(&error, 409) => {
                match self.find_open(&body.provider_reference_id, log).await? {
                    Some(open) => Ok(accepted(
                        &self.replace(&open.id.to_string(), body, log).await?,
                    )),
                    None => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }
}

/// FlashPost's error answer, its field errors named by target.
fn failure(reply: &Reply) -> BoardError {
    let detail = match serde_json::from_str::<ErrorBody>(&reply.body) {
        Ok(body) if !body.errors.is_empty() => {
            let fields: Vec<String> = body
                .errors
                .iter()
                .map(|e| {
                    let target = e
                        .job_board_id
                        .map(|id| {
                            target_by_id(id)
                                .map(|t| format!("{}: ", t.name))
                                .unwrap_or_else(|| format!("job board {id}: "))
                        })
                        .unwrap_or_default();
                    format!("{target}{} {}", e.field, e.message)
                })
                .collect();
            format!("{} ({})", body.message, fields.join("; "))
        }
        Ok(body) => body.message,
        Err(_) => http::excerpt(&reply.body),
    };
    http::classify(
        reply.status,
        &reply.headers,
        &format!("{NAME} answered {}: {detail}", reply.status),
    )
}

fn is_rejected(error: &BoardError, status: u16) -> bool {
    error.class == ErrorClass::Rejected && error.http_status == Some(status)
}

fn accepted(listing: &Listing) -> Receipt {
    Receipt::Accepted {
        task: listing.id.to_string(),
        external_id: Some(listing.id.to_string()),
    }
}

#[async_trait]
impl Board for FlashPost {
    fn id(&self) -> &'static str {
        ID
    }

    fn fixed_fields(&self, posting: &PostingContext<'_>) -> Option<String> {
        fixed_values(posting, &self.account)
    }

    async fn publish(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let body = render(posting, &self.account)?;
        if posting.may_exist
            && let Some(open) = self.find_open(posting.reference, log).await?
        {
            return Ok(accepted(
                &self.replace(&open.id.to_string(), body, log).await?,
            ));
        }
        self.create_or_replace(body, log).await
    }

    async fn update(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let body = render(posting, &self.account)?;
        let id = match posting.external_id {
            Some(id) => Some(id.to_owned()),
            // Open first, else the latest closed one, which a PUT reopens.
            None => self
                .find(posting.reference, log)
                .await?
                .first()
                .map(|l| l.id.to_string()),
        };
        let Some(id) = id else {
            return self.create_or_replace(body, log).await;
        };
        match self.replace(&id, body.clone(), log).await {
            Ok(listing) => Ok(accepted(&listing)),
            // FlashPost never got the create: make it now.
            Err(error) if is_rejected(&error, 404) => self.create_or_replace(body, log).await,
            Err(error) => Err(error),
        }
    }

    async fn withdraw(
        &self,
        posting: &PostingContext<'_>,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let id = match posting.external_id {
            Some(id) => id.to_owned(),
            None => match self.find_open(posting.reference, log).await? {
                Some(open) => open.id.to_string(),
                // Never reached FlashPost, or closed already.
                None => return Ok(Receipt::Withdrawn),
            },
        };
        match self
            .call(reqwest::Method::DELETE, self.listing_url(&id), None, log)
            .await
        {
            Ok(_) => Ok(Receipt::Withdrawn),
            Err(error) if is_rejected(&error, 404) => Ok(Receipt::Withdrawn),
            Err(error) => Err(error),
        }
    }

    async fn confirm(
        &self,
        _posting: &PostingContext<'_>,
        task: &str,
        log: &mut CallLog,
    ) -> Result<Receipt, BoardError> {
        let listing: Listing = match self
            .call(reqwest::Method::GET, self.listing_url(task), None, log)
            .await
        {
            Ok(reply) => reply.json(NAME)?,
            Err(error) if is_rejected(&error, 404) => {
                return Err(BoardError::new(
                    ErrorClass::Rejected,
                    Some(404),
                    format!("{NAME} has no listing {task}"),
                ));
            }
            Err(error) => Err(error)?,
        };
        verdict(&listing)
    }
}
