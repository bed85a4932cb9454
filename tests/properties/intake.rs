//! The intake parser (contract v1) on arbitrary bytes and hostile messages.
//!
//! Properties: nothing panics; a message is either accepted with its text
//! intact and free of what PostgreSQL, XML or a log line cannot take, or
//! rejected with a reason whose detail is itself safe to store and log.

use std::collections::BTreeSet;

use boardcast::intake::message::{Command, InvalidMessage, Limits, parse};
use proptest::prelude::*;
use serde_json::{Value, json};

fn boards() -> BTreeSet<String> {
    ["welcome-to-the-jungle", "linkedin", "stepstone"]
        .into_iter()
        .map(String::from)
        .collect()
}

fn valid() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/samples/sales-account-executive.publish.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Characters that broke something once, among any others.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        1 => prop::sample::select(vec![
            '\0', '\u{b}', '\u{c}', '\n', '\r', '\t', '\u{1f}', '\u{7f}', '\u{85}', '\u{9f}',
            '\u{fffe}', '\u{ffff}', '\u{2028}', '\u{feff}', '<', '&', ']', '"', '\\', 'é', 'Σ',
        ]),
    ]
}

fn hostile_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_char(), 0..max).prop_map(String::from_iter)
}

/// A rejection that is itself safe: named, bounded, no control character
/// (it is stored in a text column and written to the log).
fn assert_safe_rejection(invalid: &InvalidMessage) {
    assert!(!invalid.detail.is_empty());
    assert!(
        invalid.detail.chars().count() <= 1_001,
        "{}",
        invalid.detail.len()
    );
    assert!(
        !invalid.detail.chars().any(|c| c.is_control()),
        "{:?}",
        invalid.detail
    );
}

fn is_forbidden(c: char, multiline: bool) -> bool {
    (c.is_control() && !(multiline && matches!(c, '\t' | '\n' | '\r')))
        || matches!(c, '\u{fffe}' | '\u{ffff}')
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let boards = boards();
        if let Err(invalid) = parse(&bytes, &Limits::new(262_144, &boards)) {
            assert_safe_rejection(&invalid);
        }
    }

    #[test]
    fn hostile_ids_are_accepted_clean_or_refused_with_a_reason(
        tenant in hostile_string(200),
        job_id in hostile_string(200),
        board in hostile_string(40),
    ) {
        let boards = boards();
        let mut message = valid();
        message["tenant_id"] = json!(tenant);
        message["job"]["id"] = json!(job_id);
        message["targets"] = json!([{ "board": board }]);
        match parse(message.to_string().as_bytes(), &Limits::new(262_144, &boards)) {
            Ok(submission) => {
                prop_assert_eq!(&submission.tenant_id, &tenant);
                prop_assert_eq!(&submission.job_id, &job_id);
                for id in [&tenant, &job_id, &board] {
                    prop_assert!(!id.chars().any(|c| is_forbidden(c, false)));
                    prop_assert!(id.chars().count() <= 128);
                }
            }
            Err(invalid) => assert_safe_rejection(&invalid),
        }
    }

    #[test]
    fn hostile_free_text_round_trips_or_is_refused_with_a_reason(
        title in hostile_string(400),
        summary in hostile_string(2_000),
        benefit in hostile_string(200),
        city in hostile_string(120),
        key in hostile_string(12),
    ) {
        let boards = boards();
        let mut message = valid();
        let ad = json!({"title": title, "summary": summary, "benefits": [benefit]});
        message["job"]["ads"] = json!({ "en": ad.clone() });
        message["job"]["ads"][key.as_str()] = ad;
        message["job"]["locations"][0]["city"] = json!(city);
        message["targets"] = json!("all");
        match parse(message.to_string().as_bytes(), &Limits::new(262_144, &boards)) {
            Ok(submission) => {
                let Command::Publish(job) = submission.command else {
                    panic!("the sample publishes");
                };
                for ad in job.ads.values() {
                    prop_assert_eq!(&ad.title, &title);
                    prop_assert_eq!(&ad.summary, &summary);
                    prop_assert!(!ad.title.chars().any(|c| is_forbidden(c, false)));
                    prop_assert!(!ad.summary.chars().any(|c| is_forbidden(c, true)));
                }
                prop_assert_eq!(&job.locations[0].city, &city);
                // What is stored as jsonb: PostgreSQL refuses \u0000 in it.
                let stored = serde_json::to_string(&job).unwrap();
                prop_assert!(!stored.contains("\\u0000"));
            }
            Err(invalid) => assert_safe_rejection(&invalid),
        }
    }

    #[test]
    fn any_number_of_ads_is_capped(count in 0usize..80) {
        let boards = boards();
        let tags: Vec<String> = ["en", "es", "de", "fr", "el", "pt", "it", "nl", "pl", "sv"]
            .iter()
            .flat_map(|l| ["", "-GB", "-US", "-ES", "-BR", "-DE", "-FR", "-GR"].map(|r| format!("{l}{r}")))
            .take(count)
            .collect();
        let mut message = valid();
        message["job"]["ads"] = Value::Object(
            tags.iter()
                .map(|t| (t.clone(), json!({"title": "T", "summary": "S"})))
                .collect(),
        );
        message["targets"] = json!("all");
        match parse(message.to_string().as_bytes(), &Limits::new(262_144, &boards)) {
            Ok(submission) => {
                let Command::Publish(job) = submission.command else { panic!() };
                prop_assert!((1..=30).contains(&job.ads.len()));
            }
            Err(invalid) => {
                prop_assert!(count == 0 || count > 30, "{invalid}");
                assert_safe_rejection(&invalid);
            }
        }
    }
}
