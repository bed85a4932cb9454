//! Parsed jobs shared by every claimed posting of the same job revision.
//!
//! A job goes to up to one posting per (board × language): read and parsed
//! once per claim, it was de-toasted, serialised and parsed once per posting.
//! Claims now return a job's key and version only; the content is read and
//! parsed once and shared as an `Arc<Job>` while any attempt of it is in
//! flight. Entries hold a `Weak`, so the cache keeps nothing alive itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::intake::message::Job;

/// The stored job could not be parsed; the attempt fails with this reason.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the stored job could not be read back: {0}")]
pub struct UnreadableJob(Arc<str>);

/// A claimed posting's job: parsed once, shared by its postings.
pub type SharedJob = Result<Arc<Job>, UnreadableJob>;

/// Which stored version of a job: `updated_at` changes with every write of the
/// row, so a cached parse is never served for content written since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobVersion {
    pub revision: i64,
    pub updated_at: OffsetDateTime,
}

struct Entry {
    version: JobVersion,
    job: Weak<Job>,
}

/// Parsed jobs by (tenant, job), shared by all board loops.
pub struct JobCache {
    inner: Mutex<Inner>,
}

struct Inner {
    entries: HashMap<(String, String), Entry>,
    /// Dead entries are swept when the map reaches this size.
    prune_at: usize,
}

const MIN_PRUNE_AT: usize = 256;

impl Default for JobCache {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                prune_at: MIN_PRUNE_AT,
            }),
        }
    }
}

impl JobCache {
    /// The parsed job at exactly `version`, if an attempt still holds it.
    pub fn get(&self, tenant_id: &str, job_id: &str, version: JobVersion) -> Option<Arc<Job>> {
        let inner = self
            .inner
            .lock()
            .expect("the job cache lock is never poisoned");
        // Keyed by owned strings; a lookup by borrowed pair needs a probe key.
        let entry = inner
            .entries
            .get(&(tenant_id.to_owned(), job_id.to_owned()))?;
        if entry.version != version {
            return None;
        }
        entry.job.upgrade()
    }

    /// Remembers `job` at `version`, unless a newer version is already held;
    /// returns the job to share (the one already held if another claim parsed
    /// the same version first).
    fn insert(
        &self,
        tenant_id: String,
        job_id: String,
        version: JobVersion,
        job: Arc<Job>,
    ) -> Arc<Job> {
        let mut inner = self
            .inner
            .lock()
            .expect("the job cache lock is never poisoned");
        let key = (tenant_id, job_id);
        if let Some(entry) = inner.entries.get(&key) {
            if entry.version == version {
                if let Some(held) = entry.job.upgrade() {
                    return held;
                }
            } else if newer(entry.version, version) && entry.job.strong_count() > 0 {
                // A claim that read a later write got here first: keep it.
                return job;
            }
        }
        inner.entries.insert(
            key,
            Entry {
                version,
                job: Arc::downgrade(&job),
            },
        );
        if inner.entries.len() >= inner.prune_at {
            inner
                .entries
                .retain(|_, entry| entry.job.strong_count() > 0);
            inner.prune_at = (inner.entries.len() * 2).max(MIN_PRUNE_AT);
        }
        job
    }

    /// The jobs of `wanted` ((tenant, job, version) per claimed posting), each
    /// read from PostgreSQL and parsed once at most: from the cache when it
    /// holds that version, else in one query on `conn` (the claim's
    /// transaction, so the rows it locked are still held). Returned in
    /// `wanted` order.
    pub async fn resolve(
        &self,
        conn: &mut PgConnection,
        wanted: &[(&str, &str, JobVersion)],
    ) -> Result<Vec<SharedJob>, sqlx::Error> {
        // One slot per distinct job of the batch.
        let mut slot_of: HashMap<(&str, &str), usize> = HashMap::new();
        let mut slots: Vec<Option<SharedJob>> = Vec::new();
        let mut missing_tenants = Vec::new();
        let mut missing_jobs = Vec::new();
        for &(tenant_id, job_id, version) in wanted {
            if slot_of.contains_key(&(tenant_id, job_id)) {
                continue;
            }
            slot_of.insert((tenant_id, job_id), slots.len());
            let cached = self.get(tenant_id, job_id, version);
            if cached.is_none() {
                missing_tenants.push(tenant_id);
                missing_jobs.push(job_id);
            }
            slots.push(cached.map(Ok));
        }
        if !missing_jobs.is_empty() {
            let rows: Vec<(String, String, i64, OffsetDateTime, String)> = sqlx::query_as(
                "SELECT tenant_id, job_id, revision, updated_at, content::text FROM jobs
                 WHERE (tenant_id, job_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
            )
            .bind(&missing_tenants)
            .bind(&missing_jobs)
            .fetch_all(&mut *conn)
            .await?;
            for (tenant_id, job_id, revision, updated_at, content) in rows {
                let Some(&slot) = slot_of.get(&(tenant_id.as_str(), job_id.as_str())) else {
                    continue;
                };
                // Under the claim's row locks this is the version the claim saw;
                // were it a later write, it is the content the job has now.
                let version = JobVersion {
                    revision,
                    updated_at,
                };
                slots[slot] = Some(match serde_json::from_str::<Job>(&content) {
                    Ok(job) => Ok(self.insert(tenant_id, job_id, version, Arc::new(job))),
                    Err(error) => Err(UnreadableJob(error.to_string().into())),
                });
            }
        }
        Ok(wanted
            .iter()
            .map(|(tenant_id, job_id, _)| {
                slots[slot_of[&(*tenant_id, *job_id)]]
                    .clone()
                    .unwrap_or_else(|| Err(UnreadableJob("the job is no longer stored".into())))
            })
            .collect())
    }
}

/// Whether `a` is a later write of the job than `b`.
fn newer(a: JobVersion, b: JobVersion) -> bool {
    (a.revision, a.updated_at) > (b.revision, b.updated_at)
}
