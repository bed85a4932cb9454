-- When the board first accepted the posting: LinkedIn's listedAt and Indeed's
-- datePublished are the first publication, not the time of each update.
-- A replacement (a new posting at the board) starts it again.
ALTER TABLE postings ADD COLUMN first_published_at timestamptz;
-- Postings already at a board: their creation is the closest we know.
UPDATE postings SET first_published_at = created_at WHERE sent_hash IS NOT NULL;
