//! The intake parser (contract v1) on arbitrary bytes and hostile messages.
