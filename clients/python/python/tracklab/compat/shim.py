"""Installs or removes a `wandb` distribution that is TrackLab.

    python -m tracklab wandb-shim install [--target DIR]
    python -m tracklab wandb-shim uninstall [--target DIR]

It writes `wandb/` (small modules that forward to `tracklab.compat`) and a
`wandb-<version>.dist-info` with `INSTALLER` = `tracklab-shim` into the
environment's site-packages (or DIR), so that `importlib.util.find_spec`,
`importlib.metadata.version("wandb")` and `import wandb` all find it. It
refuses to touch a real wandb installation.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import sysconfig
from pathlib import Path

from tracklab.compat.wandb_api import WANDB_VERSION

INSTALLER = "tracklab-shim"

#: module path -> source of the forwarding module.
MODULES: dict[str, str] = {
    "wandb/__init__.py": (
        '"""TrackLab\'s wandb shim: `import wandb` is TrackLab."""\n'
        "from tracklab.compat.wandb_api import *  # noqa: F403\n"
        "from tracklab.compat.wandb_api import __getattr__, __version__, _attach  # noqa: F401\n"
        "from . import data_types, env, plot, sdk, wandb_run  # noqa: E402,F401\n"
    ),
    "wandb/env.py": (
        "import os\n\n\n"
        "def set_entity(value):\n    os.environ['WANDB_ENTITY'] = value\n\n\n"
        "def set_project(value):\n    os.environ['WANDB_PROJECT'] = value\n"
    ),
    "wandb/wandb_run.py": "from tracklab.sdk.run import Run  # noqa: F401\n",
    "wandb/sdk/__init__.py": "from tracklab.sdk.run import Run  # noqa: F401\n",
    "wandb/sdk/wandb_run.py": "from tracklab.sdk.run import Run  # noqa: F401\n",
    "wandb/sdk/lib/__init__.py": (
        "from tracklab.sdk.disabled import DisabledRun as RunDisabled  # noqa: F401\n"
    ),
    "wandb/sdk/lib/config_util.py": "from tracklab.errors import ConfigError  # noqa: F401\n",
    "wandb/plot.py": "from tracklab.plot import *  # noqa: F403\n",
    "wandb/data_types.py": (
        "from tracklab.data_types import (  # noqa: F401\n"
        "    Audio, Histogram, Html, Image, Plotly, Table,\n"
        ")\n"
    ),
    "wandb/errors.py": (
        "from tracklab.errors import Error, UsageError  # noqa: F401\n"
        "from tracklab.errors import ConfigError as CommError  # noqa: F401\n"
    ),
}


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def _dist_infos(target: Path) -> list[Path]:
    return sorted(target.glob("wandb-*.dist-info"))


def _is_ours(dist_info: Path) -> bool:
    installer = dist_info / "INSTALLER"
    return installer.is_file() and installer.read_text().strip() == INSTALLER


def install(target: Path) -> str:
    theirs = [d for d in _dist_infos(target) if not _is_ours(d)]
    if theirs or (
        (target / "wandb").exists() and not any(_is_ours(d) for d in _dist_infos(target))
    ):
        raise SystemExit(
            f"the real wandb is installed in {target} ({theirs[0].name if theirs else 'wandb/'}); "
            "uninstall it first (pip uninstall wandb) or use another environment"
        )
    uninstall(target, quiet=True)
    files = []
    for rel, source in MODULES.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        files.append(rel)
    dist = target / f"wandb-{WANDB_VERSION}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: wandb\nVersion: {WANDB_VERSION}\n"
        "Summary: TrackLab's wandb shim (import wandb is TrackLab)\n"
    )
    (dist / "INSTALLER").write_text(INSTALLER + "\n")
    (dist / "top_level.txt").write_text("wandb\n")
    record = [f"{f},," for f in files]
    record += [f"{dist.name}/{n},," for n in ("METADATA", "INSTALLER", "top_level.txt", "RECORD")]
    (dist / "RECORD").write_text("\n".join(record) + "\n")
    return f"installed the wandb shim (wandb {WANDB_VERSION} = TrackLab) into {target}"


def uninstall(target: Path, quiet: bool = False) -> str:
    ours = [d for d in _dist_infos(target) if _is_ours(d)]
    if not ours:
        if quiet:
            return ""
        raise SystemExit(f"no TrackLab wandb shim is installed in {target}")
    for d in ours:
        shutil.rmtree(d)
    shutil.rmtree(target / "wandb", ignore_errors=True)
    return f"removed the wandb shim from {target}"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m tracklab wandb-shim")
    p.add_argument("action", choices=["install", "uninstall"])
    p.add_argument("--target", type=Path, default=None, help="default: this environment")
    a = p.parse_args(argv)
    target = a.target or site_packages()
    print(install(target) if a.action == "install" else uninstall(target))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
