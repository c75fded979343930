"""`Table` (`table-file`): rows of values with named columns."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

from tracklab.data_types._base import Media, MediaSink, _cell, _module_root, _store, _to_numpy


class Table(Media):
    """Rows of values with named columns (wandb.Table).

    `Table(columns=["a", "b"], data=[[1, 2], [3, 4]])`, `Table(dataframe=df)`
    (or `data=df`), `Table(data=ndarray_2d)`. Columns default to
    `Column_0, Column_1, ...` when data is given, else wandb's
    `Input, Output, Expected`. Cells are numbers, strings, bools, None,
    lists/dicts of them, numpy/torch values, dates (as ISO text) or media.
    At most `MAX_ROWS` rows can be logged. `dtype`, `optional` and
    `allow_mixed_types` are accepted for wandb compatibility; no column
    types are checked.
    """

    MAX_ROWS: ClassVar[int] = 10_000

    def __init__(
        self,
        columns: Sequence[Any] | None = None,
        data: Any = None,
        rows: Any = None,
        dataframe: Any = None,
        dtype: Any = None,
        optional: Any = True,
        allow_mixed_types: bool = False,
    ) -> None:
        del dtype, optional, allow_mixed_types
        if data is None:
            data = rows
        if dataframe is None and _module_root(data) == "pandas" and hasattr(data, "columns"):
            dataframe, data = data, None
        self.columns: list[str]
        self.data: list[list[Any]]
        if dataframe is not None:
            if data is not None:
                raise ValueError("tracklab.Table: pass either data or dataframe, not both")
            names = [str(c) for c in dataframe.columns] if columns is None else columns
            cols = [dataframe.iloc[:, i].tolist() for i in range(dataframe.shape[1])]
            self.columns = self._check_columns(names)
            if len(self.columns) != len(cols):
                raise ValueError(
                    f"tracklab.Table: {len(self.columns)} column names for a dataframe "
                    f"of {len(cols)} columns"
                )
            self.data = [list(r) for r in zip(*cols, strict=True)]
            if not cols:
                self.data = [[] for _ in range(dataframe.shape[0])]
            return
        if data is not None and _module_root(data) in ("numpy", "torch"):
            data = _to_numpy(data)
            if data.ndim != 2:
                raise ValueError(
                    f"tracklab.Table: an array of shape {tuple(data.shape)} is not a table: "
                    "use a 2-D array (rows x columns)"
                )
            data = data.tolist()
        rows_in = [] if data is None else list(data)
        for i, row in enumerate(rows_in):
            if not isinstance(row, (list, tuple)):
                raise TypeError(
                    f"tracklab.Table: data row {i} is a {type(row).__name__}; "
                    "data must be a list of rows, each a list of values"
                )
        if columns is None:
            width = len(rows_in[0]) if rows_in else 0
            columns = (
                [f"Column_{i}" for i in range(width)]
                if rows_in
                else ["Input", "Output", "Expected"]
            )
        self.columns = self._check_columns(columns)
        self.data = []
        for row in rows_in:
            self.add_data(*row)

    @staticmethod
    def _check_columns(columns: Iterable[Any]) -> list[str]:
        if isinstance(columns, str):
            raise TypeError("tracklab.Table: columns must be a list of names, not one string")
        names = [str(c) for c in columns]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"tracklab.Table: duplicate column names {dup}")
        return names

    def add_data(self, *data: Any) -> None:
        """Appends a row: one value per column."""
        if len(data) != len(self.columns):
            raise ValueError(
                f"tracklab.Table.add_data: this table has {len(self.columns)} columns "
                f"{self.columns}, the row has {len(data)} values"
            )
        self.data.append(list(data))

    add_row = add_data

    def add_column(self, name: str, data: Sequence[Any]) -> None:
        """Appends a column; `data` has one value per row."""
        name = str(name)
        if name in self.columns:
            raise ValueError(f"tracklab.Table.add_column: column {name!r} already exists")
        values = list(data)
        if self.data and len(values) != len(self.data):
            raise ValueError(
                f"tracklab.Table.add_column: {name!r} has {len(values)} values, "
                f"the table has {len(self.data)} rows"
            )
        if not self.data:
            if self.columns and values:
                raise ValueError(
                    "tracklab.Table.add_column: the table has columns but no rows, "
                    f"so {name!r} must be empty"
                )
            self.data = [[] for _ in values]
        self.columns.append(name)
        for row, v in zip(self.data, values, strict=True):
            row.append(v)

    def get_column(self, name: str, convert_to: str | None = None) -> Any:
        """The values of column `name` (a list, or a numpy array with
        `convert_to="numpy"`)."""
        if name not in self.columns:
            raise KeyError(f"tracklab.Table has no column {name!r}; it has {self.columns}")
        i = self.columns.index(name)
        values = [row[i] for row in self.data]
        if convert_to == "numpy":
            import numpy as np

            return np.array(values)
        if convert_to is not None:
            raise ValueError(f"get_column(convert_to={convert_to!r}): use None or 'numpy'")
        return values

    def get_index(self) -> list[int]:
        return list(range(len(self.data)))

    def iterrows(self) -> Iterator[tuple[int, list[Any]]]:
        """(index, row) for each row, as wandb's Table.iterrows."""
        yield from enumerate(self.data)

    def get_dataframe(self) -> Any:
        """The table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.data, columns=self.columns)

    @property
    def ncols(self) -> int:
        return len(self.columns)

    @property
    def nrows(self) -> int:
        return len(self.data)

    def _table_bytes(self, sink: MediaSink | None, key: str, step: int) -> bytes:
        if len(self.data) > self.MAX_ROWS:
            raise ValueError(
                f"the table logged to {key!r} has {len(self.data)} rows; at most "
                f"{self.MAX_ROWS} can be logged (as in wandb): log a sample of the rows, "
                "or store the full data as an artifact (tracklab.Artifact)"
            )
        rows = []
        for r, row in enumerate(self.data):
            try:
                rows.append([_cell(v, sink, key, step) for v in row])
            except TypeError as e:
                raise TypeError(f"table logged to {key!r}, row {r}: {e}") from None
        doc = {"columns": self.columns, "data": rows}
        return json.dumps(doc, allow_nan=True, separators=(",", ":")).encode()

    def _bind(self, sink: MediaSink, key: str, step: int) -> dict[str, Any]:
        data = self._table_bytes(sink, key, step)
        out: dict[str, Any] = {"_type": "table-file"}
        out.update(_store(sink, data, "tables", key, step, "table.json"))
        out["ncols"] = len(self.columns)
        out["nrows"] = len(self.data)
        return out

    def __repr__(self) -> str:
        return f"<tracklab.Table {len(self.data)} rows x {len(self.columns)} columns>"
