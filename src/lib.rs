//! boardcast publishes one job ad to many job boards at once.
//!
//! The flow, and the module for each step:
//!
//! ```text
//! RabbitMQ ─▶ intake (parse, validate) ─▶ plan (board × language) ─▶ store (one commit, then ack)
//!         ─▶ dispatch (claim, send, retry, rescue) ─▶ boards (one file per board) ─▶ store
//! ```
//!
//! `sandbox` plays the boards locally; `config` and `telemetry` serve them all;
//! `worker` wires the long-running pieces together for `boardcast run`;
//! `bench` measures a running worker; `preview` shows what a message would
//! send to each board without sending it.

pub mod bench;
pub mod boards;
pub mod config;
pub mod dispatch;
pub mod feeds;
pub mod intake;
pub mod ops;
pub mod plan;
pub mod preview;
pub mod sandbox;
pub mod store;
pub mod telemetry;
pub mod worker;
