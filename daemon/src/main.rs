//! The `tracklab-daemon` binary; everything is in the library (`src/lib.rs`).

fn main() {
    std::process::exit(tracklab_daemon::main_with_args(std::env::args_os()));
}
