"""numpy values are stored as typed values without loss."""

from __future__ import annotations

import math

import pytest
import tracklab as wandb

np = pytest.importorskip("numpy")


def test_numpy_scalars_and_arrays(daemon: object) -> None:
    run = wandb.init(project="p", config={"lr": np.float32(0.5), "layers": np.int64(3)})
    run.log(
        {
            "f32": np.float32(1.5),
            "f64": np.float64(math.pi),
            "i64": np.int64(-7),
            "flag": np.bool_(True),
            "nan": np.float64("nan"),
            "vec": np.arange(4),
            "mat": np.array([[1.0, 2.0], [3.0, 4.0]]),
            "zero_d": np.array(2.5),
        }
    )
    run.finish()
    r = wandb.Api().run(run.id)
    s = r.summary
    assert s["f32"] == 1.5 and s["f64"] == math.pi and s["i64"] == -7 and s["flag"] is True
    assert math.isnan(s["nan"])
    assert s["vec"] == [0, 1, 2, 3] and s["mat"] == [[1.0, 2.0], [3.0, 4.0]]
    assert s["zero_d"] == 2.5
    assert r.config == {"lr": 0.5, "layers": 3}
