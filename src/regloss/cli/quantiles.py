"""The quantile metrics of ``regloss evaluate``: ``median_ae`` and ``ae_quantile:q=Q``.

They are not streaming sums, so they are computed beside the other metrics
(:func:`quantile_results`), from the same columns, rows and weights:

* ``--quantiles exact`` (the default): :mod:`regloss.quantiles.radix`, 4 passes per quantile
  level, each re-reading the files (CSV and CSV.gz from the start, Parquet and NPY by column), 1 MiB
  per output; ``median_ae`` equals scikit-learn's ``median_absolute_error`` on the file's data
  (``ae_quantile:q=Q`` is the same averaged inverted CDF at level ``Q``). Standard input cannot be
  read twice: use ``--quantiles sketch`` there;
* ``--quantiles sketch``: one more pass for all of them (:mod:`regloss.quantiles.sketch`, relative
  accuracy 0.01: ``|r - x| <= 0.01 x`` for the lower quantile ``x``).

With ``--by`` the same passes keep a histogram per group beside the one of every row (exact: the
bins in use, :class:`regloss.quantiles.radix.SparseBins`; sketch: 568 KiB per output): memory grows
with the groups, never with the rows.
With ``--ci`` the interval is always from sketches, one per bootstrap replicate (the rows' Poisson(1)
counts of their global indices, as the other metrics' ``Bootstrap``; one more pass, ``replicates x
outputs x 568 KiB`` per group: 112 MiB for 200 replicates of one output): the point value stays
exact in exact mode, and each replicate's quantile is within 1% of its exact weighted quantile, so
are the interval's bounds. Exact per replicate would take 4 passes with one 1 MiB histogram per
replicate and 200 weighted histograms per chunk: the 1% of the sketch is far below the bootstrap's
own spread.

Several outputs: the quantile per output, then their mean (scikit-learn's ``"uniform_average"``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import array_api_compat.numpy as array_api
import numpy as np

from .. import specs
from .._messages import show_value
from ..metrics.group_keys import Factorized, factorize, sort_key
from ..metrics.poisson import poisson_weights
from ..quantiles import radix
from ..quantiles.sketch import Layout
from .engine import Interval, MetricResult, _check_lengths, _paired, select
from .errors import CliError
from .readers import open_table
from .slices import typed_keys

MODES = ("exact", "sketch")
ALL = object()
"""The group of every row (beside the ``--by`` groups)."""
SKETCH_ACCURACY = 0.01


_NAMES = {name: spec for spec in specs.QUANTILE_METRICS for name in (spec.short, spec.default_name)}
"""The ``--metrics`` names of the quantile metrics (:data:`regloss.specs.QUANTILE_METRICS`)."""


def _level(key: str, given: list[str]) -> float:
    if len(given) != 1 or given[0].partition("=")[0].strip() != "q":
        raise CliError(
            f"metric {show_value(key)}: ae_quantile takes one parameter, ae_quantile:q=Q with Q in [0, 1]"
        )
    text = given[0].partition("=")[2].strip()
    try:
        q = float(text)
    except ValueError:
        raise CliError(
            f"metric {show_value(key)}: q must be a number in [0, 1]; received {show_value(text)}"
        ) from None
    if not 0.0 <= q <= 1.0:
        raise CliError(f"metric {show_value(key)}: q must be in [0, 1]; received {show_value(text)}")
    return q


def split_requests(text: str) -> tuple[str | None, list[tuple[str, float]]]:
    """``(the other metrics' text or None, [(key, q), ...])`` of a ``--metrics`` value."""
    others, quantiles = [], []
    for raw in text.split(","):
        key = raw.strip()
        name, *given = (part.strip() for part in key.split(":"))
        spec = _NAMES.get(name.lower())
        if spec is specs.MEDIAN_ABSOLUTE_ERROR:
            if given:
                raise CliError(f"metric {show_value(key)}: median_ae takes no parameters")
            quantiles.append((key, 0.5))
        elif spec is specs.ABSOLUTE_ERROR_QUANTILE:
            quantiles.append((key, _level(key, given)))
        else:
            others.append(raw)
    quantiles = list(dict.fromkeys(quantiles))
    return (",".join(others) if others else None), quantiles


@dataclass
class Batch:
    """One chunk's kept rows: ``|y_pred - y_true|`` ``(rows, outputs)``, the weights (or None), the
    ``--by`` keys (a :class:`~regloss.metrics.group_keys.Factorized`, or None) and the rows' global
    indices in the file (those of ``regloss evaluate``'s bootstrap)."""

    errors: np.ndarray
    weights: np.ndarray | None
    groups: Factorized | None
    rows: np.ndarray


def _batches(paths, columns: dict, by, chunk_rows: int, drop_nan: bool, max_line_bytes: int, found: dict):
    """A :class:`Batch` per chunk, the files opened anew (``found["text_keys"]``: whether the first
    file's keys are text)."""
    with contextlib.ExitStack() as stack:
        tables = [stack.enter_context(open_table(path, max_line_bytes)) for path in paths]
        found["text_keys"] = tables[0].text_keys
        selection = select(tables, columns["y_true"], columns["y_pred"], columns["weight"])
        _check_lengths(tables, selection)
        needed = [selection.needed(i) for i in range(len(tables))]

        def columns_of(source, names, blocks):
            return blocks[source][:, [needed[source].index(name) for name in names]]

        streams = [table.chunks(names, chunk_rows) for table, names in zip(tables, needed, strict=True)]
        if by:
            streams[0] = tables[0].keyed_chunks(needed[0], by, chunk_rows)
        position = 0
        for blocks in _paired(streams, tables):
            groups = None
            if by:
                groups, blocks[0] = factorize(tuple(blocks[0].keys)), blocks[0].values
            true = columns_of(0, selection.y_true, blocks)
            pred = columns_of(selection.pred_source, selection.y_pred, blocks)
            weights = None
            if selection.weight is not None:
                weights = columns_of(selection.weight_source, [selection.weight], blocks)[:, 0]
            finite = np.isfinite(true).all(axis=1) & np.isfinite(pred).all(axis=1)
            if weights is not None:
                finite &= np.isfinite(weights)
            rows = np.arange(position, position + len(finite))
            position += len(finite)
            if not finite.all():
                if not drop_nan:
                    raise CliError(
                        "rows hold NaN, missing or infinite values; pass --drop-nan to leave them out"
                    )
                true, pred, rows = true[finite], pred[finite], rows[finite]
                weights = None if weights is None else weights[finite]
                groups = None if groups is None else factorize(groups[finite])
            if len(rows):
                yield Batch(np.abs(pred - true), weights, groups, rows)


def _parts(batch: Batch, number) -> Iterator[tuple[int, np.ndarray]]:
    """``(group number, row selection)``: every row (the key :data:`ALL`), then each ``--by``
    group of the batch (``number(key)``: a group's number)."""
    yield number(ALL), slice(None)
    if batch.groups is None:
        return
    for code, rows in batch.groups.rows_by_code():
        yield number(batch.groups.keys[code]), rows


def _exact(read, q: float, number, weighted: bool) -> np.ndarray:
    """The exact ``q`` quantile, one value per group and output (group by group), from sparse
    histograms (:class:`regloss.quantiles.radix.SparseBins`): memory grows with the bins in use,
    not with 1 MiB per group."""

    def scan(prefixes, level):
        partial = radix.SparsePartial(weighted)
        for batch in read():
            keys = radix.keys_of(batch.errors)
            outputs = keys.shape[1]
            for group, rows in _parts(batch, number):
                while partial.bins.shape[0] < (group + 1) * outputs:
                    partial.add_columns(outputs)
                own = None if prefixes is None else prefixes[group * outputs : (group + 1) * outputs]
                weights = None if batch.weights is None else batch.weights[rows]
                radix.accumulate_sparse(partial, group * outputs, keys[rows], weights, own, level)
        return partial.as_partial()

    return radix.select(scan, q, None, weighted)


def _sketched(read, levels: list[float], number, interval: Interval | None):
    """``(values per level, replicate values per level or None)``: per group (by number) and output
    the sketched quantile, and with ``interval`` the replicates' (Poisson(1) counts of the rows'
    global indices, as :class:`regloss.metrics.Bootstrap`), shaped ``(groups, replicates, outputs)``."""
    layout = Layout(SKETCH_ACCURACY)
    states: dict = {}  # group -> [state per output]
    replicates: dict = {}  # group -> [[state per output] per replicate]
    for batch in read():
        outputs = batch.errors.shape[1]
        counts = None
        if interval is not None:
            first = int(batch.rows[0])
            counts = np.asarray(
                poisson_weights(
                    array_api,
                    interval.seed,
                    first,
                    int(batch.rows[-1]) + 1 - first,
                    interval.replicates,
                    dtype=array_api.float64,
                )
            )[:, batch.rows - first]
            if batch.weights is not None:
                counts = counts * batch.weights
        for group, rows in _parts(batch, number):
            errors = batch.errors[rows]
            weights = None if batch.weights is None else batch.weights[rows]
            own = states.setdefault(group, [layout.new_state() for _ in range(outputs)])
            states[group] = [layout.add(state, errors[:, j], weights) for j, state in enumerate(own)]
            if counts is not None:
                mine = replicates.setdefault(
                    group, [[layout.new_state() for _ in range(interval.replicates)] for _ in range(outputs)]
                )
                row_counts = counts[:, rows]
                replicates[group] = [
                    layout.add_weighted(column, errors[:, j], row_counts) for j, column in enumerate(mine)
                ]
    groups = range(len(states))
    values = [np.array([[layout.quantile(state, q) for state in states[g]] for g in groups]) for q in levels]
    if interval is None:
        return values, None
    spread = [
        np.array(
            [
                [
                    [layout.quantile(column[r], q) for column in replicates[g]]
                    for r in range(interval.replicates)
                ]
                for g in groups
            ]
        )
        for q in levels
    ]
    return values, spread


def _result(key: str, mode: str, value: np.ndarray, replicate_values, interval: Interval | None):
    """The :class:`MetricResult` of one group: the mean over the outputs, and with ``interval`` the
    percentile interval and standard deviation of the replicates' means (as ``Bootstrap``)."""
    result = MetricResult(key=key, short=f"{key} ({mode})", value=float(np.mean(value)))
    if interval is not None:
        means = replicate_values.mean(axis=1)
        low, high = np.quantile(means, [(1 - interval.confidence) / 2, (1 + interval.confidence) / 2])
        result.ci_low, result.ci_high, result.se = float(low), float(high), float(np.std(means, ddof=1))
    return result


def quantile_results(
    paths, columns: dict, quantiles, mode: str, *, chunk_rows, drop_nan, max_line_bytes, by=(), interval=None
):
    """``(results, per_group)``: one :class:`MetricResult` per ``(key, q)`` in ``mode`` (module
    docstring), and with ``by`` a list per group of them, the groups in ``regloss evaluate``'s order
    (by key, missing last); else None."""
    if mode == "exact" and any(str(path) == "-" for path in paths):
        raise CliError(
            "median_ae and ae_quantile read the file 4 times: standard input needs --quantiles sketch"
        )
    found: dict = {}

    def read():
        return _batches(paths, columns, by, chunk_rows, drop_nan, max_line_bytes, found)

    first = next(iter(read()), None)
    if first is None:
        raise CliError(f"{paths[0]} has no data rows")
    numbers: dict = {}  # group key -> number, in the order of first appearance (the same every pass)

    def number(key):
        return numbers.setdefault(key, len(numbers))

    levels = [q for _, q in quantiles]
    sketched, spread = (None, None)
    if mode == "sketch" or interval is not None:
        sketched, spread = _sketched(read, levels, number, interval)
    if mode == "exact":
        outputs_of = None
        values = []
        for q in levels:
            flat = _exact(read, q, number, first.weights is not None)
            outputs_of = outputs_of or flat.size // len(numbers)
            values.append(flat.reshape(len(numbers), outputs_of))
    else:
        values = sketched

    def results_of(g):
        return [
            _result(key, mode, value[g], None if spread is None else spread[i][g], interval)
            for i, ((key, _), value) in enumerate(zip(quantiles, values, strict=True))
        ]

    if not by:
        return results_of(0), None
    keys = [key for key in numbers if key is not ALL]
    names = typed_keys(keys, len(by)) if found["text_keys"] else {key: key for key in keys}
    order = sorted(keys, key=lambda key: sort_key(names[key]))
    return results_of(0), [results_of(numbers[key]) for key in order]


def dask_quantiles(quantiles, mode: str):
    """For ``--engine dask``: a function of the row-aligned Dask arrays and the number of outputs
    giving one :class:`MetricResult` per ``(key, q)``: exact by :mod:`regloss.quantiles.dask_select`
    (4 computations per level, the chunks re-read from the files each time), or each output's
    sketch in one computation."""
    from ..dask import SPLIT_EVERY
    from ..quantiles.dask_select import exact_quantile, sketch_state

    def compute(aligned: dict, outputs: int) -> list[MetricResult]:
        if mode == "exact":
            values = [exact_quantile(aligned, q, outputs, SPLIT_EVERY) for _, q in quantiles]
        else:
            layout = Layout(SKETCH_ACCURACY)
            states = []
            for j in range(outputs):
                column = {**aligned, "y_true": aligned["y_true"][:, j], "y_pred": aligned["y_pred"][:, j]}
                states.append(sketch_state(column, layout, SPLIT_EVERY))
            values = [np.array([layout.quantile(state, q) for state in states]) for _, q in quantiles]
        pairs = zip(quantiles, values, strict=True)
        return [_result(key, mode, value, None, None) for (key, _), value in pairs]

    return compute


def mode_note(quantiles, mode: str, interval=None) -> str:
    """The table's line saying which mode gave the quantiles."""
    how = (
        "exact, 4 passes over the data" if mode == "exact" else f"sketch, relative accuracy {SKETCH_ACCURACY}"
    )
    if interval is not None:
        how += f"; intervals from one sketch per replicate, relative accuracy {SKETCH_ACCURACY}"
    return f"quantiles ({how}): {', '.join(key for key, _ in quantiles)}\n"
