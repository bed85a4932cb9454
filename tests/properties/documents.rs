//! Every document we serve or send, from hostile ads: well-formed, no panic.
