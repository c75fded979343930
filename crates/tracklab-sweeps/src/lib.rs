//! Hyperparameter search for sweeps, with wandb's sweep configuration
//! (`wandb/sweeps`): parameter distributions, grid, random and Bayesian
//! search, and hyperband early termination. Pure functions of their inputs
//! (randomness comes in as an [`Rng`]), so the daemon's controller is the
//! only place with state and IO.
//!
//! - [`config`]: parsing and checking a sweep configuration (JSON);
//! - [`dist`]: sampling, CDF and inverse CDF of each distribution;
//! - [`grid`], [`random`], [`bayes`]: the next parameters to try;
//! - [`hyperband`]: which running runs to stop.

pub mod bayes;
pub mod config;
pub mod dist;
pub mod grid;
pub mod hyperband;
pub mod random;
mod rng;

pub use config::{Goal, Method, Param, SweepConfig};
pub use rng::Rng;

/// A sweep configuration that cannot be used, naming the field.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("sweep config `{field}`: {message}")]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

pub(crate) fn bad(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

/// Parameter values of one run, by flat name (nested parameters joined
/// with `.`), in name order.
pub type Params = std::collections::BTreeMap<String, serde_json::Value>;
