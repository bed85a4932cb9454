//! LinkedIn Job Posting API: the adapter against its twin, and golden requests.
