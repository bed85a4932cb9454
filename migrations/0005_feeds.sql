-- Feed boards crawl a document we serve (/feeds/<board>.xml). Every fetch
-- is kept: it is what moves the postings it contained to `posted`, and ops
-- see when each board last came by.
CREATE TABLE feed_fetches (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    board       text NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    http_status integer NOT NULL,   -- 200, or 304 when the crawler had this version
    etag        text NOT NULL,
    items       integer NOT NULL,   -- postings in the document
    client      text                -- the crawler's User-Agent
);
CREATE INDEX feed_fetches_by_board ON feed_fetches (board, fetched_at DESC);

-- What each board's crawler last said of our feed (its crawl report).
CREATE TABLE feed_verdicts (
    board          text PRIMARY KEY,
    crawled_at     timestamptz NOT NULL,
    checked_at     timestamptz NOT NULL DEFAULT now(),
    -- Set when the crawler refused the whole document (not well-formed, wrong root...).
    document_error text,
    accepted       integer NOT NULL DEFAULT 0,
    rejected       integer NOT NULL DEFAULT 0
);
