//! Per-tenant accounts: a tenant's own contract ids and credentials at a
//! board, next to the deployment's account.

use std::collections::BTreeMap;

use boardcast::config::{AccountSettings, TenantSettings};
use secrecy::SecretString;

use serde_json::{Value, json};

use crate::helpers::{sample, spawn_app_with};
use crate::{LINKEDIN, STEPSTONE};

fn account(options: &[(&str, &str)], credentials: &[(&str, &str)]) -> AccountSettings {
    AccountSettings {
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        credentials: credentials
            .iter()
            .map(|(k, v)| (k.to_string(), SecretString::from(v.to_string())))
            .collect(),
    }
}

/// northwind posts to StepStone under its own organisation id, and its own
/// LinkedIn credentials are refused, which holds back northwind's LinkedIn
/// postings only: fabrikam's go out through the deployment's accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_post_through_their_own_accounts() {
    let app = spawn_app_with(|settings| {
        let linkedin_client_id = settings.boards["linkedin"].credentials["client_id"].clone();
        let mut northwind_linkedin = account(&[], &[("client_secret", "not-northwinds-secret")]);
        northwind_linkedin
            .credentials
            .insert("client_id".to_owned(), linkedin_client_id);
        let northwind = TenantSettings {
            accounts: BTreeMap::from([
                (
                    "stepstone".to_owned(),
                    account(&[("organisation_id", "55501")], &[]),
                ),
                ("linkedin".to_owned(), northwind_linkedin),
            ]),
            ..TenantSettings::default()
        };
        settings.tenants.insert("northwind".to_owned(), northwind);
    })
    .await;
    let default_org = app.env.settings.boards["stepstone"].options["organisation_id"].clone();
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    let mut fabrikam: Value =
        serde_json::from_slice(&sample("sales-account-executive.publish.json")).unwrap();
    fabrikam["message_id"] = json!(uuid::Uuid::new_v4().to_string());
    fabrikam["tenant_id"] = json!("fabrikam");
    app.publish(fabrikam.to_string().as_bytes()).await;

    let rows = app
        .wait_for(
            "fabrikam settled and northwind's LinkedIn refused",
            || async {
                let rows = app.postings().await;
                let fabrikam_done = rows
                    .iter()
                    .filter(|r| r.tenant_id == "fabrikam")
                    .all(|r| ["posted", "skipped"].contains(&r.status.as_str()));
                let northwind = rows.iter().filter(|r| r.tenant_id == "northwind");
                let northwind_waiting = northwind.clone().all(|r| {
                    r.status == "skipped"
                        // Waiting between tries (a snapshot may catch it in flight).
                    || (r.board == LINKEDIN
                        && r.last_error.is_some()
                        && ["retry_scheduled", "verifying"].contains(&r.status.as_str()))
                        || (r.board != LINKEDIN && r.status == "posted")
                });
                (rows.len() == 12 && fabrikam_done && northwind_waiting).then_some(rows)
            },
        )
        .await;

    // StepStone: each tenant's listing under its own organisation.
    let held = app.held(STEPSTONE);
    let stepstone: Vec<_> = rows
        .iter()
        .filter(|r| r.board == STEPSTONE && r.status == "posted")
        .collect();
    assert_eq!(stepstone.len(), 2, "{stepstone:?}");
    for row in stepstone {
        let listing = held.iter().find(|h| h.reference == row.reference).unwrap();
        let expected = match row.tenant_id.as_str() {
            "northwind" => "55501",
            _ => default_org.as_str(),
        };
        assert_eq!(
            listing.content["organisation_id"], expected,
            "{}",
            row.tenant_id
        );
    }

    // LinkedIn: fabrikam's postings went out; northwind's wait, attempts given back.
    let linkedin: Vec<_> = rows.iter().filter(|r| r.board == LINKEDIN).collect();
    for row in &linkedin {
        if row.tenant_id == "fabrikam" {
            assert_eq!(row.status, "posted", "{row:?}");
        } else {
            assert!(
                ["retry_scheduled", "verifying"].contains(&row.status.as_str()),
                "refused credentials are not the posting's fault: {row:?}"
            );
            assert_eq!(row.attempts, 0, "{row:?}");
            assert!(row.last_error.as_deref().unwrap().contains("credentials"));
        }
    }
    let held = app.held(LINKEDIN);
    assert_eq!(held.len(), 2, "only fabrikam's reached LinkedIn: {held:?}");
    app.stop().await;
}
