//! A stand-in for a training script: starts a run in the daemon of
//! `--data-dir`, logs `loss` at steps 0.., and prints `acked N` lines as
//! records become durable, until killed (tests SIGKILL it) or done.
//!
//! Usage: tracklab-test-logger DATA_DIR RUN_ID STEPS

use std::path::PathBuf;

use tracklab_client::{Run, RunOptions, Target, float, v1};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: tracklab-test-logger DATA_DIR RUN_ID STEPS");
        std::process::exit(2);
    }
    let steps: i64 = args[3].parse().unwrap_or(0);
    let opts = RunOptions {
        run_id: args[2].clone(),
        start: v1::RunStart {
            project: "crash-tests".into(),
            ..Default::default()
        },
        reconnect_timeout: None,
    };
    let mut run = match Run::start(Target::DataDir(PathBuf::from(&args[1])), opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tracklab-test-logger: {e}");
            std::process::exit(1);
        }
    };
    println!("started");
    for step in 0..steps {
        if run
            .log(vec![float("loss", step as f64)], None, None)
            .is_err()
        {
            std::process::exit(1);
        }
        if step % 100 == 99 {
            if run.flush().await.is_err() {
                std::process::exit(1);
            }
            // seq 1 is the run start, so history record for step s is seq s+2.
            println!("acked {}", run.durable_seq());
        }
    }
    match run.finish(0).await {
        Ok(_) => println!("finished"),
        Err(e) => {
            eprintln!("tracklab-test-logger: {e}");
            std::process::exit(1);
        }
    }
}
