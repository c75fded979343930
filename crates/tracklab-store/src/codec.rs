//! The run-log frame payload codec lives in `tracklab-proto` (clients that
//! write run logs offline use it without the store); re-exported here.

pub use tracklab_proto::codec::*;
