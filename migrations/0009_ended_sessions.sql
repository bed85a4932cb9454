-- Dashboard sessions ended by a logout before their expiry. The cookie is
-- signed and carries its own expiry, so ending one early needs a record that
-- every replica sees; a row is pruned once its session would have expired.
CREATE TABLE ended_sessions (
    session_id uuid PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
