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
    let limits = Limits::new(262_144, &boards);
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

/// Issue 12 (hostile input): control characters, over-long fields, too many
/// ads, unknown scripts and far dates are refused by the schema an ATS
/// validates with and by the worker, which names the rule.
#[test]
fn hostile_inputs_are_refused_by_both_with_a_reason() {
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
    let small_ads = |tags: Vec<String>| {
        let ads: serde_json::Map<String, Value> = tags
            .into_iter()
            .map(|tag| {
                (
                    tag,
                    json!({"title": "Engineer", "summary": "Build things."}),
                )
            })
            .collect();
        Value::Object(ads)
    };
    // 300 ads keyed en-Qaax, en-Qabx... made 300 paid postings from one message.
    let private_scripts: Vec<String> = (b'a'..=b'z')
        .flat_map(|c| (b'a'..=b'z').map(move |d| format!("en-Qa{}{}", c as char, d as char)))
        .take(300)
        .collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "NUL in a title",
            edit(&|m| m["job"]["ads"]["en"]["title"] = json!("Account\u{0}Executive")),
            "control_character",
        ),
        (
            "vertical tab in a title",
            edit(&|m| m["job"]["ads"]["en"]["title"] = json!("Account Manager\u{b}")),
            "control_character",
        ),
        (
            "vertical tab in a summary",
            edit(&|m| m["job"]["ads"]["en"]["summary"] = json!("Sell.\u{b}Travel.")),
            "control_character",
        ),
        (
            "NUL in tenant_id",
            edit(&|m| m["tenant_id"] = json!("north\u{0}wind")),
            "control_character",
        ),
        (
            "newline in a target board",
            edit(&|m| m["targets"] = json!([{"board": "linkedin\nINFO forged"}])),
            "control_character",
        ),
        (
            "U+FFFF in a benefit",
            edit(&|m| m["job"]["ads"]["en"]["benefits"] = json!(["Gym\u{ffff}"])),
            "control_character",
        ),
        (
            "C1 control in a city",
            edit(&|m| m["job"]["locations"][0]["city"] = json!("Athens\u{85}")),
            "control_character",
        ),
        (
            "NUL in an ads key",
            edit(&|m| {
                let ad = m["job"]["ads"]["en"].clone();
                m["job"]["ads"]["en\u{0}"] = ad;
            }),
            "control_character",
        ),
        (
            "100,000-character title",
            edit(&|m| m["job"]["ads"]["en"]["title"] = json!("A".repeat(100_000))),
            "too_long",
        ),
        (
            "301-character title",
            edit(&|m| m["job"]["ads"]["en"]["title"] = json!("é".repeat(301))),
            "too_long",
        ),
        (
            "20,001-character summary",
            edit(&|m| m["job"]["ads"]["en"]["summary"] = json!("s".repeat(20_001))),
            "too_long",
        ),
        (
            "1,001-character requirement",
            edit(&|m| m["job"]["ads"]["en"]["requirements"] = json!(["r".repeat(1_001)])),
            "too_long",
        ),
        (
            "51 requirements",
            edit(&|m| m["job"]["ads"]["en"]["requirements"] = json!(vec!["SQL"; 51])),
            "too_many",
        ),
        (
            "129-character job.id",
            edit(&|m| m["job"]["id"] = json!("J".repeat(129))),
            "too_long",
        ),
        (
            "129-character tenant_id",
            edit(&|m| m["tenant_id"] = json!("t".repeat(129))),
            "too_long",
        ),
        (
            "201-character company name",
            edit(&|m| m["job"]["company"]["name"] = json!("C".repeat(201))),
            "too_long",
        ),
        (
            "51 locations",
            edit(&|m| {
                let one = m["job"]["locations"][0].clone();
                m["job"]["locations"] = json!(vec![one; 51]);
            }),
            "too_many",
        ),
        (
            "300 ads",
            edit(&|m| m["job"]["ads"] = small_ads(private_scripts.clone())),
            "too_many",
        ),
        (
            "31 ads",
            edit(&|m| {
                let tags = [
                    "en", "es", "de", "fr", "el", "pt", "it", "nl", "pl", "sv", "da", "fi",
                ]
                .iter()
                .flat_map(|l| ["", "-GB", "-US"].map(|r| format!("{l}{r}")))
                .take(31)
                .collect();
                m["job"]["ads"] = small_ads(tags);
            }),
            "too_many",
        ),
        (
            "private-use script en-Qaax",
            edit(&|m| m["job"]["ads"] = small_ads(vec!["en-Qaax".into()])),
            "bad_language",
        ),
        (
            "unassigned script en-Abcd",
            edit(&|m| m["job"]["ads"] = small_ads(vec!["en-Abcd".into()])),
            "bad_language",
        ),
        (
            "valid_through in 9999",
            edit(&|m| m["job"]["valid_through"] = json!("9999-12-31T23:00:00-05:00")),
            "bad_date",
        ),
        (
            "valid_through in 1999",
            edit(&|m| m["job"]["valid_through"] = json!("1999-12-31T23:00:00Z")),
            "bad_date",
        ),
        (
            "2,049-character apply url",
            edit(&|m| {
                m["job"]["apply"]["url"] =
                    json!(format!("https://example.com/{}", "a".repeat(2_030)))
            }),
            "too_long",
        ),
    ];
    let schema = schema();
    let boards = boards();
    let limits = Limits::new(262_144, &boards);
    for (what, value, reason) in cases {
        let refused = parse(value.to_string().as_bytes(), &limits)
            .expect_err(&format!("the worker accepted: {what}"));
        assert_eq!(refused.reason.as_str(), reason, "{what}: {refused}");
        assert!(!schema.is_valid(&value), "the schema accepted: {what}");
    }
}

/// Issue 12, finding 15: the two ids joined by U+001F made one reference for
/// two tenants. Control characters are refused in ids, so neither exists.
#[test]
fn ids_that_would_collide_across_tenants_are_refused() {
    let boards = boards();
    let limits = Limits::new(262_144, &boards);
    let base = samples()
        .into_iter()
        .find(|(name, _)| name == "account-executive.publish.json")
        .unwrap()
        .1;
    for (tenant, job) in [("northwind\u{1f}AE", "1"), ("northwind", "AE\u{1f}1")] {
        let mut message = base.clone();
        message["tenant_id"] = json!(tenant);
        message["job"]["id"] = json!(job);
        let refused = parse(message.to_string().as_bytes(), &limits).unwrap_err();
        assert_eq!(refused.reason.as_str(), "control_character", "{refused}");
        assert!(!schema().is_valid(&message));
    }
}

/// Free text keeps its tabs and line breaks, and the caps are inclusive.
#[test]
fn text_at_the_caps_with_line_breaks_is_accepted_by_both() {
    let base: Value = samples()
        .into_iter()
        .find(|(name, _)| name == "account-executive.publish.json")
        .unwrap()
        .1;
    let mut message = base.clone();
    message["job"]["ads"]["en"]["title"] = json!("é".repeat(300));
    message["job"]["ads"]["en"]["summary"] = json!(format!("{}\r\n\tend", "s".repeat(19_994)));
    message["job"]["ads"]["en"]["benefits"] = json!(vec!["b\nc"; 50]);
    message["job"]["id"] = json!("J".repeat(128));
    message["job"]["valid_through"] = json!("2100-12-31T23:00:00-05:00");
    let errors: Vec<String> = schema()
        .iter_errors(&message)
        .map(|e| e.to_string().chars().take(200).collect())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    worker_accepts(&message).unwrap();
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
