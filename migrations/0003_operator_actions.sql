-- Every ops action (retry, cancel, replay), with who asked and what it touched.
CREATE TABLE operator_actions (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor    text NOT NULL,
    action   text NOT NULL,
    filter   jsonb NOT NULL,
    affected integer NOT NULL,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX operator_actions_by_time ON operator_actions (at DESC);
