"""`tracklab.plot`: charts over a Table, as wandb.plot's presets.

    table = tracklab.Table(data=[[1, 0.5], [2, 0.4]], columns=["epoch", "loss"])
    run.log({"loss_curve": tracklab.plot.line(table, "epoch", "loss", title="Loss")})

Each function returns a `CustomChart`; logged, it becomes
`{"_type": "plot", "kind", "fields", "title", "table": <table-file dict>}`,
where `fields` maps each role of the chart to a column of the table:

- line: {"x", "y"} and "stroke" (the column whose values split the lines)
- scatter: {"x", "y"}
- bar: {"label", "value"}
- histogram: {"value"}
- line_series: {"x": xname, "y": "y", "stroke": "lineKey"} over a table in
  long form, one row per point: columns `lineKey` (the series' key), `<xname>`
  (default "x") and `y`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tracklab.data_types import Media, MediaSink, Table

__all__ = ["CustomChart", "bar", "histogram", "line", "line_series", "scatter"]


class CustomChart(Media):
    """A chart of `kind` drawing `table`'s columns named in `fields`."""

    def __init__(self, kind: str, table: Table, fields: dict[str, str], title: str = "") -> None:
        if not isinstance(table, Table):
            raise TypeError(
                f"tracklab.plot.{kind} takes a tracklab.Table, not {type(table).__name__}"
            )
        for role, column in fields.items():
            if column not in table.columns:
                raise ValueError(
                    f"tracklab.plot.{kind}: {role}={column!r} is not a column of the table; "
                    f"its columns are {table.columns}"
                )
        self.kind = kind
        self.table = table
        self.fields = dict(fields)
        self.title = str(title)

    def _bind(self, sink: MediaSink, key: str, step: int) -> dict[str, Any]:
        return {
            "_type": "plot",
            "kind": self.kind,
            "fields": self.fields,
            "title": self.title,
            "table": self.table._bind(sink, key, step),
        }

    def __repr__(self) -> str:
        return f"<tracklab.plot.{self.kind} {self.title!r} fields={self.fields}>"


def line(table: Table, x: str, y: str, stroke: str | None = None, title: str = "") -> CustomChart:
    """A line chart of column `y` over column `x`; one line per value of
    column `stroke` if given."""
    fields = {"x": x, "y": y}
    if stroke is not None:
        fields["stroke"] = stroke
    return CustomChart("line", table, fields, title)


def scatter(table: Table, x: str, y: str, title: str = "") -> CustomChart:
    """A scatter plot of column `y` against column `x`."""
    return CustomChart("scatter", table, {"x": x, "y": y}, title)


def bar(table: Table, label: str, value: str, title: str = "") -> CustomChart:
    """A bar chart: one bar per row, named by column `label`, sized by `value`."""
    return CustomChart("bar", table, {"label": label, "value": value}, title)


def histogram(table: Table, value: str, title: str = "") -> CustomChart:
    """A histogram of column `value` (binned by the viewer)."""
    return CustomChart("histogram", table, {"value": value}, title)


def _is_seq(v: Any) -> bool:
    return not isinstance(v, (str, bytes)) and isinstance(v, Iterable)


def line_series(
    xs: Sequence[Any],
    ys: Sequence[Sequence[Any]],
    keys: Sequence[str] | None = None,
    title: str = "",
    xname: str = "x",
) -> CustomChart:
    """Several lines in one chart (wandb.plot.line_series).

    `xs` is one list of x values shared by every series, or one list per
    series; `ys` holds one list of y values per series; `keys` names the
    series (default `key_0`, `key_1`, ...). The table has one row per point
    with columns `lineKey`, `<xname>`, `y`.
    """
    series = [list(s) for s in ys]
    xs_list = list(xs)
    shared = not xs_list or not _is_seq(xs_list[0])
    per_series = [xs_list] * len(series) if shared else [list(s) for s in xs_list]
    if len(per_series) != len(series):
        raise ValueError(
            f"tracklab.plot.line_series: {len(per_series)} lists of xs for {len(series)} series"
        )
    names = [f"key_{i}" for i in range(len(series))] if keys is None else [str(k) for k in keys]
    if len(names) != len(series):
        raise ValueError(f"tracklab.plot.line_series: {len(names)} keys for {len(series)} series")
    if xname in ("lineKey", "y"):
        raise ValueError(f"tracklab.plot.line_series: xname={xname!r} would clash with a column")
    table = Table(columns=["lineKey", xname, "y"])
    for name, sx, sy in zip(names, per_series, series, strict=True):
        if len(sx) != len(sy):
            raise ValueError(
                f"tracklab.plot.line_series: series {name!r} has {len(sy)} y values "
                f"and {len(sx)} x values"
            )
        for xv, yv in zip(sx, sy, strict=True):
            table.add_data(name, xv, yv)
    return CustomChart("line_series", table, {"x": xname, "y": "y", "stroke": "lineKey"}, title)
