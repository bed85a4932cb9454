//! StepStone JobFeed: the adapter against its twin, and golden requests.
