-- The reference a board knows a posting by, as crate::plan::board_reference
-- computes it: ours for generation 0, then the first 18 characters and the
-- generation in two digits. One definition for every query that matches a
-- board's references (crawl reports, job pages).
CREATE FUNCTION board_reference(reference text, generation integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT CASE WHEN generation <= 0 THEN reference
                      ELSE left(reference, 18) || lpad((generation % 100)::text, 2, '0') END $$;
