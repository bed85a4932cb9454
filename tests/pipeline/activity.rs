//! The numbers behind the console's charts agree with the attempt history.

use boardcast::ops::charts;
use boardcast::sandbox::Faults;
use boardcast::store::activity::{self, Window};
use serde_json::Value;

use crate::WTTJ;
use crate::helpers::{OPS_TOKEN, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_hour_of_activity_matches_the_attempt_history() {
    let app = spawn_app().await;
    app.faults(
        WTTJ,
        Faults {
            fail_times: 1_000,
            fail_status: 422,
            ..Faults::default()
        },
    );
    app.publish_sample("sales-account-executive.publish.json")
        .await;
    app.settled(6).await;

    // Counted independently: per board, attempts, posted and failed outcomes.
    let expected: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT p.board, count(*),
                count(*) FILTER (WHERE a.outcome = 'posted'),
                count(*) FILTER (WHERE a.outcome IN ('rejected', 'failed', 'throttled', 'auth', 'ambiguous', 'transient', 'confirm_failed'))
         FROM posting_attempts a JOIN postings p ON p.id = a.posting_id
         GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(
        expected
            .iter()
            .any(|(b, _, _, failed)| b == WTTJ && *failed > 0)
    );
    assert!(expected.iter().any(|(_, _, posted, _)| *posted > 0));

    let boards: Vec<String> = app.settings.board_ids().into_iter().collect();
    let seen = activity::recent(&app.pool, &boards, Window::Hour)
        .await
        .unwrap();
    assert_eq!(seen.len(), boards.len(), "every board, zero-filled");
    for row in &seen {
        assert_eq!(row.attempts.len(), 60);
        let sums = (
            row.attempts.iter().sum::<u64>() as i64,
            row.posted.iter().sum::<u64>() as i64,
            row.failed.iter().sum::<u64>() as i64,
        );
        let want = expected
            .iter()
            .find(|(b, ..)| *b == row.board)
            .map_or((0, 0, 0), |(_, a, p, f)| (*a, *p, *f));
        assert_eq!(sums, want, "board {}", row.board);
        // It all just happened: only the newest buckets can hold it.
        assert!(row.attempts[..55].iter().all(|n| *n == 0), "{row:?}");
    }

    // The API answers the same numbers, and only with a token.
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/activity?window=hour&board={WTTJ}", app.ops_url);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    let body: Value = client
        .get(&url)
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wttj = seen.iter().find(|r| r.board == WTTJ).unwrap();
    assert_eq!(body["boards"][0]["failed"], serde_json::json!(wttj.failed));
    assert_eq!(body["bucket_seconds"], 60);
    let bad = client
        .get(format!("{}/api/v1/activity?window=week", app.ops_url))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // The picture of it is well-formed SVG, kept for people to look at.
    let chart = charts::time_chart(
        "welcome-to-the-jungle, last hour",
        &[
            charts::Series {
                name: "attempts",
                colour: charts::BLUE,
                values: &wttj.attempts,
            },
            charts::Series {
                name: "failed",
                colour: charts::VERMILION,
                values: &wttj.failed,
            },
        ],
        &Window::Hour.ticks(),
    );
    roxmltree::Document::parse(&chart).expect("well-formed SVG");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("charts-wttj-hour.svg");
    std::fs::write(path, &chart).unwrap();

    // The boards page draws both windows per board; WTTJ's failures show.
    let boards_page = console_page(&app, "/boards").await;
    for span in ["last hour, per minute", "last day, per 30 min"] {
        let label = format!("{WTTJ}: {span}");
        let svg = svg_labelled(&boards_page, &label)
            .unwrap_or_else(|| panic!("no chart {label:?} on the boards page"));
        let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
        for series in ["attempts", "failed"] {
            let line = doc
                .descendants()
                .find(|n| {
                    n.has_tag_name("polyline")
                        && n.children()
                            .any(|c| c.has_tag_name("title") && c.text() == Some(series))
                })
                .unwrap_or_else(|| panic!("no {series} line in {label:?}"));
            // The zero baseline is the lowest y; a point above it is a non-zero bucket.
            let ys: Vec<f64> = line
                .attribute("points")
                .unwrap()
                .split_whitespace()
                .map(|pair| pair.split_once(',').unwrap().1.parse().unwrap())
                .collect();
            let baseline = ys.iter().copied().fold(f64::MIN, f64::max);
            assert!(
                ys.iter().any(|y| *y < baseline),
                "{series} of {label:?} is flat: {ys:?}"
            );
        }
    }

    // The overview shows a sparkline for every board with postings.
    let overview = console_page(&app, "/").await;
    for (board, ..) in &expected {
        let label = format!("{board}: attempts over the last day");
        let svg = svg_labelled(&overview, &label)
            .unwrap_or_else(|| panic!("no sparkline {label:?} on the overview"));
        roxmltree::Document::parse(svg).expect("well-formed SVG");
    }
    app.cleanup().await;
}

async fn console_page(app: &crate::helpers::TestApp, path: &str) -> String {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", app.ops_url))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

/// The inline `<svg>` element of `html` whose accessible name is `label`.
fn svg_labelled<'a>(html: &'a str, label: &str) -> Option<&'a str> {
    let marker = format!("aria-label=\"{label}\"");
    let at = html.find(&marker)?;
    let start = html[..at].rfind("<svg")?;
    let end = start + html[start..].find("</svg>")? + "</svg>".len();
    Some(&html[start..end])
}
