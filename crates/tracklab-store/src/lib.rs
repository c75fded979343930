//! sled store.
