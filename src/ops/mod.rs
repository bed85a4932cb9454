//! What the people around boardcast see: events to the ATS (an outbox
//! relay), and the ops HTTP server (API, metrics, health).

pub mod dashboard;
pub mod events;
pub mod http;
pub mod metrics;
