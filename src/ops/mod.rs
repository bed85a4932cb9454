//! What the people around boardcast see: events to the ATS (an outbox
//! relay), and the HTTP servers: public (feeds, job pages) and ops (API,
//! dashboard, metrics, health).

pub mod charts;
pub mod console;
pub mod dashboard;
pub mod events;
pub mod http;
pub mod metrics;
pub mod preview_page;
pub mod session;
