"""tracklab.Api(): runs() with wandb's MongoDB-style filters and order."""

from __future__ import annotations

import pytest
import tracklab as wandb


@pytest.fixture
def sweep(daemon: object) -> None:
    for i, (lr, opt, tags) in enumerate(
        [(0.001, "adam", ["base"]), (0.01, "sgd", ["base", "best"]), (0.1, "adam", [])]
    ):
        run = wandb.init(
            project="sweep", id=f"r{i}", name=f"lr-{lr}", config={"lr": lr, "opt": opt}, tags=tags
        )
        run.log({"loss": 1.0 - i * 0.3})
        run.finish()
    wandb.init(project="other", id="o1").finish()


def ids(runs: list) -> list[str]:
    return [r.id for r in runs]


def test_filters(sweep: None) -> None:
    api = wandb.Api()
    assert ids(api.runs("sweep")) == ["r0", "r1", "r2"]
    assert ids(api.runs("sweep", filters={"config.lr": {"$gte": 0.01}})) == ["r1", "r2"]
    assert ids(api.runs("sweep", filters={"config.opt.value": "adam"})) == ["r0", "r2"]
    assert ids(api.runs("sweep", filters={"tags": "best"})) == ["r1"]
    assert ids(api.runs("sweep", filters={"tags": {"$in": ["base"]}})) == ["r0", "r1"]
    assert ids(api.runs("sweep", filters={"tags": {"$nin": ["base"]}})) == ["r2"]
    assert ids(
        api.runs(
            "sweep", filters={"$or": [{"config.lr": 0.001}, {"summary_metrics.loss": {"$lt": 0.5}}]}
        )
    ) == ["r0", "r2"]
    assert ids(
        api.runs(
            "sweep",
            filters={"$and": [{"state": "finished"}, {"display_name": {"$regex": "^lr-0\\.0"}}]},
        )
    ) == ["r0", "r1"]
    assert ids(api.runs("sweep", filters={"config.missing": {"$exists": False}})) == [
        "r0",
        "r1",
        "r2",
    ]
    assert ids(api.runs("sweep", order="-summary_metrics.loss")) == ["r0", "r1", "r2"]
    assert ids(api.runs("sweep", order="+summary_metrics.loss")) == ["r2", "r1", "r0"]
    assert ids(api.runs("sweep", order="-created_at")) == ["r2", "r1", "r0"]
    with pytest.raises(ValueError, match="unknown filter operator"):
        api.runs("sweep", filters={"config.lr": {"$near": 1}})


def test_run_update_and_history(sweep: None) -> None:
    api = wandb.Api()
    r = api.run("sweep/r1")
    r.name = "renamed"
    r.tags.append("paper")
    r.notes = "kept"
    r.update()
    again = api.run("r1")
    assert (again.name, again.tags, again.notes) == ("renamed", ["base", "best", "paper"], "kept")
    (row,) = r.history(pandas=False)
    assert (row["_step"], row["loss"]) == (0, 0.7)
    assert {"_runtime", "_timestamp"} <= set(row)


def test_history_rows_merge_series_with_gaps(daemon: object) -> None:
    run = wandb.init(project="gaps", id="g1")
    for i in range(10):
        row = {"a": i}
        if i % 3 == 0:
            row["b"] = f"s{i}"
        run.log(row)
    run.log({"b": "only-b"})  # step 10 has no "a"
    run.finish()
    r = wandb.Api().run("gaps/g1")

    every = list(r.scan_history())
    assert [x["_step"] for x in every] == list(range(11))
    assert every[3]["a"] == 3 and every[3]["b"] == "s3"
    assert "b" not in every[4] and "a" not in every[10]

    # keys= keeps only rows holding all of them; `_step` is in every row.
    assert [(x["_step"], x["b"]) for x in r.scan_history(keys=["b"])] == [
        (0, "s0"),
        (3, "s3"),
        (6, "s6"),
        (9, "s9"),
        (10, "only-b"),
    ]
    both = list(r.scan_history(keys=["_step", "a", "b"]))
    assert [x["_step"] for x in both] == [0, 3, 6, 9]
    assert set(both[0]) == {"_step", "a", "b"}
    # min_step inclusive, max_step exclusive, as wandb's.
    assert [x["a"] for x in r.scan_history(keys=["a"], min_step=2, max_step=5)] == [2, 3, 4]
    # A key the run never logged matches no row.
    assert list(r.scan_history(keys=["a", "never"])) == []

    sampled = r.history(samples=4, keys=["a"], pandas=False)
    assert 2 <= len(sampled) <= 4
    assert sampled[0]["a"] == 0 and sampled[-1]["a"] == 9


def test_system_metrics_read_back_as_the_events_stream(tmp_path, monkeypatch) -> None:
    """The daemon samples a live run's process tree; `history(stream=
    "events")` gives those samples, as wandb's Api does."""
    import time

    from conftest import Daemon

    monkeypatch.setenv("TRACKLAB_STATS_INTERVAL_MS", "50")
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("TRACKLAB_DIR", str(data))
    d = Daemon(data)
    try:
        run = wandb.init(project="sys", id="sys1")
        until = time.monotonic() + 0.6
        while time.monotonic() < until:
            sum(i * i for i in range(20_000))
            run.log({"x": 1})
        run.finish()
        api_run = wandb.Api().run("sys/sys1")
        rows = api_run.history(stream="events", pandas=False)
        assert len(rows) >= 3, rows
        assert all(r["system/proc.memory.rssMB"] > 1 for r in rows)
        assert [r["_step"] for r in rows] == list(range(len(rows)))
        assert all(r["system/_timestamp"] > 1e9 for r in rows)
        only = api_run.history(stream="events", keys=["memory"], pandas=False)
        assert only and all(set(r) <= {"_step", "system/memory"} for r in only)
        # The default stream is unchanged: the logged history.
        assert "system/cpu" not in api_run.history(pandas=False)[0]
    finally:
        d.kill9()
