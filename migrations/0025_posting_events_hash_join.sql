-- The posting events of an UPDATE statement pair its old and new rows by id
-- (0021). The planner takes a transition table for one row, so it paired
-- them with a nested loop: every new row against every old one. A feed
-- fetch moving 320 postings to posted compared 102,400 pairs (122 ms), and
-- the cost grows with the square of the statement's rows (issue 9). Without
-- nested loops the pairing is a hash join: linear.
ALTER FUNCTION postings_updated_events() SET enable_nestloop = off;
-- A function's settings reach the functions it calls: the settle check
-- probes the postings index once per job, a nested loop it keeps.
ALTER FUNCTION postings_settle_jobs(text[], text[]) SET enable_nestloop = on;
