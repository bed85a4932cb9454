//! Welcome to the Jungle: the adapter against its twin, and golden requests.
