-- Only the board's own crawler (its credentials, feed token or User-Agent
-- allow-list) moves postings to `posted`; other fetches are kept, marked.
ALTER TABLE feed_fetches ADD COLUMN crawler boolean NOT NULL DEFAULT true;
