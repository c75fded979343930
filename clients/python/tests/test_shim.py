"""The wandb shim: installing it, refusing a real wandb, and the exact call
sequences of Hugging Face's WandbCallback and Lightning's WandbLogger
(transformers 5.24 integration_utils.py, lightning 2.6.6 loggers/wandb.py;
see shared/reference/wandb-integrations.md)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tracklab as wandb
from conftest import Daemon
from tracklab.compat import shim


def run_with_shim(target: Path, data_dir: Path, code: str) -> str:
    env = dict(os.environ, TRACKLAB_DIR=str(data_dir), PYTHONPATH=str(target))
    p = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def test_install_refuses_a_real_wandb_and_uninstalls(tmp_path: Path) -> None:
    print(shim.install(tmp_path))
    assert (tmp_path / "wandb" / "sdk" / "lib" / "config_util.py").is_file()
    assert shim.install(tmp_path)  # idempotent
    assert "removed" in shim.uninstall(tmp_path)
    assert not (tmp_path / "wandb").exists() and not list(tmp_path.glob("wandb-*"))
    real = tmp_path / "wandb-0.19.0.dist-info"
    real.mkdir()
    (real / "INSTALLER").write_text("pip\n")
    with pytest.raises(SystemExit, match="real wandb is installed"):
        shim.install(tmp_path)


def test_module_entry_point(tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "tracklab", "wandb-shim", "install", "--target", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 0 and "installed the wandb shim" in p.stdout, p.stderr


def test_hugging_face_trainer_call_sequence(daemon: Daemon, tmp_path: Path) -> None:
    shim.install(tmp_path / "site")
    out = run_with_shim(
        tmp_path / "site",
        daemon.data_dir,
        """
        import importlib.util, os
        # is_wandb_available()
        assert importlib.util.find_spec("wandb") is not None
        import wandb
        assert hasattr(wandb, "run")
        # WandbCallback.setup
        from wandb.sdk.lib.config_util import ConfigError
        assert wandb.run is None
        wandb.init(project=os.getenv("WANDB_PROJECT", "huggingface"), name="trainer-out",
                   group=None)
        combined = {"learning_rate": 5e-5, "num_train_epochs": 1, "output_dir": "out",
                    "per_device_train_batch_size": 8, "peft_config": None}
        wandb.config.update(combined, allow_val_change=True)
        if getattr(wandb, "define_metric", None):
            wandb.define_metric("train/global_step")
            wandb.define_metric("*", step_metric="train/global_step", step_sync=True)
        wandb.run._label(code="transformers_trainer")
        try:
            wandb.config["model/num_parameters"] = 1234
        except ConfigError:
            pass
        assert wandb.config.get("model/num_parameters") == 1234
        assert "learning_rate" in dict(wandb.config)
        assert vars(wandb.config)["_items"]["num_train_epochs"] == 1
        _ = wandb.run.url
        # on_log, every logging_steps (rewrite_logs: train/ prefix)
        for step in range(1, 6):
            wandb.log({"train/loss": 1.0 / step, "train/learning_rate": 5e-5,
                       "train/epoch": step / 5, "train/global_step": step})
        wandb.log({"eval/loss": 0.4, "train/global_step": 5})
        # on_train_end
        for k, v in {"train_runtime": 1.5, "train_loss": 0.5, "total_flos": 10.0}.items():
            wandb.run.summary[k] = v
        meta = {k: v for k, v in dict(wandb.summary).items()
                if isinstance(v, (int, float)) and not k.startswith("_")}
        assert meta["train_runtime"] == 1.5
        # on_predict: no step key
        wandb.log({"test/accuracy": 0.9})
        run_id = wandb.run.id
        wandb.finish()
        print(run_id)
        """,
    )
    r = wandb.Api().run(out.strip())
    assert r.project == "huggingface" and r.name == "trainer-out" and r.state == "finished"
    assert r.config["model/num_parameters"] == 1234
    rows = list(r.scan_history(keys=["train/loss", "train/global_step"]))
    assert [x["train/global_step"] for x in rows] == [1, 2, 3, 4, 5]
    # step_sync: the eval row carries the step metric.
    (ev,) = list(r.scan_history(keys=["eval/loss"]))
    assert ev["eval/loss"] == 0.4
    assert r.summary["train_loss"] == 0.5 and r.summary["test/accuracy"] == 0.9


def test_lightning_wandb_logger_call_sequence(daemon: Daemon, tmp_path: Path) -> None:
    shim.install(tmp_path / "site")
    out = run_with_shim(
        tmp_path / "site",
        daemon.data_dir,
        f"""
        import importlib.metadata
        # RequirementCache("wandb>=0.12.10")
        version = importlib.metadata.version("wandb")
        assert tuple(int(x) for x in version.split(".")[:3]) >= (0, 12, 10), version
        import wandb
        from wandb.sdk.lib import RunDisabled
        from wandb.wandb_run import Run
        # WandbLogger.experiment
        assert wandb.run is None
        run = wandb.init(name="lit", project="lightning_logs", dir={str(tmp_path)!r},
                         id="lit-run", resume="allow", anonymous=None)
        if isinstance(run, (Run, RunDisabled)) and getattr(run, "define_metric", None):
            run.define_metric("trainer/global_step")
            run.define_metric("*", step_metric="trainer/global_step", step_sync=True)
        assert getattr(run, "_attach_id", None) is None
        wandb.require("service")
        assert hasattr(wandb, "_attach")
        # log_hyperparams, watch, log_metrics
        run.config.update({{"lr": 0.02, "batch_size": 32}}, allow_val_change=True)
        run.watch(None, log="gradients", log_freq=100, log_graph=True)
        for step in range(3):
            run.log(dict({{"train_loss": 1.0 - step * 0.1}}, **{{"trainer/global_step": step}}))
        run.log({{"val_loss": 0.5, "trainer/global_step": 2}})
        print(run.id)
        wandb.finish()
        """,
    )
    r = wandb.Api().run(out.strip())
    assert (r.name, r.project, r.state) == ("lit", "lightning_logs", "finished")
    assert r.config == {"lr": 0.02, "batch_size": 32}
    rows = list(r.scan_history(keys=["train_loss", "trainer/global_step"]))
    assert [x["trainer/global_step"] for x in rows] == [0, 1, 2]
    assert r.summary["val_loss"] == 0.5


def test_media_plots_and_sweeps_through_the_shim(daemon: Daemon, tmp_path: Path) -> None:
    target = tmp_path / "shim"
    shim.install(target)
    out = run_with_shim(
        target,
        daemon.data_dir,
        """
        import numpy as np
        import wandb
        import wandb.plot
        from wandb.data_types import Image
        run = wandb.init(project="shim-media", id="sm1")
        table = wandb.Table(columns=["x", "y"], data=[[1, 2], [2, 4]])
        wandb.log({"img": Image(np.zeros((4, 4), dtype=np.uint8)),
                   "chart": wandb.plot.line(table, "x", "y", title="t"),
                   "h": wandb.Histogram([1, 2, 3])})
        wandb.finish()
        sid = wandb.sweep({"method": "grid", "parameters": {"a": {"values": [1, 2]}}},
                          project="shim-media")
        wandb.agent(sid, function=lambda: wandb.init() and wandb.log({"a2": wandb.config.a * 2}))
        print(sorted(r.summary["a2"] for r in wandb.Api().runs("shim-media") if r.sweep_name))
        """,
    )
    assert out.strip().splitlines()[-1] == "[2, 4]", out
    row = list(wandb.Api().run("shim-media/sm1").scan_history())[0]
    assert row["img"]["_type"] == "image-file" and row["chart"]["_type"] == "plot"
