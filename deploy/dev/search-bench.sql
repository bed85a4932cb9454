-- Fills a migrated database with 50k jobs x 4 postings (200k) to measure the
-- console's search, e.g.:
--   createdb -h 127.0.0.1 -U postgres bc_search
--   (for f in migrations/*.sql; do cat "$f"; done) | psql -h 127.0.0.1 -U postgres bc_search
--   psql -h 127.0.0.1 -U postgres bc_search -f deploy/dev/search-bench.sql
-- then EXPLAIN (ANALYZE) the search (see README "The console"). VACUUM merges the
-- GIN indexes' pending lists, as autovacuum would after a bulk load.
INSERT INTO jobs (tenant_id, job_id, revision, content)
SELECT 'tenant-' || (n % 20), 'JOB-' || n, 1,
       jsonb_build_object(
         'id', 'JOB-' || n,
         'ads', jsonb_build_object(
           'en', jsonb_build_object('title', 'Account manager ' || n,
                                    'description', repeat('We sell things to people. ', 60)),
           'pt', jsonb_build_object('title', 'Gestor de contas ' || n,
                                    'description', repeat('Vendemos coisas a pessoas. ', 60))))
FROM generate_series(1, 50000) AS n;

-- The event triggers would lock every job in one transaction: not what is measured.
SET session_replication_role = replica;
INSERT INTO postings (tenant_id, job_id, board, locale, reference, revision, wanted, status, max_attempts)
SELECT j.tenant_id, j.job_id, b.board, l.locale, left(md5(j.job_id || b.board || l.locale), 20),
       1, 'live', 'posted', 8
FROM jobs j
CROSS JOIN (VALUES ('stepstone'), ('monster')) AS b (board)
CROSS JOIN (VALUES ('en'), ('pt')) AS l (locale);

RESET session_replication_role;

VACUUM ANALYZE jobs;
VACUUM ANALYZE postings;

-- The postings list's search for a text no title holds, as src/store/postings.rs
-- asks it (the filters left out are NULL)...
EXPLAIN (ANALYZE)
SELECT id FROM postings
WHERE id = ANY (ARRAY(SELECT s.id FROM postings_search('nomatchxyz') s))
ORDER BY id DESC LIMIT 50;

-- ...and the predicate it replaced, which tests every posting.
EXPLAIN (ANALYZE)
SELECT id FROM postings
WHERE job_id ILIKE '%nomatchxyz%'
   OR EXISTS (SELECT 1 FROM jobs j
              WHERE j.tenant_id = postings.tenant_id AND j.job_id = postings.job_id
                AND j.content->'ads'->postings.locale->>'title' ILIKE '%nomatchxyz%')
ORDER BY id DESC LIMIT 50;
