-- Events for the ATS, written in the same transaction as the change they
-- describe (transactional outbox): an event exists if and only if its change
-- committed. A relay publishes them to the `boardcast.events` exchange.
CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    routing_key  text NOT NULL,
    body         jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Every change of a posting into a state the ATS acts on becomes an event,
-- whichever code path made it (dispatch, intake, rescue, ops). When that
-- change leaves no posting of the job revision unsettled, a `job.settled`
-- event follows. The advisory lock orders concurrent completions of one
-- job, so exactly one of them sees the job settled.
CREATE FUNCTION postings_emit_events() RETURNS trigger AS $$
DECLARE
    unsettled integer;
BEGIN
    IF NEW.status NOT IN ('posted', 'failed', 'withdrawn', 'skipped', 'cancelled') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status
       AND OLD.revision = NEW.revision
       AND OLD.external_id IS NOT DISTINCT FROM NEW.external_id THEN
        RETURN NEW;
    END IF;

    INSERT INTO outbox (routing_key, body) VALUES (
        'posting.' || NEW.status,
        jsonb_build_object(
            'event', 'posting.' || NEW.status,
            'posting_id', NEW.id,
            'tenant_id', NEW.tenant_id,
            'job_id', NEW.job_id,
            'revision', NEW.revision,
            'board', NEW.board,
            'locale', NEW.locale,
            'status', NEW.status,
            'external_id', NEW.external_id,
            'external_url', NEW.external_url,
            'reason', CASE WHEN NEW.status IN ('failed', 'skipped', 'cancelled') THEN NEW.last_error END,
            'occurred_at', now()));

    PERFORM pg_advisory_xact_lock(hashtext(NEW.tenant_id || chr(31) || NEW.job_id));
    SELECT count(*) INTO unsettled FROM postings
     WHERE tenant_id = NEW.tenant_id AND job_id = NEW.job_id
       AND status NOT IN ('posted', 'failed', 'withdrawn', 'skipped', 'cancelled');
    -- One statement can settle several postings at once (intake skipping
    -- them all): announce the job once per transaction.
    IF unsettled = 0 AND NOT EXISTS (
        SELECT 1 FROM outbox
         WHERE published_at IS NULL AND routing_key = 'job.settled' AND created_at = now()
           AND body ->> 'tenant_id' = NEW.tenant_id AND body ->> 'job_id' = NEW.job_id)
    THEN
        INSERT INTO outbox (routing_key, body)
        SELECT 'job.settled', jsonb_build_object(
                   'event', 'job.settled',
                   'tenant_id', NEW.tenant_id,
                   'job_id', NEW.job_id,
                   'revision', max(p.revision),
                   'occurred_at', now(),
                   'postings', jsonb_agg(jsonb_build_object(
                       'board', p.board, 'locale', p.locale, 'status', p.status,
                       'external_id', p.external_id, 'external_url', p.external_url,
                       'reason', CASE WHEN p.status IN ('failed', 'skipped', 'cancelled') THEN p.last_error END)
                       ORDER BY p.board, p.locale))
        FROM postings p
        WHERE p.tenant_id = NEW.tenant_id AND p.job_id = NEW.job_id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- AFTER, so a statement that touches many postings of one job sees all of them.
CREATE TRIGGER postings_events
    AFTER INSERT OR UPDATE OF status, revision, external_id ON postings
    FOR EACH ROW EXECUTE FUNCTION postings_emit_events();
