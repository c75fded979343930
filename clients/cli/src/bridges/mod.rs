//! Bridges to other trackers: export to TensorBoard event files and to an
//! MLflow tracking store, import of wandb's offline `.wandb` run files.

pub mod mlflow;
pub mod tensorboard;
pub mod tfrecord;
pub mod wandb_file;
pub mod wandb_import;
