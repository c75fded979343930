//! Run state and the pure apply function.
