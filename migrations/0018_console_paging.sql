-- The console pages through one board's postings (often one state of it,
-- "failed StepStone postings") newest first: keyset paging by id walks this
-- index instead of sorting the board's rows.
CREATE INDEX postings_by_board_state_id ON postings (board, status, id DESC);
