//! Update and withdraw of a published job reach every board.

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

/// A board's own rule (StepStone never changes a listing's categorisation)
/// fails that posting with the board's words, without retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_rejecting_an_update_fails_with_its_reason() {
    let app = spawn_app().await;
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.settled(6).await;

    let mut update: serde_json::Value =
        serde_json::from_slice(&sample("sales-account-executive.publish.json")).unwrap();
    update["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    update["action"] = json!("update");
    update["job"]["revision"] = json!(2);
    update["job"]["category"] = json!("customer-success");
    app.publish(update.to_string().as_bytes()).await;

    let row = app
        .wait_for("StepStone to refuse the new category", || async {
            let rows = app.postings().await;
            rows.into_iter()
                .find(|r| r.board == STEPSTONE && r.revision == 2 && r.status == "failed")
        })
        .await;
    assert_eq!(row.attempts, 1, "a board's rule is not retried");
    assert_eq!(
        row.last_error.as_deref(),
        Some("StepStone CATEGORY_IMMUTABLE: the categorisation of a listing cannot be changed")
    );
    // The other boards took the update.
    let rows = app.settled(6).await;
    assert!(
        rows.iter()
            .any(|r| r.board == WTTJ && r.revision == 2 && r.status == "posted")
    );
    app.stop().await;
}
