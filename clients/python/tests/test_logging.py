"""Logging through the daemon and reading back, with wandb's semantics."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import tracklab as wandb


def history(run_id: str, key: str) -> list[tuple[int, object]]:
    r = wandb.Api().run(run_id)
    return [(row["_step"], row[key]) for row in r.scan_history(keys=[key])]


def test_logged_run_reads_back_identically(daemon: object) -> None:
    run = wandb.init(project="p", name="first", config={"lr": 0.01, "net": {"layers": 2}})
    wandb.define_metric("val/loss", summary="min", goal="minimize")
    losses = [1.0 / (i + 1) for i in range(50)]
    for i, loss in enumerate(losses):
        wandb.log({"train/loss": loss, "epoch": i // 10})
        if i % 10 == 9:
            wandb.log({"val/loss": loss * 2}, commit=False)
    wandb.summary["best"] = 0.5
    wandb.finish()

    api = wandb.Api()
    (r,) = api.runs("p")
    assert r.id == run.id and r.name == "first" and r.state == "finished"
    assert r.config == {"lr": 0.01, "net": {"layers": 2}}
    assert r.summary["train/loss"] == losses[-1]
    assert r.summary["val/loss"] == {"min": min(losses[9::10]) * 2}
    assert r.summary["best"] == 0.5
    assert history(run.id, "train/loss") == list(enumerate(losses))
    # commit=False joined the next row: val/loss sits at the step after.
    assert [s for s, _ in history(run.id, "val/loss")] == [10, 20, 30, 40, 50]
    assert r.metadata["python"] and r.metadata["host"]


def test_step_property_follows_wandb(daemon: object) -> None:
    run = wandb.init(project="p")
    assert run.step == 0
    run.log({"a": 1})
    run.log({"a": 2})
    assert run.step == 2  # wandb test_run_step_property
    run.log({"a": 3}, commit=False)
    assert run.step == 2
    run.log({"b": 4})
    assert run.step == 3
    run.log({"a": 5}, step=10)
    assert run.step == 10  # a given step does not commit
    run.log({"a": 6}, step=10, commit=True)
    assert run.step == 11
    run.log({"a": 7}, step=3)  # lower than the current step: dropped
    assert run.step == 11
    run.finish(quiet=True)
    assert history(run.id, "a") == [(0, 1), (1, 2), (2, 3), (10, 6)]
    assert wandb.Api().run(run.id)._d["dropped_steps"] == 1


def test_nan_and_infinities_round_trip(daemon: object) -> None:
    run = wandb.init(project="p")
    run.log({"x": float("nan"), "y": float("inf"), "z": float("-inf"), "big": 2**70})
    run.finish()
    s = wandb.Api().run(run.id).summary
    assert math.isnan(s["x"]) and s["y"] == math.inf and s["z"] == -math.inf
    assert s["big"] == 2**70


def test_values_of_every_kind(daemon: object) -> None:
    run = wandb.init(project="p")
    run.log(
        {
            "f": 1.5,
            "i": 3,
            "b": True,
            "s": "text",
            "l": [1, 2.5, "x"],
            "t": (1, 2),
            "none": None,
            "nested": {"deep": {"v": 1}},
        }
    )
    run.finish()
    s = wandb.Api().run(run.id).summary
    assert (s["f"], s["i"], s["b"], s["s"]) == (1.5, 3, True, "text")
    assert s["l"] == [1, 2.5, "x"] and s["t"] == [1, 2] and s["none"] is None
    assert s["nested"] == {"deep": {"v": 1}}


def test_bad_input_says_which_key_and_the_run_keeps_working(daemon: object) -> None:
    run = wandb.init(project="p")
    with pytest.raises(TypeError, match="key 3"):
        run.log({3: 1.0})
    with pytest.raises(TypeError, match="'obj'.*object"):
        run.log({"obj": object()})
    with pytest.raises(TypeError, match="dict"):
        run.log([1, 2])  # type: ignore[arg-type]
    # What the daemon would refuse (and so end the run) fails here instead.
    with pytest.raises(ValueError, match="_step"):
        run.log({"_step": 1.5})
    with pytest.raises(ValueError):
        run.log({"": 1.0})
    with pytest.raises(ValueError):
        run.log({"big": list(range(400_000))})  # > 1 MiB as JSON
    run.log({"ok": 1.0})
    run.finish()
    assert history(run.id, "ok") == [(0, 1.0)]


def test_log_does_not_mutate_the_callers_dict(daemon: object) -> None:
    run = wandb.init(project="p")
    data = {"a": 1, "nested": {"b": 2}}
    run.log(data)
    assert data == {"a": 1, "nested": {"b": 2}}
    run.finish()


def test_context_manager_marks_failed_on_exception(daemon: object) -> None:
    with pytest.raises(ValueError):
        with wandb.init(project="p") as run:
            run.log({"a": 1})
            raise ValueError("boom")
    assert wandb.Api().run(run.id).state == "failed"
    assert wandb.run is None


def test_resume_continues_steps_and_keeps_config(daemon: object) -> None:
    run = wandb.init(project="p", id="resume-me", config={"lr": 0.1})
    for i in range(3):
        run.log({"a": i})
    run.finish()
    again = wandb.init(project="p", id="resume-me", resume="allow", config={"bs": 8})
    assert again.resumed and again.step == 3
    assert again.config.lr == 0.1 and again.config.bs == 8
    again.log({"a": 3})
    again.finish()
    assert history("resume-me", "a") == [(0, 0), (1, 1), (2, 2), (3, 3)]
    with pytest.raises(wandb.UsageError, match="already exists"):
        wandb.init(project="p", id="resume-me")
    with pytest.raises(wandb.UsageError, match="does not exist"):
        wandb.init(project="p", id="never-was", resume="must")


def test_disabled_mode_records_nothing(daemon: object) -> None:
    run = wandb.init(project="p", mode="disabled", config={"a": 1})
    run.log({"x": 1})
    assert run.step == 1 and run.config.a == 1
    run.finish()
    assert wandb.Api().runs("p") == []


def test_reinit_finishes_the_previous_run(daemon: object) -> None:
    first = wandb.init(project="p")
    second = wandb.init(project="p")
    assert wandb.run is second
    assert wandb.Api().run(first.id).state == "finished"
    second.finish()


def test_metadata_and_requirements_are_recorded(daemon: object) -> None:
    run = wandb.init(project="p")
    run.log({"a": 1})
    run.finish()
    r = wandb.Api().run(run.id)
    assert r.metadata["program"] and r.metadata["python"] and r.metadata["username"] is not None
    req = (Path(run.dir) / "requirements.txt").read_text()
    assert "pytest==" in req
    assert r._d["files"] == ["requirements.txt"]


def test_history_as_a_pandas_dataframe(daemon: object) -> None:
    pd = pytest.importorskip("pandas")
    run = wandb.init(project="p")
    for i in range(5):
        run.log({"loss": 1.0 / (i + 1)})
    run.finish()
    df = wandb.Api().run(run.id).history(keys=["loss"])
    assert isinstance(df, pd.DataFrame)
    assert list(df["_step"]) == [0, 1, 2, 3, 4] and df["loss"].iloc[-1] == 0.2


def test_logging_from_one_thread_while_another_reads_the_summary(daemon: object) -> None:
    """A summary read waits with the GIL released; another thread's log()
    meanwhile must neither fail nor be lost."""
    import threading

    run = wandb.init(project="p")
    errors: list[BaseException] = []

    def logger() -> None:
        try:
            for i in range(3000):
                run.log({"a": i})
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t = threading.Thread(target=logger)
    t.start()
    reads = 0
    while t.is_alive():
        run.summary.get("a")
        reads += 1
    t.join()
    assert not errors, errors
    assert reads > 0
    run.finish()
    assert [r["a"] for r in wandb.Api().run(run.id).scan_history(keys=["a"])] == list(range(3000))
