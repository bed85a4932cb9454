-- Ops pause a board for every replica at once: its postings wait without
-- using attempts until it is resumed. One row per paused board.
CREATE TABLE board_pauses (
    board     text PRIMARY KEY,
    paused_by text NOT NULL,
    reason    text NOT NULL,
    paused_at timestamptz NOT NULL DEFAULT now()
);

-- Each request claimed for a board with request budgets, by any replica: the
-- budgets' sliding windows count these rows (pruned past the longest window).
CREATE TABLE board_requests (
    board   text NOT NULL,
    sent_at timestamptz NOT NULL,
    -- A send (publish, update, withdraw), not a confirmation poll: some
    -- budgets count sends only (Google's daily publish calls).
    send    boolean NOT NULL DEFAULT true
);
CREATE INDEX board_requests_by_board ON board_requests (board, sent_at);
