//! Bad input: each kind is dead-lettered and recorded with its raw bytes and
//! a specific reason; nothing else changes, and the worker keeps consuming.

use serde_json::{Value, json};

use crate::helpers::{sample, spawn_app};

fn valid() -> Value {
    serde_json::from_slice(&sample("sales-account-executive.publish.json")).unwrap()
}

/// A valid message changed by `edit`, with a message id of its own.
fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut message = valid();
    message["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    edit(&mut message);
    message.to_string().into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_invalid_message_is_rejected_with_its_reason_and_the_worker_goes_on() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not_json", b"{\"schema_version\": 1, ".to_vec()),
        ("not_utf8", vec![0x7b, 0xff, 0xfe, 0x7d]),
        (
            "unsupported_schema_version",
            edited(|m| m["schema_version"] = json!(2)),
        ),
        (
            "malformed",
            edited(|m| drop(m.as_object_mut().unwrap().remove("tenant_id"))),
        ),
        ("malformed", edited(|m| m["job"]["revision"] = json!("one"))),
        ("unknown_action", edited(|m| m["action"] = json!("repost"))),
        (
            "unknown_board",
            edited(|m| m["targets"] = json!([{"board": "monsterr"}])),
        ),
        ("no_ads", edited(|m| m["job"]["ads"] = json!({}))),
        (
            "missing_title",
            edited(|m| m["job"]["ads"]["en"]["title"] = json!("  ")),
        ),
        (
            "salary_range",
            edited(|m| {
                m["job"]["salary"] =
                    json!({"currency": "EUR", "min": 90000, "max": 50000, "period": "year"})
            }),
        ),
        (
            "bad_language",
            edited(|m| {
                let ads = m["job"]["ads"].as_object_mut().unwrap();
                let en = ads.remove("en").unwrap();
                ads.insert("english".into(), en);
            }),
        ),
        (
            "bad_country",
            edited(|m| m["job"]["locations"][0]["country"] = json!("XX")),
        ),
        (
            "oversized",
            edited(|m| m["job"]["ads"]["en"]["summary"] = json!("x".repeat(300_000))),
        ),
        // Issue 12: each of these reached PostgreSQL, which refused it, and
        // intake requeued it forever (or posted it, or panicked later).
        (
            "control_character",
            edited(|m| m["job"]["ads"]["en"]["title"] = json!("Account\u{0}Executive")),
        ),
        (
            "control_character",
            edited(|m| m["tenant_id"] = json!("north\u{0}wind")),
        ),
        (
            "too_long",
            edited(|m| m["job"]["id"] = json!("J".repeat(3_000))),
        ),
        (
            "too_long",
            edited(|m| m["job"]["ads"]["en"]["title"] = json!("T".repeat(100_000))),
        ),
        (
            "bad_date",
            edited(|m| m["job"]["valid_through"] = json!("9999-12-31T23:00:00-05:00")),
        ),
        (
            "bad_language",
            edited(|m| {
                let ads = m["job"]["ads"].as_object_mut().unwrap();
                let en = ads.remove("en").unwrap();
                ads.insert("en-Qaax".into(), en);
            }),
        ),
        (
            "unknown_job",
            edited(|m| {
                m["action"] = json!("update");
                m["job"]["id"] = json!("NEVER-PUBLISHED");
            }),
        ),
    ];
    for (_, body) in &cases {
        app.publish(body).await;
    }
    // A stale revision: revision 2 accepted, then revision 1 of the same job.
    app.publish(&edited(|m| m["job"]["revision"] = json!(2)))
        .await;
    app.publish(&edited(|m| m["job"]["revision"] = json!(1)))
        .await;
    // And then a good message: the worker must still be consuming.
    app.publish_sample("account-manager.publish.json").await;

    let expected_rejections = cases.len() + 1;
    let rejected = app
        .wait_for("every rejection to be recorded", || async {
            let rows = boardcast::store::rejected::list(&app.pool, 100)
                .await
                .unwrap();
            (rows.len() == expected_rejections).then_some(rows)
        })
        .await;
    // Newest first; put them back in publishing order.
    let reasons: Vec<&str> = rejected.iter().rev().map(|r| r.reason.as_str()).collect();
    let mut expected: Vec<&str> = cases.iter().map(|(reason, _)| *reason).collect();
    expected.push("stale_revision");
    assert_eq!(reasons, expected);

    // Each keeps the raw bytes as they arrived and a specific detail.
    let oldest = rejected.iter().rev();
    for (row, (_, body)) in oldest.zip(&cases) {
        assert_eq!(row.raw_bytes, body.len(), "{}", row.reason);
        assert!(!row.detail.is_empty());
    }
    let by_reason = |reason: &str| {
        rejected
            .iter()
            .rev()
            .find(|r| r.reason == reason)
            .unwrap()
            .detail
            .clone()
    };
    assert!(
        by_reason("salary_range").contains("90000"),
        "{}",
        by_reason("salary_range")
    );
    assert!(by_reason("unknown_board").contains("monsterr"));
    assert!(by_reason("bad_country").contains("XX"));
    assert!(by_reason("stale_revision").contains("stored revision 2"));
    assert!(by_reason("malformed").contains("tenant_id"));

    // The good message after them all was processed.
    let rows = app.settled(8 + 6).await;
    assert!(
        rows.iter()
            .any(|r| r.job_id == "AM-118" && r.status == "posted")
    );
    // Only the revision-2 job and the good one made postings; rejections are in the dead-letter queue.
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 2);
    app.wait_for("the dead-letter queue to hold every rejection", || async {
        (app.dead_letters().await as usize == expected_rejections).then_some(())
    })
    .await;
    app.stop().await;
}
