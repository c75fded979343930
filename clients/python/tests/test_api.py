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
