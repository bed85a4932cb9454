-- A job's postings that are not settled yet. Every statement that settles
-- postings asks, for each job it touched, whether any of its postings is
-- still open (postings_settle_jobs); through the unique index that visited
-- every posting of the job until an open one turned up (126 per job in the
-- bench's sample, with most of them settled). This index holds only open
-- postings, so the question is one probe (issue 9).
CREATE INDEX postings_open_by_job ON postings (tenant_id, job_id)
    WHERE status NOT IN ('posted', 'failed', 'withdrawn', 'skipped', 'cancelled');
