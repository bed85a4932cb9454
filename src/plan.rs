//! Planning: which postings one job makes.
//!
//! A posting is one (board, language variant) pair. Each targeted board gets
//! a posting for every ad in a language it publishes in; a variant the board
//! cannot take is still recorded, as `skipped` with the reason, so that the
//! ATS never has to guess why a board is missing.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::intake::message::{Job, Targets, primary_language};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPosting {
    pub board: String,
    pub locale: String,
    /// `None` to send; `Some(reason)` to record as skipped.
    pub skip_reason: Option<String>,
}

/// The postings `job` should have on the `targets` boards for `tenant`.
/// `also` adds boards that must carry the new content whatever the targets
/// say (on update: the boards that already have the job).
pub fn plan(
    settings: &Settings,
    tenant: &str,
    job: &Job,
    targets: &Targets,
    also: &BTreeSet<String>,
) -> Vec<PlannedPosting> {
    let tenant_boards = settings.boards_for_tenant(tenant);
    let mut chosen: Vec<(String, Option<Vec<String>>)> = match targets {
        Targets::All => tenant_boards.iter().map(|b| (b.clone(), None)).collect(),
        Targets::Boards(list) => list
            .iter()
            .map(|t| (t.board.clone(), t.locales.clone()))
            .collect(),
    };
    for board in also {
        if !chosen.iter().any(|(b, _)| b == board) {
            chosen.push((board.clone(), None));
        }
    }

    let mut planned = Vec::new();
    for (board, locales) in chosen {
        let locales: Vec<String> = locales.unwrap_or_else(|| job.ads.keys().cloned().collect());
        let settings_for_board = settings.board(&board);
        let refusal = match settings_for_board {
            None => Some(format!(
                "board \"{board}\" is not configured in this deployment"
            )),
            Some(b) if !b.enabled => Some(format!(
                "board \"{board}\" is not enabled in this deployment"
            )),
            Some(_) if !tenant_boards.contains(&board) => Some(format!(
                "board \"{board}\" is not enabled for tenant \"{tenant}\""
            )),
            Some(b) if !serves_a_location(&b.countries, job) => Some(format!(
                "{board} publishes jobs in {}; this job is in {}",
                b.countries.join(", "),
                job.locations
                    .iter()
                    .map(|l| l.country.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(_) => None,
        };
        for locale in locales {
            let skip_reason = refusal.clone().or_else(|| {
                let languages = &settings_for_board?.languages;
                let language = primary_language(&locale);
                (!languages.iter().any(|l| l == language)).then(|| {
                    format!(
                        "{board} publishes in {}; it does not take the \"{locale}\" ad",
                        languages.join(", ")
                    )
                })
            });
            planned.push(PlannedPosting {
                board: board.clone(),
                locale,
                skip_reason,
            });
        }
    }
    planned
}

/// A board with no country list publishes anywhere.
fn serves_a_location(countries: &[String], job: &Job) -> bool {
    countries.is_empty()
        || job
            .locations
            .iter()
            .any(|l| countries.iter().any(|c| c == &l.country))
}

/// Our id for a posting at every board: 20 characters of `[a-z0-9]`, the
/// same for every board (LinkedIn and Indeed ask that ids match across
/// channels) and never reused for another job or language.
pub fn posting_reference(tenant: &str, job_id: &str, locale: &str) -> String {
    let digest = Sha256::digest(format!("{tenant}\u{1f}{job_id}\u{1f}{locale}"));
    format!("bc{}", &hex::encode(digest)[..18])
}

/// The reference a board knows the posting by: ours, and after the board's
/// posting had to be closed and re-created (a field it cannot update
/// changed), a new one per generation, since boards keep closed ids for good.
/// Same shape as ours: 20 characters of `[a-z0-9]`. The database's
/// `board_reference()` (migration 0006) is the same function, for queries.
pub fn board_reference(reference: &str, generation: i32) -> String {
    if generation <= 0 {
        return reference.to_owned();
    }
    let stem = &reference[..reference.len().min(18)];
    format!("{stem}{:02}", generation % 100)
}

/// A fingerprint of what a board shows for one language variant: the job's
/// shared fields plus that variant's ad. An update that leaves it unchanged
/// is not re-sent.
pub fn content_hash(job: &Job, locale: &str) -> String {
    let mut shared = job.clone();
    let ad = shared.ads.remove(locale);
    shared.ads.clear();
    shared.revision = 0;
    let canonical = serde_json::json!({ "job": shared, "ad": ad });
    hex::encode(Sha256::digest(canonical.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::message::Target;

    fn job(sample: &str) -> Job {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/samples")
            .join(sample);
        let message: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        serde_json::from_value(message["job"].clone()).unwrap()
    }

    fn only(board: &str) -> Targets {
        Targets::Boards(vec![Target {
            board: board.to_owned(),
            locales: None,
        }])
    }

    #[test]
    fn a_board_outside_the_job_s_countries_is_skipped_with_the_reason() {
        let settings = Settings::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config"
        )))
        .unwrap();
        let europe = plan(
            &settings,
            "northwind",
            &job("account-executive.publish.json"),
            &only("ziprecruiter"),
            &BTreeSet::new(),
        );
        assert_eq!(europe.len(), 6);
        assert!(europe.iter().all(|p| p.skip_reason.as_deref()
            == Some(
                "ziprecruiter publishes jobs in US, CA, AU; this job is in ES, DE, FR, GR, PT, IE"
            )));

        let boston = plan(
            &settings,
            "contoso",
            &job("account-manager.publish.json"),
            &only("ziprecruiter"),
            &BTreeSet::new(),
        );
        let english = boston.iter().find(|p| p.locale == "en").unwrap();
        assert_eq!(english.skip_reason, None);
        let spanish = boston.iter().find(|p| p.locale == "es").unwrap();
        assert!(
            spanish
                .skip_reason
                .as_deref()
                .unwrap()
                .contains("does not take the \"es\" ad")
        );
    }

    #[test]
    fn references_are_short_stable_and_distinct() {
        let a = posting_reference("northwind", "AE-2026-014", "en");
        assert_eq!(a.len(), 20);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(a, posting_reference("northwind", "AE-2026-014", "en"));
        assert_ne!(a, posting_reference("northwind", "AE-2026-014", "es"));
        assert_ne!(a, posting_reference("contoso", "AE-2026-014", "en"));
    }
}
