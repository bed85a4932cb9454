-- A claim takes a board's due postings in (next_attempt_at, id) order. With
-- the index on (board, next_attempt_at) only, ties (a whole intake batch
-- shares one now()) left every claim sorting all of the board's due postings
-- to take the first few: 1,007 rows read and sorted to claim 256, and under
-- a burst most claims take a few dozen. With id in the index the scan comes
-- out in claim order and stops at the limit (issue 9).
DROP INDEX postings_due;
CREATE INDEX postings_due ON postings (board, next_attempt_at, id)
    WHERE status IN ('queued', 'retry_scheduled', 'verifying', 'submitted');
