-- The console's search (job id, or the ad's title in the posting's language)
-- without a scan of every posting: trigram GIN indexes serve `ILIKE '%x%'`.
-- pg_trgm ships with PostgreSQL's contrib; creating it needs a superuser or a
-- trusted-extension grant, so production must have it available (or created
-- beforehand by its DBA) before this migration runs.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Every ad's title of a job, one a line: what the title index holds. It only
-- pre-filters jobs; the posting's own language is checked on the rows found.
CREATE FUNCTION job_titles(content jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(ad.value->>'title', E'\n'), '')
    FROM jsonb_each(CASE WHEN jsonb_typeof(content->'ads') = 'object'
                         THEN content->'ads' ELSE '{}' END) AS ad
$$;

-- Both on `jobs`, which changes once per message: a posting's row is
-- rewritten by every claim and completion (no HOT update: its status is
-- indexed), so an index on `postings` would be paid on every attempt.
CREATE INDEX jobs_job_id_trgm ON jobs USING gin (job_id gin_trgm_ops);
CREATE INDEX jobs_titles_trgm ON jobs USING gin (job_titles(content) gin_trgm_ops);

-- The ids of the postings a search matches; `pattern` is a LIKE pattern part
-- (its wildcards escaped by the caller). One definition for the postings list
-- and the bulk actions. A plain SQL function, so the planner inlines it and
-- sees both indexes.
CREATE FUNCTION postings_search(pattern text) RETURNS TABLE (id bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT p.id
    FROM jobs j
    JOIN postings p ON p.tenant_id = j.tenant_id AND p.job_id = j.job_id
    WHERE j.job_id ILIKE '%' || pattern || '%'
    UNION
    SELECT p.id
    FROM jobs j
    JOIN postings p ON p.tenant_id = j.tenant_id AND p.job_id = j.job_id
    WHERE job_titles(j.content) ILIKE '%' || pattern || '%'
      AND j.content->'ads'->p.locale->>'title' ILIKE '%' || pattern || '%'
$$;
