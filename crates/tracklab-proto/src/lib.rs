//! The tracklab.v1 wire format: message types and gRPC service stubs generated
//! at build time from `proto/tracklab/v1/*.proto` (the one definition of the
//! protocol). See those files for field meanings.

/// Generated code for package `tracklab.v1`.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    tonic::include_proto!("tracklab.v1");
}

pub mod codec;
mod series;

pub use prost::Message;

/// Protocol version spoken by this crate.
pub const PROTOCOL: &str = "tracklab.v1";
