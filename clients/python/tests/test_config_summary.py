"""Config and summary semantics (wandb's wandb_config.py / wandb_summary.py)."""

from __future__ import annotations

import argparse

import pytest
import tracklab as wandb


def test_config_access_update_and_locking(daemon: object) -> None:
    ns = argparse.Namespace(lr=0.1, epochs=3)
    run = wandb.init(project="p", config=ns)
    assert run.config.lr == 0.1 and run.config["epochs"] == 3
    assert wandb.config is run.config
    run.config.update({"bs": 32})
    run.config["opt"] = "adam"
    run.config.dropout = 0.5
    run.config.update({"lr": 0.1})  # same value: fine
    with pytest.raises(wandb.ConfigError, match="'lr' from 0.1 to 0.2"):
        run.config.update({"lr": 0.2})
    with pytest.raises(wandb.ConfigError):
        run.config["epochs"] = 4
    run.config.update({"lr": 0.2}, allow_val_change=True)
    run.config.setdefaults({"lr": 9.0, "seed": 7})
    run.config["_private"] = 1
    assert "_private" not in run.config.keys() and "_private" not in run.config.as_dict()
    assert "_private" in run.config and run.config["_private"] == 1
    assert dict(run.config.items())["seed"] == 7
    del run.config["opt"]
    with pytest.raises(AttributeError):
        _ = run.config.missing
    with pytest.raises(TypeError, match="not a string"):
        run.config.update({1: 2})
    with pytest.raises(TypeError, match="not a string"):
        run.config.update({"m": {(1, 2): "tuple key"}})
    # nested number keys become their JSON text, as wandb stores them
    run.config.update({"id2label": {0: "neg", 1: "pos"}, "w": {1.5: True, None: 0}})
    assert run.config["id2label"] == {"0": "neg", "1": "pos"}
    run.finish()
    cfg = wandb.Api().run(run.id).config
    assert cfg == {
        "lr": 0.2,
        "epochs": 3,
        "bs": 32,
        "dropout": 0.5,
        "seed": 7,
        "_private": 1,
        "id2label": {"0": "neg", "1": "pos"},
        "w": {"1.5": True, "null": 0},
    }


def test_summary_reads_what_was_logged_and_takes_writes(daemon: object) -> None:
    run = wandb.init(project="p")
    for i in range(5):
        run.log({"loss": 1.0 / (i + 1), "nested": {"acc": i}})
    assert run.summary["loss"] == 0.2
    assert run.summary["nested"] == {"acc": 4}
    run.summary["best"] = 0.1
    run.summary.update({"final": {"score": 3}})
    assert run.summary["best"] == 0.1 and run.summary.final == {"score": 3}
    del run.summary["best"]
    assert "best" not in run.summary
    assert "loss" in run.summary.keys()
    run.finish()
    s = wandb.Api().run(run.id).summary
    assert "best" not in s and s["final"] == {"score": 3}


def test_before_init_module_config_raises() -> None:
    if wandb.run is None:
        with pytest.raises(wandb.Error, match="init"):
            wandb.config.update({"a": 1})


def test_a_config_update_that_cannot_be_stored_changes_nothing(daemon: object) -> None:
    class Opaque:
        pass

    run = wandb.init(project="p", config={"net": {"layers": 2}, "lr": 0.1})
    with pytest.raises(TypeError, match="'net.layers'"):
        run.config.update({"net": {"layers": Opaque()}, "lr": 0.2}, allow_val_change=True)
    assert run.config.net == {"layers": 2} and run.config.lr == 0.1
    run.finish()
    assert wandb.Api().run(run.id).config == {"net": {"layers": 2}, "lr": 0.1}
