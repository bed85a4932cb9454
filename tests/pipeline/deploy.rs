//! What deployment relies on: the binary runs from any folder (the defaults
//! are built in), `boardcast healthcheck` is a container's probe, and
//! `boardcast config` shows the effective settings without a secret in them.

use std::process::Stdio;

use secrecy::ExposeSecret;
use tokio::process::Command;

use crate::helpers::test_env;

fn boardcast_in(folder: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_boardcast"));
    // No --config-dir: a container or a systemd unit starts it from anywhere.
    command
        .current_dir(folder)
        .env_remove("BOARDCAST_CONFIG_DIR");
    command
}

/// A fresh empty folder outside the repository.
fn elsewhere() -> std::path::PathBuf {
    let folder = std::env::temp_dir().join(format!("boardcast-elsewhere-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_runs_from_any_folder_and_answers_its_healthcheck() {
    let env = test_env().await;
    let elsewhere = elsewhere();
    let ops = format!("127.0.0.1:{}", free_port());
    let public = format!("127.0.0.1:{}", free_port());
    let probe = || async {
        boardcast_in(&elsewhere)
            .arg("healthcheck")
            .env("BOARDCAST__OPS__LISTEN", &ops)
            .stderr(Stdio::null())
            .status()
            .await
            .unwrap()
            .success()
    };
    assert!(!probe().await, "no worker yet: the probe must fail");

    // Its log goes to a file, as under systemd or a container runtime.
    let log_path = elsewhere.join("worker.log");
    let mut worker = boardcast_in(&elsewhere)
        .arg("run")
        .envs(env.worker_env())
        .env("BOARDCAST__OPS__LISTEN", &ops)
        .env("BOARDCAST__OPS__PUBLIC_LISTEN", &public)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    env.wait_for("the worker to answer its healthcheck", || async {
        probe().await.then_some(())
    })
    .await;

    worker.kill().await.unwrap();
    worker.wait().await.unwrap();
    assert!(!probe().await, "a stopped worker must fail its probe");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("Worker starting."), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "a log that is not a terminal has no colour codes: {log}"
    );
    env.cleanup().await;
    std::fs::remove_dir_all(elsewhere).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_configuration_is_effective_and_redacted() {
    let env = test_env().await;
    let elsewhere = elsewhere();
    let worker_env = env.worker_env();
    let output = boardcast_in(&elsewhere)
        .arg("config")
        .envs(&worker_env)
        .env(
            "DATABASE_URL",
            "postgres://boardcast:db-hunter2@db.internal/boardcast",
        )
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();

    assert!(printed.contains("postgres://boardcast:redacted@db.internal/boardcast"));
    assert!(!printed.contains("hunter2"), "{printed}");
    let mut secrets = 0;
    for (board, settings) in &env.settings.boards {
        for (name, value) in &settings.credentials {
            secrets += 1;
            assert!(
                !printed.contains(value.expose_secret()),
                "boards.{board}.credentials.{name} printed"
            );
        }
    }
    assert!(secrets > 10, "the sandbox gives most boards credentials");
    // The environment's overrides are what it shows (the sandbox's URLs).
    let linkedin = &env.settings.boards["linkedin"].base_url;
    assert!(
        printed.contains(linkedin.as_str()),
        "{linkedin} not in {printed}"
    );
    env.cleanup().await;
    std::fs::remove_dir_all(elsewhere).unwrap();
}

/// The compose file's shape: the sandbox in its own process writes the
/// credentials its twins accept, and a worker started with `--sandbox-host`
/// reads them from its secrets folder and publishes through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_publishes_through_a_separate_sandbox_process() {
    let env = test_env().await;
    let secrets = elsewhere();
    let ports = [free_port(), free_port(), free_port()];
    let sandbox_env = [
        (
            "BOARDCAST__SANDBOX__LISTEN",
            format!("127.0.0.1:{}", ports[0]),
        ),
        (
            "BOARDCAST__SANDBOX__SMTP_LISTEN",
            format!("127.0.0.1:{}", ports[1]),
        ),
        (
            "BOARDCAST__SANDBOX__TLS_LISTEN",
            format!("127.0.0.1:{}", ports[2]),
        ),
    ];
    let mut sandbox = boardcast_in(&secrets)
        .args(["sandbox", "--write-secrets"])
        .arg(secrets.join("boards"))
        .envs(sandbox_env.clone())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let sandbox_url = format!("http://127.0.0.1:{}", ports[0]);
    env.wait_for("the sandbox to listen", || async {
        reqwest::get(format!("{sandbox_url}/_sandbox/postings"))
            .await
            .ok()
            .map(|_| ())
    })
    .await;

    // The worker gets no credentials but the sandbox's files.
    let mut worker_env = env.worker_env();
    worker_env.retain(|key, _| !key.contains("__CREDENTIALS__"));
    let mut worker = boardcast_in(&secrets)
        .args(["run", "--sandbox-host", "127.0.0.1"])
        .envs(worker_env)
        .envs(sandbox_env)
        .env("BOARDCAST__SECRETS_DIR", secrets.join("boards"))
        .env(
            "BOARDCAST__OPS__LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .env(
            "BOARDCAST__OPS__PUBLIC_LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    env.publish_sample("account-executive.publish.json").await;
    let held = env
        .wait_for(
            "the separate sandbox to hold the Welcome to the Jungle ads (en, es, fr)",
            || async {
                let answer: serde_json::Value = reqwest::get(format!(
                    "{sandbox_url}/_sandbox/postings?board={}",
                    crate::WTTJ
                ))
                .await
                .ok()?
                .json()
                .await
                .ok()?;
                let held = answer.as_array()?.clone();
                (held.len() == 3).then_some(held)
            },
        )
        .await;
    assert!(held.iter().all(|ad| ad["live"] == true), "{held:?}");
    assert!(
        env.held(crate::WTTJ).is_empty(),
        "the test's in-process sandbox must not have been used"
    );

    worker.kill().await.unwrap();
    sandbox.kill().await.unwrap();
    env.cleanup().await;
    std::fs::remove_dir_all(secrets).unwrap();
}
