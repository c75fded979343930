"""`python -m tracklab daemon [options]`: the tracklab-daemon shipped in this
package (the same code as the `tracklab-daemon` binary).
`python -m tracklab wandb-shim install|uninstall [--target DIR]`."""

from __future__ import annotations

import sys


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["daemon"]:
        from tracklab._native import run_daemon

        return run_daemon(["tracklab-daemon", *args[1:]])
    if args[:1] == ["wandb-shim"]:
        from tracklab.compat.shim import main as shim_main

        return shim_main(args[1:])
    print(
        "usage: python -m tracklab daemon [tracklab-daemon options]\n"
        "       python -m tracklab wandb-shim install|uninstall [--target DIR]",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
