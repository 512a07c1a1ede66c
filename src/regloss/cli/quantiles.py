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

Several outputs: the quantile per output, then their mean (scikit-learn's ``"uniform_average"``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from .._messages import show_value
from ..quantiles import radix
from ..quantiles.sketch import Layout
from .engine import MetricResult, _check_lengths, _paired, select
from .errors import CliError
from .readers import open_table

MODES = ("exact", "sketch")
SKETCH_ACCURACY = 0.01


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
        if name.lower() == "median_ae":
            if given:
                raise CliError(f"metric {show_value(key)}: median_ae takes no parameters")
            quantiles.append((key, 0.5))
        elif name.lower() == "ae_quantile":
            quantiles.append((key, _level(key, given)))
        else:
            others.append(raw)
    quantiles = list(dict.fromkeys(quantiles))
    return (",".join(others) if others else None), quantiles


def _batches(paths, columns: dict, chunk_rows: int, drop_nan: bool, max_line_bytes: int) -> Iterator:
    """``(|y_pred - y_true| (rows, outputs), weights or None)`` per chunk, the files opened anew."""
    with contextlib.ExitStack() as stack:
        tables = [stack.enter_context(open_table(path, max_line_bytes)) for path in paths]
        selection = select(tables, columns["y_true"], columns["y_pred"], columns["weight"])
        _check_lengths(tables, selection)
        needed = [selection.needed(i) for i in range(len(tables))]

        def columns_of(source, names, blocks):
            return blocks[source][:, [needed[source].index(name) for name in names]]

        streams = [table.chunks(names, chunk_rows) for table, names in zip(tables, needed, strict=True)]
        for blocks in _paired(streams, tables):
            true = columns_of(0, selection.y_true, blocks)
            pred = columns_of(selection.pred_source, selection.y_pred, blocks)
            weights = None
            if selection.weight is not None:
                weights = columns_of(selection.weight_source, [selection.weight], blocks)[:, 0]
            finite = np.isfinite(true).all(axis=1) & np.isfinite(pred).all(axis=1)
            if weights is not None:
                finite &= np.isfinite(weights)
            if not finite.all():
                if not drop_nan:
                    raise CliError(
                        "rows hold NaN, missing or infinite values; pass --drop-nan to leave them out"
                    )
                true, pred = true[finite], pred[finite]
                weights = None if weights is None else weights[finite]
            yield np.abs(pred - true), weights


def _exact(read, q: float, outputs: int, weighted: bool) -> np.ndarray:
    def scan(prefixes, level):
        total = radix.new_partial(outputs)
        for errors, weights in read():
            total = radix.merge(total, radix.histogram(radix.keys_of(errors), weights, prefixes, level))
        return total

    return radix.select(scan, q, outputs, weighted)


def _sketched(read, levels: list[float], outputs: int) -> list[np.ndarray]:
    layout = Layout(SKETCH_ACCURACY)
    states = [layout.new_state() for _ in range(outputs)]
    for errors, weights in read():
        states = [layout.add(state, errors[:, j], weights) for j, state in enumerate(states)]
    return [np.array([layout.quantile(state, q) for state in states]) for q in levels]


def quantile_results(paths, columns: dict, quantiles, mode: str, *, chunk_rows, drop_nan, max_line_bytes):
    """One :class:`MetricResult` per ``(key, q)``, in ``mode`` (module docstring)."""
    if mode == "exact" and any(str(path) == "-" for path in paths):
        raise CliError(
            "median_ae and ae_quantile read the file 4 times: standard input needs --quantiles sketch"
        )

    def read():
        return _batches(paths, columns, chunk_rows, drop_nan, max_line_bytes)

    first = next(iter(read()), None)
    if first is None:
        raise CliError(f"{paths[0]} has no data rows")
    outputs, weighted = first[0].shape[1], first[1] is not None
    if mode == "exact":
        values = [_exact(read, q, outputs, weighted) for _, q in quantiles]
    else:
        values = _sketched(read, [q for _, q in quantiles], outputs)
    return [
        MetricResult(key=key, short=f"{key} ({mode})", value=float(np.mean(value)))
        for (key, _), value in zip(quantiles, values, strict=True)
    ]


def mode_note(quantiles, mode: str) -> str:
    """The table's line saying which mode gave the quantiles."""
    how = (
        "exact, 4 passes over the data" if mode == "exact" else f"sketch, relative accuracy {SKETCH_ACCURACY}"
    )
    return f"quantiles ({how}): {', '.join(key for key, _ in quantiles)}\n"
