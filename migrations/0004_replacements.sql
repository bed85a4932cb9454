-- Some boards cannot change a field once a posting exists (StepStone's
-- category, a FlashPost target's title). An update that changes one closes
-- the board's posting and publishes a new one under the next generation's
-- reference; the posting's history shows both.
ALTER TABLE postings
    -- 0 for the first posting at the board; + 1 each time it is re-created.
    ADD COLUMN generation integer NOT NULL DEFAULT 0,
    -- Board::fixed_fields of what the board's posting was created with.
    ADD COLUMN fixed_fields text;
