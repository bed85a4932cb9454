//! Update and withdraw of a published job reach every board.

use boardcast::plan::board_reference;
use boardcast::store::postings;
use serde_json::json;

use crate::helpers::{sample, spawn_app};
use crate::{LINKEDIN, STEPSTONE, WTTJ};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_and_withdraw_reach_each_board() {
    let app = spawn_app().await;
    app.publish_sample("account-executive.publish.json").await;
    app.settled(18).await;

    // Revision 2 renames the English ad and raises the salary.
    app.publish_sample("account-executive.update.json").await;
    let rows = app
        .wait_for("revision 2 to be live everywhere", || async {
            let rows = app.postings().await;
            rows.iter()
                .filter(|r| r.status != "skipped")
                .all(|r| r.revision == 2 && r.status == "posted")
                .then_some(rows)
        })
        .await;
    assert_eq!(rows.iter().filter(|r| r.status == "posted").count(), 11);
    for board in [WTTJ, LINKEDIN, STEPSTONE] {
        let english = rows
            .iter()
            .find(|r| r.board == board && r.locale == "en")
            .unwrap();
        let copy = app
            .held(board)
            .into_iter()
            .find(|h| h.reference == english.reference)
            .unwrap();
        assert_eq!(copy.title, "Senior Account Executive", "{board}");
        assert_eq!(copy.creates, 1, "{board}: updated in place, not re-created");
        assert!(copy.updates >= 1, "{board}");
    }

    app.publish_sample("account-executive.withdraw.json").await;
    let rows = app
        .wait_for("the job to come down everywhere", || async {
            let rows = app.postings().await;
            rows.iter()
                .filter(|r| r.status != "skipped")
                .all(|r| r.status == "withdrawn")
                .then_some(rows)
        })
        .await;
    assert_eq!(rows.iter().filter(|r| r.status == "withdrawn").count(), 11);
    for board in [WTTJ, LINKEDIN, STEPSTONE] {
        for copy in app.held(board) {
            assert!(!copy.live, "{board} {}", copy.reference);
            assert_eq!(copy.withdrawals, 1);
        }
    }
    app.stop().await;
}

/// StepStone cannot change a listing's categorisation: an update that does
/// closes the listing and publishes a new one, and the history shows both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immutable_field_change_closes_and_recreates() {
    let app = spawn_app().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let before = app.settled(6).await;
    let first = before
        .iter()
        .find(|r| r.board == STEPSTONE && r.status == "posted")
        .expect("StepStone took the job")
        .clone();

    let mut update: serde_json::Value =
        serde_json::from_slice(&sample("sales-account-executive.publish.json")).unwrap();
    update["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    update["action"] = json!("update");
    update["job"]["revision"] = json!(2);
    update["job"]["category"] = json!("customer-success");
    app.publish(update.to_string().as_bytes()).await;

    let row = app
        .wait_for("StepStone's new listing", || async {
            let rows = app.postings().await;
            rows.into_iter().find(|r| {
                r.board == STEPSTONE
                    && r.locale == first.locale
                    && r.revision == 2
                    && r.status == "posted"
            })
        })
        .await;
    assert_eq!(
        row.id, first.id,
        "the same posting, re-created at the board"
    );
    assert_ne!(row.external_id, first.external_id, "a new listing id");

    // The board: the old listing offline, one new live listing in the new category.
    let held = app.held(STEPSTONE);
    let old = held
        .iter()
        .find(|h| h.reference == first.reference)
        .expect("the first listing");
    assert!(!old.live);
    assert_eq!((old.creates, old.withdrawals), (1, 1));
    let new_reference = board_reference(&first.reference, 1);
    // The database's board_reference() (feeds, job pages) says the same.
    for generation in [0, 1, 12, 100] {
        let in_sql: String = sqlx::query_scalar("SELECT board_reference($1, $2)")
            .bind(&first.reference)
            .bind(generation)
            .fetch_one(&app.env.pool)
            .await
            .unwrap();
        assert_eq!(in_sql, board_reference(&first.reference, generation));
    }
    let new = held
        .iter()
        .find(|h| h.reference == new_reference)
        .expect("the new listing, under the next generation's reference");
    assert!(new.live);
    assert_eq!(new.creates, 1);
    assert_eq!(new.content["category"], "customer-success");
    assert_eq!(held.iter().filter(|h| h.live).count(), 1);

    // The history: publish, close (naming the field), publish anew.
    let history = postings::attempts(&app.env.pool, row.id).await.unwrap();
    let steps: Vec<(&str, &str)> = history
        .iter()
        .map(|a| (a.operation.as_str(), a.outcome.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("publish", "posted"),
            ("replace", "closed"),
            ("publish", "posted")
        ]
    );
    let closed = history[1].detail.as_deref().unwrap();
    assert!(
        closed.contains(first.external_id.as_deref().unwrap()),
        "{closed}"
    );
    assert!(closed.contains("category \"customer-success\""), "{closed}");

    // The other boards updated in place.
    let rows = app.settled(6).await;
    assert!(
        rows.iter()
            .any(|r| r.board == WTTJ && r.revision == 2 && r.status == "posted")
    );
    app.stop().await;
}
