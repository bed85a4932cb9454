//! The JSON Schema publishers validate against and the worker's own checks
//! agree: on every sample, and on bad inputs. Where a rule is beyond JSON
//! Schema (salary min <= max, known boards, revisions), only the worker
//! rejects, and the case says so.

use std::collections::BTreeSet;

use boardcast::intake::message::{Limits, SCHEMA_V1, parse};
use serde_json::{Value, json};

fn samples() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples");
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .expect("shared/samples")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|p| {
            let value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), value)
        })
        .collect()
}

fn boards() -> BTreeSet<String> {
    [
        "welcome-to-the-jungle",
        "linkedin",
        "stepstone",
        "indeed",
        "ziprecruiter",
        "google-jobs",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

fn worker_accepts(value: &Value) -> Result<(), String> {
    let boards = boards();
    let limits = Limits {
        max_bytes: 262_144,
        boards: &boards,
    };
    parse(value.to_string().as_bytes(), &limits)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn schema() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SCHEMA_V1).expect("the schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

#[test]
fn every_sample_is_valid_for_both() {
    let schema = schema();
    let samples = samples();
    assert!(samples.len() >= 5);
    for (name, value) in samples {
        let errors: Vec<String> = schema.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: schema says {errors:?}");
        worker_accepts(&value).unwrap_or_else(|e| panic!("{name}: worker says {e}"));
    }
}

#[test]
fn bad_inputs_are_refused_by_both_or_by_the_worker_alone() {
    let base: Value = samples()
        .into_iter()
        .find(|(name, _)| name == "account-executive.publish.json")
        .unwrap()
        .1;
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        v
    };
    // (what, message, can JSON Schema see it?)
    let cases: Vec<(&str, Value, bool)> = vec![
        (
            "schema_version 2",
            edit(&|m| m["schema_version"] = json!(2)),
            true,
        ),
        (
            "no tenant_id",
            edit(&|m| drop(m.as_object_mut().unwrap().remove("tenant_id"))),
            true,
        ),
        (
            "revision as text",
            edit(&|m| m["job"]["revision"] = json!("1")),
            true,
        ),
        (
            "revision 0",
            edit(&|m| m["job"]["revision"] = json!(0)),
            true,
        ),
        (
            "unknown action",
            edit(&|m| m["action"] = json!("repost")),
            true,
        ),
        ("no ads", edit(&|m| m["job"]["ads"] = json!({})), true),
        (
            "empty title",
            edit(&|m| m["job"]["ads"]["en"]["title"] = json!("")),
            true,
        ),
        (
            "no summary",
            edit(&|m| {
                drop(
                    m["job"]["ads"]["en"]
                        .as_object_mut()
                        .unwrap()
                        .remove("summary"),
                )
            }),
            true,
        ),
        (
            "language 'english'",
            edit(&|m| {
                let ad = m["job"]["ads"]["en"].clone();
                m["job"]["ads"]["english"] = ad;
            }),
            true,
        ),
        (
            "country 'Spain'",
            edit(&|m| m["job"]["locations"][0]["country"] = json!("Spain")),
            true,
        ),
        (
            "currency 'euro'",
            edit(&|m| m["job"]["salary"]["currency"] = json!("euro")),
            true,
        ),
        (
            "unknown field",
            edit(&|m| m["job"]["titel"] = json!("typo")),
            true,
        ),
        (
            "bad employment type",
            edit(&|m| m["job"]["employment_type"] = json!("fulltime")),
            true,
        ),
        (
            "no locations",
            edit(&|m| m["job"]["locations"] = json!([])),
            true,
        ),
        (
            "no apply method",
            edit(&|m| m["job"]["apply"] = json!({"url": null, "email": null})),
            true,
        ),
        (
            "apply url not a URL",
            edit(&|m| m["job"]["apply"]["url"] = json!("careers page")),
            true,
        ),
        (
            "valid_through not a date",
            edit(&|m| m["job"]["valid_through"] = json!("next month")),
            true,
        ),
        (
            "targets not a list",
            edit(&|m| m["targets"] = json!("some")),
            true,
        ),
        ("empty targets", edit(&|m| m["targets"] = json!([])), true),
        (
            "message_id not a UUID",
            edit(&|m| m["message_id"] = json!("abc")),
            true,
        ),
        (
            "poster email not an address",
            edit(&|m| m["job"]["poster"] = json!({"name": "Ana", "email": "ana at example"})),
            true,
        ),
        (
            "poster email with two @",
            edit(&|m| m["job"]["poster"] = json!({"email": "ana@hr@example.com"})),
            true,
        ),
        (
            "poster without email",
            edit(&|m| m["job"]["poster"] = json!({"name": "Ana"})),
            true,
        ),
        // Beyond JSON Schema:
        (
            "salary min > max",
            edit(&|m| m["job"]["salary"]["min"] = json!(900000)),
            false,
        ),
        (
            "country 'XX' (well-formed, not assigned)",
            edit(&|m| m["job"]["locations"][0]["country"] = json!("XX")),
            false,
        ),
        (
            "language 'xx' (well-formed, not ISO 639-1)",
            edit(&|m| {
                let ad = m["job"]["ads"]["en"].clone();
                m["job"]["ads"]["xx"] = ad;
            }),
            false,
        ),
        (
            "currency 'XYZ' (well-formed, not ISO 4217)",
            edit(&|m| m["job"]["salary"]["currency"] = json!("XYZ")),
            false,
        ),
        (
            "unknown board",
            edit(&|m| m["targets"] = json!([{"board": "monsterr"}])),
            false,
        ),
        (
            "target locale without an ad",
            edit(&|m| m["targets"] = json!([{"board": "linkedin", "locales": ["it"]}])),
            false,
        ),
    ];
    let schema = schema();
    for (what, value, schema_sees_it) in cases {
        assert!(
            worker_accepts(&value).is_err(),
            "the worker accepted: {what}"
        );
        assert_eq!(
            !schema.is_valid(&value),
            schema_sees_it,
            "schema and expectation disagree on: {what}"
        );
    }
}

#[test]
fn a_withdrawal_needs_only_the_job_id() {
    let message = json!({
        "schema_version": 1,
        "message_id": "c2d4e6f8-1a3b-4c5d-9e7f-2a4b6c8d0e05",
        "action": "withdraw",
        "tenant_id": "northwind",
        "job": { "id": "AE-2026-014" },
        "targets": "all"
    });
    assert!(schema().is_valid(&message));
    worker_accepts(&message).unwrap();
    let with_content = json!({"schema_version": 1, "message_id": "c2d4e6f8-1a3b-4c5d-9e7f-2a4b6c8d0e05",
        "action": "withdraw", "tenant_id": "t", "job": {"id": "J", "title": "x"}, "targets": "all"});
    assert!(!schema().is_valid(&with_content));
    assert!(worker_accepts(&with_content).is_err());
}

#[test]
fn a_poster_is_valid_for_both() {
    let schema = schema();
    let (_, mut message) = samples()
        .into_iter()
        .find(|(name, _)| name == "account-executive.publish.json")
        .unwrap();
    for poster in [
        json!({"name": "Ana Pérez", "email": "ana.perez@northwind.example"}),
        json!({"email": "hr@sub.northwind.example"}),
        json!(null),
    ] {
        message["job"]["poster"] = poster.clone();
        let errors: Vec<String> = schema
            .iter_errors(&message)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{poster}: schema says {errors:?}");
        worker_accepts(&message).unwrap_or_else(|e| panic!("{poster}: worker says {e}"));
    }
}
