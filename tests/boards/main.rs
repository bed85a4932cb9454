//! Every board's adapter against its sandbox twin over real HTTP (SMTP for
//! the e-mail board), and its pure rendering against golden files in
//! `tests/golden/<board>/` (`UPDATE_GOLDEN=1` rewrites them). No database
//! or broker: one module per board, one test binary for all of them.
//!
//! `cargo test --test boards <board>::` runs one board's tests.

#[path = "../support/mod.rs"]
mod support;

mod adzuna;
mod bundesagentur;
mod careerbuilder;
mod careerjet;
mod craigslist;
mod flashpost;
mod google_jobs;
mod indeed;
mod indeed_feed;
mod infojobs;
mod jooble;
mod kariera;
mod linkedin;
mod linkedin_feed;
mod monster;
mod reed;
mod stepstone;
mod talent;
mod trovit;
mod vagas;
mod welcome_to_the_jungle;
mod xing;
mod ziprecruiter;
