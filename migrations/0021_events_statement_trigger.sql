-- The events of 0002, written once per statement instead of once per row
-- (issue 9). Completions are now written a batch per statement: a per-row
-- trigger took the job's advisory lock and counted the job's postings for
-- every completion, in whatever order the rows came, and was seen
-- deadlocking with intake. Same events, same bodies: one per posting that
-- enters (or changes within) a state the ATS acts on, and one `job.settled`
-- when no posting of the job is left unsettled, once per transaction.

DROP TRIGGER postings_events ON postings;
DROP FUNCTION postings_emit_events();

-- After the posting events of one statement: the jobs they belong to, each
-- checked once. The advisory locks order concurrent transactions settling
-- one job, so exactly one of them sees it settled; taking them in one order
-- (tenant, job) keeps two batches from waiting on each other crosswise.
CREATE FUNCTION postings_settle_jobs(tenants text[], job_ids text[]) RETURNS void AS $$
DECLARE
    job record;
BEGIN
    FOR job IN
        SELECT DISTINCT t.tenant_id, t.job_id
        FROM unnest(tenants, job_ids) AS t(tenant_id, job_id)
        ORDER BY t.tenant_id, t.job_id
    LOOP
        PERFORM pg_advisory_xact_lock(hashtext(job.tenant_id || chr(31) || job.job_id));
    END LOOP;

    -- A new statement: it sees what transactions that held the locks committed.
    -- Settled jobs first (an index probe each), and only for those the look
    -- for an announcement earlier in this transaction (a scan of the
    -- unpublished outbox) and the body.
    WITH affected AS MATERIALIZED (
        SELECT DISTINCT t.tenant_id, t.job_id
        FROM unnest(tenants, job_ids) AS t(tenant_id, job_id)),
    settled AS MATERIALIZED (
        SELECT a.tenant_id, a.job_id FROM affected a
        WHERE NOT EXISTS (
            SELECT 1 FROM postings p
             WHERE p.tenant_id = a.tenant_id AND p.job_id = a.job_id
               AND p.status NOT IN ('posted', 'failed', 'withdrawn', 'skipped', 'cancelled'))),
    fresh AS MATERIALIZED (
        SELECT s.tenant_id, s.job_id FROM settled s
        WHERE NOT EXISTS (
            SELECT 1 FROM outbox o
             WHERE o.published_at IS NULL AND o.routing_key = 'job.settled' AND o.created_at = now()
               AND o.body ->> 'tenant_id' = s.tenant_id AND o.body ->> 'job_id' = s.job_id))
    INSERT INTO outbox (routing_key, body)
    SELECT 'job.settled', jsonb_build_object(
               'event', 'job.settled',
               'tenant_id', f.tenant_id,
               'job_id', f.job_id,
               'revision', max(p.revision),
               'occurred_at', now(),
               'postings', jsonb_agg(jsonb_build_object(
                   'board', p.board, 'locale', p.locale, 'status', p.status,
                   'external_id', p.external_id, 'external_url', p.external_url,
                   'reason', CASE WHEN p.status IN ('failed', 'skipped', 'cancelled') THEN p.last_error END)
                   ORDER BY p.board, p.locale))
    FROM fresh f
    JOIN postings p ON p.tenant_id = f.tenant_id AND p.job_id = f.job_id
    GROUP BY f.tenant_id, f.job_id
    ORDER BY f.tenant_id, f.job_id;
END;
$$ LANGUAGE plpgsql;

-- The body of a posting's event, as 0002 wrote it.
CREATE FUNCTION posting_event_body(p postings) RETURNS jsonb AS $$
    SELECT jsonb_build_object(
        'event', 'posting.' || p.status,
        'posting_id', p.id,
        'tenant_id', p.tenant_id,
        'job_id', p.job_id,
        'revision', p.revision,
        'board', p.board,
        'locale', p.locale,
        'status', p.status,
        'external_id', p.external_id,
        'external_url', p.external_url,
        'reason', CASE WHEN p.status IN ('failed', 'skipped', 'cancelled') THEN p.last_error END,
        'occurred_at', now())
$$ LANGUAGE sql STABLE;

-- Transition tables allow one event per trigger, hence one function each.
CREATE FUNCTION postings_inserted_events() RETURNS trigger AS $$
DECLARE
    tenants text[];
    job_ids text[];
BEGIN
    WITH emitted AS (
        INSERT INTO outbox (routing_key, body)
        SELECT 'posting.' || n.status, posting_event_body(n)
        FROM new_rows n
        WHERE n.status IN ('posted', 'failed', 'withdrawn', 'skipped', 'cancelled')
        ORDER BY n.id
        RETURNING body ->> 'tenant_id' AS tenant_id, body ->> 'job_id' AS job_id)
    SELECT array_agg(tenant_id), array_agg(job_id) INTO tenants, job_ids FROM emitted;
    IF tenants IS NOT NULL THEN
        PERFORM postings_settle_jobs(tenants, job_ids);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION postings_updated_events() RETURNS trigger AS $$
DECLARE
    tenants text[];
    job_ids text[];
BEGIN
    WITH emitted AS (
        INSERT INTO outbox (routing_key, body)
        SELECT 'posting.' || n.status, posting_event_body(n)
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.status IN ('posted', 'failed', 'withdrawn', 'skipped', 'cancelled')
          -- Only a change the ATS would see: state, revision or board id.
          AND NOT (o.status = n.status AND o.revision = n.revision
                   AND o.external_id IS NOT DISTINCT FROM n.external_id)
        ORDER BY n.id
        RETURNING body ->> 'tenant_id' AS tenant_id, body ->> 'job_id' AS job_id)
    SELECT array_agg(tenant_id), array_agg(job_id) INTO tenants, job_ids FROM emitted;
    IF tenants IS NOT NULL THEN
        PERFORM postings_settle_jobs(tenants, job_ids);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- AFTER each statement: the transition tables hold every row it touched.
-- (A trigger with transition tables takes no column list; the comparison of
-- old and new rows above does what `UPDATE OF status, revision,
-- external_id` did.)
CREATE TRIGGER postings_inserted_events
    AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION postings_inserted_events();

CREATE TRIGGER postings_updated_events
    AFTER UPDATE ON postings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION postings_updated_events();
