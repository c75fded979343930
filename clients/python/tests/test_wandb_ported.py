"""wandb's own config, summary and define_metric tests, ported to TrackLab.

Sources (wandb/wandb): tests/unit_tests/test_wandb_config.py,
tests/unit_tests/test_wandb_summary.py, tests/unit_tests/test_wandb_define_metric.py,
tests/system_tests/test_core/test_metric_full.py, tests/system_tests/test_core/test_wandb_run.py,
and the rules in wandb/sdk/wandb_config.py, wandb/sdk/wandb_summary.py, wandb/sdk/wandb_run.py
(`_define_metric`) and core/internal/runsummary, core/internal/runmetric.

wandb's unit tests check the records a mocked run sends; here every run goes to a real daemon
and what wandb's backend would hold is read back with `wandb.Api()`. Where TrackLab differs
from wandb the test is kept and marked `xfail(strict=True)` with the difference as reason.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import enum
import math
from pathlib import Path
from typing import Any

import pytest
import tracklab as wandb

INTERNAL = ("_runtime", "_timestamp")


def api_run(run_id: str) -> Any:
    return wandb.Api().run(run_id)


def history(run_id: str, keys: list[str] | None = None) -> list[dict[str, Any]]:
    """Every history row, without `_runtime`/`_timestamp` (they depend on the clock)."""
    rows = api_run(run_id).scan_history(keys=keys)
    return [{k: v for k, v in row.items() if k not in INTERNAL} for row in rows]


def metric_def(run_id: str, name: str) -> dict[str, Any]:
    """The stored definition of one metric (TrackLab's Api keeps them in the run dict)."""
    (found,) = [m for m in api_run(run_id)._d["metrics"] if m["name"] == name]
    return found


# ---------------------------------------------------------------------------
# config: tests/unit_tests/test_wandb_config.py, wandb/sdk/wandb_config.py
# ---------------------------------------------------------------------------


def test_attrib_set(daemon: object) -> None:
    """wandb test_wandb_config.py::test_attrib_set."""
    run = wandb.init(project="p")
    run.config.this = 2
    assert run.config.this == 2
    assert dict(run.config) == {"this": 2}
    run.finish()
    assert api_run(run.id).config == {"this": 2}


def test_item_set(daemon: object) -> None:
    """wandb wandb_config.py Config.__setitem__ (item form of test_attrib_set)."""
    run = wandb.init(project="p")
    run.config["this"] = 2
    assert run.config["this"] == 2 and run.config.this == 2
    assert "this" in run.config
    assert dict(run.config) == {"this": 2}
    run.finish()
    assert api_run(run.id).config == {"this": 2}


def test_update(daemon: object) -> None:
    """wandb test_wandb_config.py::test_update."""
    run = wandb.init(project="p")
    run.config.update(dict(this=8))
    assert dict(run.config) == dict(this=8)
    run.config.update(dict(that=4))
    assert dict(run.config) == dict(this=8, that=4)
    run.finish()
    assert api_run(run.id).config == dict(this=8, that=4)


def test_setdefaults(daemon: object) -> None:
    """wandb test_wandb_config.py::test_setdefaults."""
    run = wandb.init(project="p")
    run.config.update(dict(this=8))
    run.config.setdefaults(dict(extra=2, another=4))
    assert dict(run.config) == dict(this=8, extra=2, another=4)
    run.finish()
    assert api_run(run.id).config == dict(this=8, extra=2, another=4)


def test_setdefaults_existing(daemon: object) -> None:
    """wandb test_wandb_config.py::test_setdefaults_existing."""
    run = wandb.init(project="p")
    run.config.update(dict(this=8))
    run.config.setdefaults(dict(extra=2, this=4))  # an existing key keeps its value
    assert dict(run.config) == dict(this=8, extra=2)
    run.finish()
    assert api_run(run.id).config == dict(this=8, extra=2)


def test_config_getattr_default(daemon: object) -> None:
    """wandb test_wandb_config.py::test_config_getattr_default (get default, AttributeError)."""
    run = wandb.init(project="p")
    assert run.config.get("a", 1) == 1
    assert run.config.get("a") is None
    with pytest.raises(AttributeError):
        _ = run.config.a
    assert not hasattr(run.config, "a")


def test_config_getattr_error_message(daemon: object) -> None:
    """wandb test_wandb_config.py::test_config_getattr_default (its `match=` on the message)."""
    run = wandb.init(project="p")
    with pytest.raises(AttributeError, match="object has no attribute 'a'"):
        _ = run.config.a


def test_load_config_default(
    daemon: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """wandb test_wandb_config.py::test_load_config_default."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config-defaults.yaml").write_text(
        "epochs:\n  value: 32\nsize_batch:\n  value: 32\n"
    )
    run = wandb.init(project="p")
    assert dict(run.config) == dict(epochs=32, size_batch=32)
    run.finish()
    assert api_run(run.id).config == dict(epochs=32, size_batch=32)


def test_config_change_requires_allow_val_change(daemon: object) -> None:
    """wandb wandb_config.py Config._sanitize: a changed value raises ConfigError."""
    assert issubclass(wandb.ConfigError, wandb.Error)
    run = wandb.init(project="p", config={"lr": 0.1, "epochs": 3})
    run.config.update({"lr": 0.1})  # the same value is no change
    run.config.lr = 0.1
    run.config["lr"] = 0.1
    with pytest.raises(wandb.ConfigError):
        run.config.update({"lr": 0.2})
    with pytest.raises(wandb.ConfigError):
        run.config.lr = 0.3
    with pytest.raises(wandb.ConfigError):
        run.config["epochs"] = 4
    assert dict(run.config) == {"lr": 0.1, "epochs": 3}
    run.config.update({"lr": 0.2}, allow_val_change=True)
    assert run.config.lr == 0.2
    run.finish()
    assert api_run(run.id).config == {"lr": 0.2, "epochs": 3}


def test_config_update_with_config_error_changes_nothing(daemon: object) -> None:
    """wandb wandb_config.py Config._update (_sanitize_dict runs before _items.update)."""
    run = wandb.init(project="p", config={"lr": 0.1})
    with pytest.raises(wandb.ConfigError):
        run.config.update({"new": 1, "lr": 0.2})
    assert dict(run.config) == {"lr": 0.1}
    run.finish()
    assert api_run(run.id).config == {"lr": 0.1}


def test_config_keys_strip_dashes(daemon: object) -> None:
    """wandb wandb_config.py Config._sanitize: keys have leading/trailing '-' stripped."""
    run = wandb.init(project="p", config={"--batch-size": 8})
    run.config.update({"--lr--": 0.1})
    run.config["-seed"] = 7
    run.config.setdefaults({"--extra": 1})
    assert dict(run.config) == {"batch-size": 8, "lr": 0.1, "seed": 7, "extra": 1}
    assert run.config["batch-size"] == 8 and run.config.lr == 0.1
    run.finish()
    assert api_run(run.id).config == {"batch-size": 8, "lr": 0.1, "seed": 7, "extra": 1}


def test_config_private_keys_hidden(daemon: object) -> None:
    """wandb wandb_config.py Config.keys/items: `_`-prefixed keys are hidden."""
    run = wandb.init(project="p", config={"lr": 0.1})
    run.config["_private"] = 1
    run.config.update({"_other": 2})
    assert run.config.keys() == ["lr"]
    assert run.config.items() == [("lr", 0.1)]
    assert dict(run.config) == {"lr": 0.1}
    assert "_private" in run.config and run.config["_private"] == 1
    assert run.config.get("_other") == 2
    run.finish()
    # wandb's public Api hides only its own `_wandb`/`wandb_version` keys.
    assert api_run(run.id).config == {"lr": 0.1, "_private": 1, "_other": 2}


def test_config_as_dict(daemon: object) -> None:
    """wandb wandb_config.py Config.as_dict (returns dict(self))."""
    run = wandb.init(project="p", config={"lr": 0.1, "net": {"layers": 2}})
    run.config["_private"] = 1
    assert run.config.as_dict() == {"lr": 0.1, "net": {"layers": 2}}


def test_config_nested_values(daemon: object) -> None:
    """wandb wandb_config.py docstring 'Nested values' and test_nested_config_overwrite setup."""
    run = wandb.init(project="p", config={"train": {"epochs": 4}})
    run.config.update({"path": {"to": {"override": "baz", "keep": "baf"}}})
    assert run.config["train"]["epochs"] == 4
    assert run.config.path["to"]["keep"] == "baf"
    with pytest.raises(wandb.ConfigError):
        run.config.update({"path": {"to": {"override": "bar"}}})
    assert dict(run.config) == {
        "train": {"epochs": 4},
        "path": {"to": {"override": "baz", "keep": "baf"}},
    }
    run.finish()
    assert api_run(run.id).config == {
        "train": {"epochs": 4},
        "path": {"to": {"override": "baz", "keep": "baf"}},
    }


def test_nested_config_update_replaces_value(daemon: object) -> None:
    """wandb test_wandb_config.py::test_nested_config_overwrite, with update() not merge_locked."""
    run = wandb.init(project="p")
    run.config.update({"path": {"to": {"override": "baz", "keep": "baf"}}})
    run.config.update({"path": {"to": {"override": "bar"}}}, allow_val_change=True)
    assert dict(run.config) == {"path": {"to": {"override": "bar"}}}
    run.finish()
    assert api_run(run.id).config == {"path": {"to": {"override": "bar"}}}


def test_config_from_argparse_namespace(daemon: object) -> None:
    """wandb wandb_helper.parse_config / wandb_config.py docstring 'Argparse flags'."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-b", "--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args([])
    run = wandb.init(project="p", config=args)
    assert dict(run.config) == {"batch_size": 8, "lr": 0.1}
    run.config.update(argparse.Namespace(epochs=3))
    assert run.config.epochs == 3
    with pytest.raises(wandb.ConfigError):
        run.config.update(argparse.Namespace(lr=0.5))
    run.finish()
    assert api_run(run.id).config == {"batch_size": 8, "lr": 0.1, "epochs": 3}


def test_module_config_is_run_config(daemon: object) -> None:
    """wandb wandb_config.py docstring: wandb.config is the current run's config."""
    run = wandb.init(project="p", config={"a": 1})
    assert wandb.config is run.config
    wandb.config.update({"b": 2})
    wandb.config.c = 3
    assert dict(run.config) == {"a": 1, "b": 2, "c": 3}
    run.finish()
    assert api_run(run.id).config == {"a": 1, "b": 2, "c": 3}


def test_init_config_exclude_and_include_keys(daemon: object) -> None:
    """wandb wandb_helper.parse_config(exclude=, include=) used by init's config_*_keys."""
    run = wandb.init(project="p", config={"a": 1, "b": 2, "c": 3}, config_exclude_keys=["b"])
    assert dict(run.config) == {"a": 1, "c": 3}
    run.finish()
    assert api_run(run.id).config == {"a": 1, "c": 3}
    run = wandb.init(project="p", config={"a": 1, "b": 2, "c": 3}, config_include_keys=["b"])
    assert dict(run.config) == {"b": 2}
    run.finish()
    assert api_run(run.id).config == {"b": 2}


def test_config_values_json_friendly(daemon: object) -> None:
    """wandb wandb_config.py Config._sanitize -> wandb/util.py json_friendly_val."""
    np = pytest.importorskip("numpy")
    run = wandb.init(project="p")
    run.config.update({"shape": (1, 2), "tags": {"x"}, "n": np.int64(3), "f": np.float32(0.5)})
    assert run.config.shape == [1, 2]
    assert run.config.tags == ["x"]
    assert type(run.config.n) is int and run.config.n == 3
    assert type(run.config.f) is float and run.config.f == 0.5
    run.finish()
    assert api_run(run.id).config == {"shape": [1, 2], "tags": ["x"], "n": 3, "f": 0.5}


@dataclasses.dataclass
class _Opt:
    lr: float = 0.1


class _Color(enum.Enum):
    RED = 1


def test_config_values_json_friendly_objects(daemon: object) -> None:
    """wandb wandb_config.py Config._sanitize -> wandb/util.py json_friendly_val."""
    run = wandb.init(project="p")
    run.config.opt = _Opt()
    run.config.color = _Color.RED
    run.config.day = datetime.date(2020, 1, 2)
    assert run.config.opt == {"lr": 0.1}
    assert run.config.color == "RED"
    assert run.config.day == "2020-01-02"
    run.finish()
    assert api_run(run.id).config == {"opt": {"lr": 0.1}, "color": "RED", "day": "2020-01-02"}


# ---------------------------------------------------------------------------
# summary: tests/unit_tests/test_wandb_summary.py, wandb/sdk/wandb_summary.py,
# tests/system_tests/test_core/test_wandb_run.py
# ---------------------------------------------------------------------------


def test_attrib_get(daemon: object) -> None:
    """wandb test_wandb_summary.py::test_attrib_get."""
    run = wandb.init(project="p")
    run.summary["this"] = 2
    assert run.summary.this == 2


def test_item_get(daemon: object) -> None:
    """wandb test_wandb_summary.py::test_item_get."""
    run = wandb.init(project="p")
    run.summary["this"] = 2
    assert run.summary["this"] == 2
    assert run.summary.get("this") == 2
    assert run.summary.get("missing", 5) == 5
    assert "this" in run.summary and "this" in run.summary.keys()


def test_cb_attrib(daemon: object) -> None:
    """wandb test_wandb_summary.py::test_cb_attrib."""
    run = wandb.init(project="p")
    run.summary.this = 2
    assert run.summary["this"] == 2
    run.finish()
    assert api_run(run.id).summary["this"] == 2


def test_cb_item(daemon: object) -> None:
    """wandb test_wandb_summary.py::test_cb_item."""
    run = wandb.init(project="p")
    run.summary["this"] = 2
    run.finish()
    assert api_run(run.id).summary["this"] == 2


def test_cb_update(daemon: object) -> None:
    """wandb test_wandb_summary.py::test_cb_update and test_wandb_run.py::test_summary_update."""
    run = wandb.init(project="p")
    run.summary.update(dict(this=1, that=2))
    assert run.summary["this"] == 1 and run.summary["that"] == 2
    run.finish()
    s = api_run(run.id).summary
    assert s["this"] == 1 and s["that"] == 2


def test_update_with_nested_dict(daemon: object) -> None:
    """wandb test_wandb_summary.py::test_update_with_nested_dict."""
    run = wandb.init(project="p")
    run.summary.update(dict(that=dict(nest1=dict(nest2=4, nest2b=5))))
    assert run.summary["that"]["nest1"]["nest2"] == 4
    assert dict(run.summary["that"]["nest1"]) == dict(nest2=4, nest2b=5)
    run.summary["other"] = dict(a=dict(b=1))
    run.finish()
    s = api_run(run.id).summary
    assert s["that"] == dict(nest1=dict(nest2=4, nest2b=5))
    assert s["other"] == dict(a=dict(b=1))


def test_summary_set_replaces_nested_value(daemon: object) -> None:
    """wandb wandb_summary.py SummaryDict.update (item key (k,), whole value)."""
    run = wandb.init(project="p")
    run.summary["k"] = {"a": 1}
    run.summary.update({"k": {"b": 2}})
    run.log({"q": {"a": 1, "b": 2}})
    run.summary["q"] = {"c": 3}
    assert dict(run.summary["k"]) == {"b": 2}
    assert dict(run.summary["q"]) == {"c": 3}
    run.finish()
    s = api_run(run.id).summary
    assert s["k"] == {"b": 2} and s["q"] == {"c": 3}


def test_cb_item_nested(daemon: object) -> None:
    """wandb test_wandb_summary.py::test_cb_item_nested."""
    run = wandb.init(project="p")
    run.summary["that"] = dict(nest1=dict(nest2=4, nest2b=5))
    run.summary["that"]["nest1"]["nest2"] = 3
    run.summary["that"]["nest1a"] = dict(nest2c=9)
    assert run.summary["that"]["nest1"]["nest2"] == 3
    run.finish()
    assert api_run(run.id).summary["that"] == dict(
        nest1=dict(nest2=3, nest2b=5), nest1a=dict(nest2c=9)
    )


def test_cb_delete_item(daemon: object) -> None:
    """wandb test_wandb_summary.py::test_cb_delete_item (top-level key)."""
    run = wandb.init(project="p")
    run.summary["this"] = 3
    run.summary["keep"] = 1
    del run.summary["this"]
    assert "this" not in run.summary
    run.finish()
    s = api_run(run.id).summary
    assert "this" not in s and s["keep"] == 1


def test_summary_remove_nested(daemon: object) -> None:
    """wandb test_wandb_run.py::test_summary_remove_nested / test_cb_delete_item (nested)."""
    run = wandb.init(project="p")
    run.log({"a": {"b": 2}})
    run.summary["a"]["c"] = 3
    del run.summary["a"]["b"]
    run.finish()
    assert api_run(run.id).summary["a"] == {"c": 3}


def test_cb_delete_attrib(daemon: object) -> None:
    """wandb wandb_summary.py SummaryDict.__delattr__."""
    run = wandb.init(project="p")
    run.summary["this"] = 3
    del run.summary.this
    assert "this" not in run.summary
    run.finish()
    assert "this" not in api_run(run.id).summary


def test_summary_delete_dotted_key(daemon: object) -> None:
    """wandb wandb_summary.py SummaryDict.__delattr__ (item.key = (key,))."""
    run = wandb.init(project="p")
    run.summary["a.b"] = 1
    assert run.summary["a.b"] == 1
    del run.summary["a.b"]
    assert "a.b" not in run.summary
    run.finish()
    assert "a.b" not in api_run(run.id).summary


def test_summary_remove(daemon: object) -> None:
    """wandb test_wandb_run.py::test_summary_remove."""
    run = wandb.init(project="p")
    run.log({"a": 2})
    run.log({"b": {"c": 1}})
    del run.summary["a"]
    del run.summary["b"]
    run.finish()
    s = api_run(run.id).summary
    assert "a" not in s and "b" not in s


def test_summary_from_history(daemon: object) -> None:
    """wandb test_wandb_run.py::test_summary_from_history (a later log wins)."""
    run = wandb.init(project="p")
    run.summary.update({"a": 1})
    run.log({"a": 2})
    assert run.summary["a"] == 2
    run.finish()
    assert api_run(run.id).summary["a"] == 2


def test_summary_is_last_logged_value(daemon: object) -> None:
    """wandb wandb_summary.py Summary docstring: a metric's summary is its last value."""
    run = wandb.init(project="p")
    for i in range(5):
        wandb.log({"loss": 1.0 / (i + 1), "acc": i, "name": f"s{i}"})
    assert wandb.summary is run.summary
    assert run.summary["loss"] == 0.2 and run.summary.acc == 4 and run.summary["name"] == "s4"
    assert run.summary["_step"] == 4
    run.finish()
    s = api_run(run.id).summary
    assert s["loss"] == 0.2 and s["acc"] == 4 and s["name"] == "s4" and s["_step"] == 4


def test_summary_explicit_set_after_log(daemon: object) -> None:
    """wandb core runsummary metricSummary.SetExplicit: an explicit value resets aggregates."""
    run = wandb.init(project="p")
    run.define_metric("v", summary="min")
    run.define_metric("w", summary="max")
    run.log({"v": 5, "w": 1})
    run.log({"v": 9, "w": 2})
    assert run.summary["v"] == {"min": 5}
    run.summary["v"] = 99
    run.summary["w"] = 0
    assert run.summary["v"] == 99
    run.log({"w": 3})  # after SetExplicit the summary is the latest value again
    run.finish()
    s = api_run(run.id).summary
    assert s["v"] == 99 and s["w"] == 3


def test_metric_nested_default(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_nested_default."""
    run = wandb.init(project="p")
    run.log(dict(this=dict(that=3)))
    run.log(dict(this=dict(that=2)))
    run.log(dict(this=dict(that=4, other=1)))
    run.log(dict(this=dict(that=5)))
    run.finish()
    assert api_run(run.id).summary["this"] == {"that": 5, "other": 1}


# ---------------------------------------------------------------------------
# define_metric: tests/unit_tests/test_wandb_define_metric.py,
# tests/system_tests/test_core/test_metric_full.py
# ---------------------------------------------------------------------------


def test_metric_none(daemon: object) -> None:
    """wandb test_wandb_define_metric.py::test_metric_none (two logs, two rows)."""
    run = wandb.init(project="p")
    run.log(dict(this=1))
    run.log(dict(that=2))
    run.finish()
    assert history(run.id) == [{"_step": 0, "this": 1}, {"_step": 1, "that": 2}]


def test_metric_name(daemon: object) -> None:
    """wandb test_wandb_define_metric.py::test_metric_name (and the Metric attributes checked
    by test_metric_hidden/goal/step_metric/step_sync/summary)."""
    run = wandb.init(project="p")
    m = run.define_metric("metric")
    assert m.name == "metric"
    m = run.define_metric("m2", step_metric="globalstep", hidden=True, goal="maximize")
    assert m.step_metric == "globalstep" and m.step_sync and m.hidden is True
    assert m.goal == "maximize"
    m = run.define_metric("m3", summary="min,max")
    assert m.summary == ("min", "max")


def test_metric_run_metric_obj(daemon: object) -> None:
    """wandb test_wandb_define_metric.py::test_metric_run_metric_obj."""
    run = wandb.init(project="p")
    metric_1 = run.define_metric("glob")
    metric_2 = run.define_metric("val", step_metric=metric_1)
    assert metric_2.step_metric == "glob"
    run.log({"glob": 4})
    run.log({"val": 1})
    run.finish()
    assert history(run.id)[1] == {"_step": 1, "val": 1, "glob": 4}


def test_metric_hidden(daemon: object) -> None:
    """wandb test_wandb_define_metric.py::test_metric_hidden: a hidden metric is still logged."""
    run = wandb.init(project="p")
    run.define_metric("mystep", hidden=True)
    run.log({"mystep": 1, "val": 2})
    run.log({"mystep": 2, "val": 3})
    run.finish()
    assert history(run.id) == [
        {"_step": 0, "mystep": 1, "val": 2},
        {"_step": 1, "mystep": 2, "val": 3},
    ]
    assert api_run(run.id).summary["mystep"] == 2
    assert metric_def(run.id, "mystep")["hidden"] is True


def test_metric_goal(daemon: object) -> None:
    """wandb test_wandb_define_metric.py::test_metric_goal: a later goal replaces the earlier."""
    run = wandb.init(project="p")
    run.define_metric("glob", goal="maximize")
    run.define_metric("glob", goal="minimize")
    for v in (1, 8, 3):
        run.log({"glob": v})
    run.finish()
    # goal only steers the deprecated "best" summary: the summary stays the last value
    assert api_run(run.id).summary["glob"] == 3
    assert metric_def(run.id, "glob")["goal"] == "minimize"


def test_metric_goal_invalid(daemon: object) -> None:
    """wandb test_wandb_define_metric.py::test_metric_goal (goal="nothing" raises wandb.Error)."""
    run = wandb.init(project="p")
    with pytest.raises(wandb.Error):
        run.define_metric("m2", goal="nothing")


def test_metric_step_metric(daemon: object) -> None:
    """wandb test_wandb_define_metric.py::test_metric_step_metric: redefining without a step
    metric keeps the earlier one (core runmetric definedMetric.With)."""
    run = wandb.init(project="p")
    run.define_metric("metric", step_metric="globalstep")
    run.define_metric("metric")
    run.log({"globalstep": 10, "metric": 1})
    run.log({"metric": 2})
    run.finish()
    assert history(run.id) == [
        {"_step": 0, "globalstep": 10, "metric": 1},
        {"_step": 1, "globalstep": 10, "metric": 2},
    ]


def test_metric_step_sync(daemon: object) -> None:
    """wandb test_wandb_define_metric.py::test_metric_step_sync: step_sync defaults to True
    with a step metric, and False turns it off."""
    run = wandb.init(project="p")
    run.define_metric("metric", step_metric="globalstep", step_sync=True)
    run.define_metric("metric2", step_metric="globalstep")
    run.define_metric("metric3", step_metric="globalstep", step_sync=False)
    run.log({"metric": 1})  # before any globalstep: synced as 0
    run.log({"globalstep": 7})
    run.log({"metric": 2})
    run.log({"metric2": 3})
    run.log({"metric3": 4})
    run.finish()
    assert history(run.id) == [
        {"_step": 0, "metric": 1, "globalstep": 0},
        {"_step": 1, "globalstep": 7},
        {"_step": 2, "metric": 2, "globalstep": 7},
        {"_step": 3, "metric2": 3, "globalstep": 7},
        {"_step": 4, "metric3": 4},
    ]


def _gen_metric_sync_step(run: Any) -> None:
    run.log(dict(val=2, val2=5, mystep=1))
    run.log(dict(mystep=3))
    run.log(dict(val=8))
    run.log(dict(val2=8))
    run.log(dict(val=3, mystep=5))


def test_metric_no_sync_step(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_no_sync_step."""
    run = wandb.init(project="p")
    run.define_metric("val", summary="min", step_metric="mystep", step_sync=False)
    _gen_metric_sync_step(run)
    run.finish()
    s = api_run(run.id).summary
    assert s["val"] == {"min": 2} and s["val2"] == 8 and s["mystep"] == 5
    h = history(run.id)
    assert h[0]["val"] == 2 and h[0]["mystep"] == 1
    assert h[1]["mystep"] == 3
    assert h[2]["val"] == 8 and "mystep" not in h[2]
    assert h[4]["val"] == 3 and h[4]["mystep"] == 5


def test_metric_sync_step(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_sync_step."""
    run = wandb.init(project="p")
    run.define_metric("val", summary="min", step_metric="mystep", step_sync=True)
    _gen_metric_sync_step(run)
    run.finish()
    s = api_run(run.id).summary
    assert s["val"] == {"min": 2} and s["val2"] == 8 and s["mystep"] == 5
    h = history(run.id)
    assert h[0]["val"] == 2 and h[0]["mystep"] == 1
    assert h[1]["mystep"] == 3
    assert h[2]["val"] == 8 and h[2]["mystep"] == 3
    assert "mystep" not in h[3]  # val2 has no step metric
    assert h[4]["val"] == 3 and h[4]["mystep"] == 5


def test_metric_mult(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_mult / test_metric_goal (hidden step + glob)."""
    run = wandb.init(project="p")
    wandb.define_metric("mystep", hidden=True)
    wandb.define_metric("*", step_metric="mystep", goal="maximize")
    _gen_metric_sync_step(run)
    run.finish()
    h = history(run.id)
    assert h[2] == {"_step": 2, "val": 8, "mystep": 3}
    assert h[3] == {"_step": 3, "val2": 8, "mystep": 3}
    for name in ("val", "val2"):
        m = metric_def(run.id, name)
        assert m["step_metric"] == "mystep" and m["goal"] == "maximize"
    assert metric_def(run.id, "mystep")["hidden"] is True


def test_metric_glob(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_glob."""
    run = wandb.init(project="p")
    run.define_metric("*", step_metric="mystep")
    run.log(dict(mystep=1, val=2))
    run.finish()
    s = api_run(run.id).summary
    assert s["val"] == 2 and s["mystep"] == 1


def test_metric_glob_prefix(daemon: object) -> None:
    """wandb wandb_run.py define_metric 'val/*' (glob suffix): only matching keys follow it."""
    run = wandb.init(project="p")
    run.define_metric("epoch", hidden=True)
    run.define_metric("val/*", step_metric="epoch", summary="max")
    run.log({"epoch": 1, "val/acc": 0.5, "train/acc": 0.4})
    run.log({"val/acc": 0.9, "train/acc": 0.6})
    run.log({"val/acc": 0.7, "val/loss": 2.0, "train/acc": 0.8})
    run.finish()
    assert history(run.id) == [
        {"_step": 0, "epoch": 1, "val/acc": 0.5, "train/acc": 0.4},
        {"_step": 1, "epoch": 1, "val/acc": 0.9, "train/acc": 0.6},
        {"_step": 2, "epoch": 1, "val/acc": 0.7, "val/loss": 2.0, "train/acc": 0.8},
    ]
    s = api_run(run.id).summary
    assert s["val/acc"] == {"max": 0.9} and s["val/loss"] == {"max": 2.0}
    assert s["train/acc"] == 0.8


@pytest.mark.parametrize("summary_type", [None, "copy", "best", ""])
def test_default_summary_type_is_last(daemon: object, summary_type: str | None) -> None:
    """wandb test_metric_full.py::test_default_summary_type_is_last (+ "best" and "" from
    test_wandb_define_metric.py::test_metric_summary, which yield no aggregate)."""
    run = wandb.init(project="p")
    run.define_metric("*", summary=summary_type)
    run.log(dict(mystep=1, val=2))
    run.log(dict(mystep=2, val=8))
    run.log(dict(mystep=3, val=3))
    run.log(dict(val2=4))
    run.log(dict(val2=1))
    run.finish()
    s = api_run(run.id).summary
    assert s["val"] == 3 and s["val2"] == 1 and s["mystep"] == 3


def test_summary_type_none(daemon: object) -> None:
    """wandb test_metric_full.py::test_summary_type_none."""
    run = wandb.init(project="p")
    run.define_metric("*", summary="copy")
    run.define_metric("val", summary="none")
    run.log(dict(val=1, other=1))
    run.log(dict(val=2, other=2))
    run.log(dict(val=3, other=3))
    assert "val" not in run.summary
    run.finish()
    s = api_run(run.id).summary
    assert s["other"] == 3 and "val" not in s
    assert [r["val"] for r in history(run.id, keys=["val"])] == [1, 2, 3]


def test_metric_nosummary(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_nosummary."""
    run = wandb.init(project="p")
    run.define_metric("val")
    run.log(dict(val2=4))
    run.log(dict(val2=1))
    run.finish()
    assert api_run(run.id).summary["val2"] == 1


def test_metric_none_summary(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_none."""
    run = wandb.init(project="p")
    run.define_metric("val2", summary="none")
    run.log(dict(val2=4))
    run.log(dict(val2=1))
    run.finish()
    assert "val2" not in api_run(run.id).summary


def test_metric_sum_none(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_sum_none."""
    run = wandb.init(project="p")
    run.define_metric("val")
    run.log(dict(mystep=1, val=2))
    run.log(dict(mystep=1, val=8))
    run.log(dict(mystep=1, val=3))
    run.log(dict(val2=4))
    run.log(dict(val2=1))
    run.finish()
    s = api_run(run.id).summary
    assert s["val"] == 3 and s["val2"] == 1 and s["mystep"] == 1


@pytest.mark.parametrize(
    "summary,expected",
    [("min", 1), ("max", 8), ("last", 3), ("mean", 4), ("first", 1)],
)
def test_metric_summary(daemon: object, summary: str, expected: int) -> None:
    """wandb test_metric_full.py::test_metric_summary (live run.summary and read back)."""
    run = wandb.init(project="p")
    run.define_metric("val", summary=summary)
    run.log({"val": 1})
    run.log({"val": 8})
    run.log({"val": 3})
    assert run.summary["val"][summary] == expected
    assert dict(run.summary["val"]) == {summary: expected}
    run.finish()
    assert api_run(run.id).summary["val"] == {summary: expected}


def test_metric_summary_multiple(daemon: object) -> None:
    """wandb test_wandb_define_metric.py::test_metric_summary ("min,max" -> both)."""
    run = wandb.init(project="p")
    run.define_metric("val", summary="min,max,mean,first,last")
    for v in (1, 8, 3):
        run.log({"val": v})
    run.finish()
    assert api_run(run.id).summary["val"] == {"min": 1, "max": 8, "mean": 4, "first": 1, "last": 3}


@pytest.mark.parametrize(
    "summary,expected",
    [("min", 1), ("max", 3), ("mean", 2), ("first", 1)],
)
def test_metric_summary_string_type(daemon: object, summary: str, expected: int) -> None:
    """wandb test_metric_full.py::test_metric_summary_string_type."""
    run = wandb.init(project="p")
    run.define_metric("val", summary=summary)
    run.log({"val": 1})
    run.log({"val": "oops a string"})
    run.log({"val": 3})
    assert run.summary["val"][summary] == expected
    run.finish()
    assert api_run(run.id).summary["val"] == {summary: expected}


def test_metric_nan_mean(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_nan_mean."""
    run = wandb.init(project="p")
    run.define_metric("val", summary="mean")
    run.log(dict(mystep=1, val=2))
    run.log(dict(mystep=1, val=float("nan")))
    run.log(dict(mystep=1, val=4))
    run.finish()
    assert math.isnan(api_run(run.id).summary["val"]["mean"])


def test_metric_nan_min_norm(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_nan_min_norm."""
    run = wandb.init(project="p")
    run.define_metric("val", summary="min")
    run.log(dict(mystep=1, val=float("nan")))
    run.finish()
    assert math.isnan(api_run(run.id).summary["val"]["min"])


def test_metric_nan_min_more(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_nan_min_more."""
    run = wandb.init(project="p")
    run.define_metric("val", summary="min")
    run.log(dict(mystep=1, val=float("nan")))
    run.log(dict(mystep=1, val=4))
    run.finish()
    assert math.isnan(api_run(run.id).summary["val"]["min"])


def test_metric_nested_copy(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_nested_copy."""
    run = wandb.init(project="p")
    run.define_metric("this.that", summary="copy")
    for v in (3, 2, 4):
        run.log(dict(this=dict(that=v)))
    run.finish()
    assert api_run(run.id).summary["this"] == {"that": 4}


def test_metric_nested_min(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_nested_min."""
    run = wandb.init(project="p")
    run.define_metric("this.that", summary="min")
    for v in (3, 2, 4):
        run.log(dict(this=dict(that=v)))
    run.finish()
    assert api_run(run.id).summary["this"] == {"that": {"min": 2}}


def test_metric_nested_mult(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_nested_mult."""
    run = wandb.init(project="p")
    run.define_metric("this.that", summary="min,max")
    for v in (3, 2, 4):
        run.log(dict(this=dict(that=v)))
    run.finish()
    assert api_run(run.id).summary["this"] == {"that": {"min": 2, "max": 4}}


def test_metric_dotted(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_dotted (escaped dots in metric definitions)."""
    run = wandb.init(project="p")
    run.define_metric("test\\this\\.that", summary="min")
    for v in (3, 2, 4):
        run.log({"test\\this.that": v})
    run.finish()
    assert api_run(run.id).summary["test\\this.that"] == {"min": 2}


def test_metric_nested_glob(daemon: object) -> None:
    """wandb test_metric_full.py::test_metric_nested_glob."""
    run = wandb.init(project="p")
    run.define_metric("*", summary="min,max")
    for v in (3, 2, 4):
        run.log(dict(this=dict(that=v)))
    run.finish()
    assert api_run(run.id).summary["this"] == {"that": {"min": 2, "max": 4}}


@pytest.mark.parametrize("name", ["m", "*"])
def test_metric_overwrite_false(daemon: object, name: str) -> None:
    """wandb test_metric_full.py::test_metric_overwrite_false (definitions merge)."""
    run = wandb.init(project="p")
    run.define_metric(name, summary="min")
    run.define_metric(name, summary="max", overwrite=False)
    run.log({"m": 1})
    run.log({"m": 3})
    run.finish()
    assert api_run(run.id).summary["m"] == {"min": 1, "max": 3}


@pytest.mark.parametrize("name", ["m", "*"])
def test_metric_overwrite_true(daemon: object, name: str) -> None:
    """wandb test_metric_full.py::test_metric_overwrite_true (the second replaces the first)."""
    run = wandb.init(project="p")
    run.define_metric(name, summary="min")
    run.define_metric(name, summary="max", overwrite=True)
    run.log({"m": 1})
    run.log({"m": 3})
    run.finish()
    assert api_run(run.id).summary["m"] == {"max": 3}


@pytest.mark.parametrize("kwargs", [{}, {"overwrite": True}])
def test_metric_twice_or_overwrite(daemon: object, kwargs: dict[str, Any]) -> None:
    """wandb test_wandb_define_metric.py::test_metric_twice_or_overwrite (merge happens in
    wandb-core's definedMetric.With; overwrite also drops the step metric)."""
    run = wandb.init(project="p")
    run.define_metric("metric", summary="best,max", step_metric="thestep")
    run.define_metric("metric", summary="min", **kwargs)
    run.log({"thestep": 1, "metric": 5})
    run.log({"metric": 2})
    run.finish()
    s = api_run(run.id).summary
    row = history(run.id)[1]
    if kwargs:
        assert s["metric"] == {"min": 2}
        assert row == {"_step": 1, "metric": 2}
    else:
        assert s["metric"] == {"min": 2, "max": 5}
        assert row == {"_step": 1, "metric": 2, "thestep": 1}


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ("", {}),
        ("junk", {"step_metric": 1}),
        ("*invalidprefix", {}),
        ("metric", {"summary": "doesnotexist"}),
    ],
)
def test_metric_invalid_args(daemon: object, args: str, kwargs: dict[str, Any]) -> None:
    """wandb test_wandb_define_metric.py::test_metric_invalid_args."""
    run = wandb.init(project="p")
    with pytest.raises(wandb.Error):
        run.define_metric(args, **kwargs)


def test_metric_summary_ops_case_insensitive(daemon: object) -> None:
    """wandb wandb_run.py Run._define_metric (`s.lower() for s in summary.split(',')`)."""
    run = wandb.init(project="p")
    run.define_metric("val", summary="MIN,Max")
    for v in (1, 8, 3):
        run.log({"val": v})
    run.finish()
    assert api_run(run.id).summary["val"] == {"min": 1, "max": 8}
