-- The console's charts read the last day of attempts by when they finished.
-- Attempts are appended in time order, so a BRIN index is tiny and costs
-- the hot insert path almost nothing.
CREATE INDEX posting_attempts_by_finish ON posting_attempts USING brin (finished_at);
