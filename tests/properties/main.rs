//! Property tests: arbitrary bytes and generated hostile values fed to what
//! reads untrusted input (the intake parser, every board's answer reader)
//! and to what renders documents others parse (feeds, job pages, requests).
//! Nothing may panic, memory stays bounded, every document stays well-formed.
//!
//! CI runs a few hundred cases per property (seconds); a longer run is
//! `PROPTEST_CASES=100000 cargo test --release --test properties`.

#[path = "../support/mod.rs"]
mod support;

mod answers;
mod documents;
mod intake;
