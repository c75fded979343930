//! Bad arguments exit with 2 and say what to write; unknown runs and a
//! missing daemon exit with 1 and say what to do.

use crate::support::{Spec, log_run, rt, tracklab};
use tracklab_tests::Daemon;

#[test]
fn bad_arguments_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (args, needle) in [
        (&[][..], "Usage: tracklab"),
        (&["show"][..], "<RUN>"),
        (&["compare", "only-one"][..], "2 values"),
        (&["ls", "--state", "sleeping"][..], "possible values"),
        (&["ls", "--filter", "lr"][..], "has no operator"),
        (&["ls", "--filter", "lr>1"][..], "config."),
        (&["ls", "--sort", "bogus"][..], "cannot sort by"),
        (&["runs", "tag", "x"][..], "--add or --remove"),
        (&["frobnicate"][..], "unrecognized subcommand"),
    ] {
        let out = tracklab(dir, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains(needle),
            "{args:?}: {needle:?} not in {}",
            out.stderr
        );
    }
    let help = tracklab(dir, &["--help"]);
    assert_eq!(help.code, 0);
    assert!(
        help.stdout
            .contains("Exit codes: 0 ok, 1 error, 2 usage error, 3")
    );
}

#[test]
fn unknown_runs_and_a_missing_daemon_are_errors_that_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tracklab(tmp.path(), &["ls"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("no tracklab-daemon found"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("tracklab daemon start"),
        "{}",
        out.stderr
    );

    let d = Daemon::start(tmp.path());
    rt().block_on(async {
        for id in ["abc-1", "abc-2"] {
            log_run(d.target(), &Spec::new(id, "p")).await;
        }
    });
    let out = tracklab(tmp.path(), &["show", "nope"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("error: no run matches \"nope\""),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("tracklab ls"), "{}", out.stderr);
    let out = tracklab(tmp.path(), &["show", "abc"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("matches 2 runs"), "{}", out.stderr);
    let out = tracklab(tmp.path(), &["compare", "abc-1", "zzz"]);
    assert_eq!(out.code, 1, "{out:?}");
}
