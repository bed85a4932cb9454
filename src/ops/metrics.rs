//! Prometheus metrics. Counters and latency histograms are kept in-process
//! (per replica); posting counts and the oldest due posting come from the
//! database at scrape time, so every replica reports the same truth.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sqlx::PgPool;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BoardLabel {
    pub board: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    pub board: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IntakeLabels {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

pub struct Metrics {
    registry: Registry,
    pub attempts: Family<AttemptLabels, Counter>,
    pub attempt_seconds: Family<BoardLabel, Histogram>,
    pub intake: Family<IntakeLabels, Counter>,
    pub rejections: Family<ReasonLabel, Counter>,
    pub rescued: Family<BoardLabel, Counter>,
    pub circuit_open: Family<BoardLabel, Gauge>,
    /// Deliveries committed per intake transaction.
    pub intake_batch_size: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("boardcast");
        let attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "attempts",
            "Attempts by board and outcome (a new feed posting's, made at intake, included)",
            attempts.clone(),
        );
        let attempt_seconds = Family::<BoardLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        registry.register(
            "attempt_duration_seconds",
            "Time of one attempt at a board",
            attempt_seconds.clone(),
        );
        let intake = Family::<IntakeLabels, Counter>::default();
        registry.register(
            "intake_messages",
            "Messages consumed: accepted, duplicate, rejected",
            intake.clone(),
        );
        let rejections = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "rejected_messages",
            "Messages rejected, by reason",
            rejections.clone(),
        );
        let rescued = Family::<BoardLabel, Counter>::default();
        registry.register(
            "rescued_postings",
            "Postings whose worker died, sent round again",
            rescued.clone(),
        );
        let circuit_open = Family::<BoardLabel, Gauge>::default();
        registry.register(
            "circuit_open",
            "1 while a board's circuit is open",
            circuit_open.clone(),
        );
        let intake_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 8));
        registry.register(
            "intake_batch_size",
            "Deliveries committed in one intake transaction",
            intake_batch_size.clone(),
        );
        Self {
            registry,
            attempts,
            attempt_seconds,
            intake,
            rejections,
            rescued,
            circuit_open,
            intake_batch_size,
        }
    }
}

impl Metrics {
    pub fn board(board: &str) -> BoardLabel {
        BoardLabel {
            board: board.to_owned(),
        }
    }

    /// The exposition text: in-process metrics plus the database's view.
    pub async fn render(&self, pool: &PgPool) -> Result<String, sqlx::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        let body = text.trim_end().trim_end_matches("# EOF").to_owned();
        let mut out = body;

        out.push_str("# HELP boardcast_postings Postings by board and status.\n# TYPE boardcast_postings gauge\n");
        let counts = sqlx::query!(
            r#"SELECT board, status::text AS "status!", count(*) AS "count!" FROM postings GROUP BY 1, 2 ORDER BY 1, 2"#
        )
        .fetch_all(pool)
        .await?;
        for row in counts {
            out.push_str(&format!(
                "boardcast_postings{{board=\"{}\",status=\"{}\"}} {}\n",
                row.board, row.status, row.count
            ));
        }
        out.push_str("# HELP boardcast_oldest_due_posting_seconds Age of the oldest posting due to be sent, by board.\n# TYPE boardcast_oldest_due_posting_seconds gauge\n");
        let due = sqlx::query!(
            r#"SELECT board, extract(epoch FROM now() - min(next_attempt_at))::float8 AS "age!"
               FROM postings
               WHERE status IN ('queued', 'retry_scheduled', 'verifying', 'submitted') AND next_attempt_at <= now()
               GROUP BY board ORDER BY board"#
        )
        .fetch_all(pool)
        .await?;
        for row in due {
            out.push_str(&format!(
                "boardcast_oldest_due_posting_seconds{{board=\"{}\"}} {:.3}\n",
                row.board, row.age
            ));
        }
        out.push_str("# EOF\n");
        Ok(out)
    }
}
