-- Issue 12: a rejected message is kept bounded. At most max_message_bytes of
-- it is stored in `raw`; its full size and SHA-256 say what arrived.
ALTER TABLE rejected_messages
    ADD COLUMN raw_size bigint,
    ADD COLUMN raw_sha256 text;
UPDATE rejected_messages
    SET raw_size = octet_length(raw), raw_sha256 = encode(sha256(raw), 'hex');
ALTER TABLE rejected_messages
    ALTER COLUMN raw_size SET NOT NULL,
    ALTER COLUMN raw_sha256 SET NOT NULL;
