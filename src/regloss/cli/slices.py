"""``regloss evaluate --by COL[,COL...]``: every metric per group of rows, in one pass over the file.

Each chunk's group keys (one per row; a tuple of values for several columns) are factorised once
(:func:`regloss.metrics.group_keys.factorize`) and passed to one
:class:`regloss.metrics.Grouped` per metric instance: the state of a group is a few sums, so the
memory used is bounded by the chunk size and the number of groups, not by the rows. With ``--ci``
each instance is ``Grouped(Bootstrap(metric))``, fed the chunk's global row indices: a row has the
same Poisson counts as without ``--by``.

Keys: text from CSV (an empty field is missing; a column whose every key reads as an integer,
or else as a number, is reported as numbers when no two keys read the same), the stored values
from Parquet, NPY and NPZ (NaN or null is missing). Missing keys form one group, ``None`` (JSON
``null``). More than ``--max-groups`` distinct keys is an error, raised while reading, before
anything is written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..metrics.group_keys import Factorized, factorize, sort_key
from ..metrics.grouped import Grouped
from .columns import check_exists
from .engine import Interval, MetricResult, MetricSet, result_of
from .errors import CliError
from .names import HIGHER_IS_BETTER

DEFAULT_MAX_GROUPS = 10_000
TOP_BY_DEFAULT = 50
"""Without ``--top``, the table shows every group when there are at most this many, else this many."""


@dataclass
class GroupResult:
    """One group: its key per ``--by`` column, its rows, its metrics."""

    by: dict
    rows: int
    results: list[MetricResult]


def too_many_groups(by: Sequence[str], limit: int) -> CliError:
    return CliError(
        f"--by {','.join(by)} has more than {limit:,} distinct groups (--max-groups {limit}): "
        "raise --max-groups, or group by fewer or coarser columns"
    )


def check_by(columns: Sequence[str], where: str, by: Sequence[str]) -> None:
    """A CliError for a ``--by`` column that is not in the (first) file or is named twice."""
    for name in by:
        check_exists(name, columns, where, "--by")
    repeated = sorted({name for name in by if list(by).count(name) > 1})
    if repeated:
        raise CliError(f"--by names the column {repeated[0]!r} twice")


class Slices:
    """The per-group states of the requested metrics, and the distinct keys seen so far."""

    def __init__(self, by, requests, outputs, huber_delta: float, interval: Interval | None, max_groups):
        self.by = list(by)
        self.max_groups = max_groups
        self.metrics = MetricSet(requests, outputs, huber_delta, interval)
        for instances in self.metrics._instances:
            instances[:] = [(Grouped(metric), column) for metric, column in instances]
        self._rows: dict = {}  # key -> rows kept

    def update(self, keys: list, true, pred, weights, *, kept, mask=None, row_offset: int = 0) -> None:
        """Add a chunk whose key columns are ``keys``; ``kept`` (bool per row, or None for all)
        says which rows count (with ``mask``, the bootstrap takes the whole chunk, masked)."""
        groups = factorize(tuple(keys))
        if kept is not None and mask is None:
            groups = factorize(groups[kept])
        counted = groups if kept is None or mask is None else factorize(groups[kept])
        self._count(counted)
        interval = self.metrics.interval
        for instances in self.metrics._instances:
            for metric, column in instances:
                t = true if column is None else true[:, column : column + 1]
                p = pred if column is None else pred[:, column : column + 1]
                offset = row_offset if interval is not None else None
                metric.update_state(t, p, weights, groups=groups, mask=mask, row_offset=offset)

    def _count(self, groups: Factorized) -> None:
        counts = np.bincount(groups.codes, minlength=len(groups.keys)).tolist()
        for key, rows in zip(groups.keys, counts, strict=True):
            if rows:
                self._rows[key] = self._rows.get(key, 0) + rows
        if len(self._rows) > self.max_groups:
            raise too_many_groups(self.by, self.max_groups)

    def results(self, text_keys: bool) -> list[GroupResult]:
        """One :class:`GroupResult` per group with kept rows, sorted by key (missing last)."""
        metrics = self.metrics
        per_instance = [[metric.result() for metric, _ in instances] for instances in metrics._instances]
        names = typed_keys(list(self._rows), len(self.by)) if text_keys else {key: key for key in self._rows}
        found = []
        for key in sorted(self._rows, key=lambda key: sort_key(names[key])):
            results = []
            for request, parts in zip(metrics.requests, per_instance, strict=True):
                numbers = [_parts(part[key], metrics.interval) for part in parts]
                results.append(result_of(request, metrics.outputs, numbers, metrics.interval))
            shown = names[key] if len(self.by) > 1 else (names[key],)
            found.append(GroupResult(dict(zip(self.by, shown, strict=True)), self._rows[key], results))
        return found


def dask_keys(frame, by: Sequence[str], finite):
    """``(keys, counts)`` for ``--engine dask``: the key columns of the Dask DataFrame (a Series
    for one column) and a delayed ``{key: kept rows}`` counted per partition in the same graph."""
    import dask

    keys = frame[by[0]] if len(by) == 1 else frame[list(by)]
    blocks = frame[list(by)].to_dask_array().to_delayed().ravel()
    kept = finite.to_delayed().ravel()
    parts = [dask.delayed(_count_rows)(block, rows) for block, rows in zip(blocks, kept, strict=True)]
    return keys, dask.delayed(_add_counts)(parts)


def _count_rows(block: np.ndarray, kept: np.ndarray) -> dict:
    groups = factorize(block if block.shape[1] > 1 else block[:, 0])[kept]
    counts = np.bincount(groups.codes, minlength=len(groups.keys)).tolist()
    return {key: rows for key, rows in zip(groups.keys, counts, strict=True) if rows}


def _add_counts(parts: list) -> dict:
    total: dict = {}
    for part in parts:
        for key, rows in part.items():
            total[key] = total.get(key, 0) + rows
    return total


def dask_groups(by, counts: dict, max_groups, requests, outputs, whole, per_column, interval) -> list:
    """The :class:`GroupResult` list of ``--engine dask`` from :func:`regloss.dask.evaluate`'s
    ``groups`` (of all outputs at once, ``whole``, and of each output, ``per_column``)."""
    limit = DEFAULT_MAX_GROUPS if max_groups is None else max_groups
    if len(counts) > limit:
        raise too_many_groups(by, limit)
    found = []
    for key in sorted(counts, key=sort_key):
        results = []
        for request in requests:
            if request.per_output and request.short != "r2":
                pieces = [_parts(part["groups"][key][request.key], interval) for part in per_column]
            else:
                pieces = [_parts(whole["groups"][key][request.key], interval)]
            results.append(result_of(request, outputs, pieces, interval))
        shown = key if len(by) > 1 else (key,)
        found.append(GroupResult(dict(zip(by, shown, strict=True)), counts[key], results))
    return found


def _parts(value, interval) -> dict:
    """A result's numbers by name: a ``BootstrapResult`` or a ``regloss.dask`` interval dict with
    an interval, else ``{"value": value}``."""
    if interval is None:
        return {"value": value}
    return value.as_dict() if hasattr(value, "as_dict") else value


def typed_keys(keys: list, columns: int) -> dict:
    """``{key: shown key}``: text keys of a column read as integers (else floats) where every key
    of that column does and no two read the same (CSV has no types)."""
    tuples = [key if columns > 1 else (key,) for key in keys]
    converted = [list(key) for key in tuples]
    for j in range(columns):
        texts = {key[j] for key in tuples if key[j] is not None}
        for parse in (int, float):
            try:
                read = {text: parse(text) for text in texts}
            except (TypeError, ValueError):
                continue
            finite = all(not isinstance(v, float) or math.isfinite(v) for v in read.values())
            if finite and len(set(read.values())) == len(read):
                for key in converted:
                    if key[j] is not None:
                        key[j] = read[key[j]]
                break
    return {key: tuple(new) if columns > 1 else new[0] for key, new in zip(keys, converted, strict=True)}


def worst_first(groups: list[GroupResult]) -> list[GroupResult]:
    """The groups sorted by their first metric (its first output), worst first, NaN last."""
    if not groups:
        return []
    first = groups[0].results[0]
    sign = 1.0 if first.short in HIGHER_IS_BETTER else -1.0

    def order(group: GroupResult):
        value = group.results[0].value
        value = value[0] if isinstance(value, list) else value
        return (math.isnan(value), sign * value if not math.isnan(value) else 0.0)

    return sorted(groups, key=order)


def top_count(groups: int, top: int | None) -> int:
    """How many groups the table and the plot show: ``--top``, else all up to 50, else 50."""
    if top is not None:
        return min(top, groups)
    return groups if groups <= TOP_BY_DEFAULT else TOP_BY_DEFAULT
