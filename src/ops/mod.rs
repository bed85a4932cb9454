//! What the people around boardcast see: events to the ATS (an outbox relay).
//! The ops HTTP API, dashboard and metrics will live here too.

pub mod events;
