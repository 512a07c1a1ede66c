"""``regloss evaluate --engine dask``: a directory or glob of Parquet or CSV files through
:func:`regloss.dask.evaluate`, on the local threads or on a distributed scheduler (``--scheduler``).

The files are read as one Dask DataFrame (a partition per Parquet file or row group, per CSV
block); the columns are chosen as for one file. Rows holding NaN or infinite values in the selected
columns are counted in the same pass: an error, or with ``--drop-nan`` masked out (their values
replaced by 0 under a zero mask, so that they add nothing). ``--chunk-rows`` and ``--plot`` do not
apply here. Every file is opened by the local engine's reader first (a Parquet footer, a CSV
header), and a computation that fails is diagnosed by reading the files with it, so that a corrupt,
empty or misnamed file is an error that names the file and the cause. Dask, and ``regloss.dask``
itself, are imported only when this engine runs.

With ``--ci``, :func:`regloss.dask.evaluate` bootstraps every metric (``confidence=``): a row's
global index is its position in the files taken in sorted order (rows holding NaN included),
which is the local engine's index of the same rows in one file. The partitions' row counts are
computed in the same graph as the metrics (no separate pass over the files).
"""

from __future__ import annotations

import glob
import importlib
import os
from collections.abc import Sequence
from pathlib import Path

from .._messages import show_value
from ..metrics.per_output import DomainError
from . import interrupt
from .columns import select_one_file
from .engine import DEFAULT_CHUNK_ROWS, Evaluation, Interval, check_outputs, make_metric, result_of
from .errors import CliError
from .names import MetricRequest
from .readers import open_table

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz")


def _import(module: str, hint: str):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise CliError(f"--engine dask needs {module}, which cannot be imported ({error}): {hint}") from error


def _kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if lower.endswith(CSV_SUFFIXES):
        return "csv"
    return None


def input_files(pattern: str) -> tuple[list[str], str]:
    """The files of a directory, a glob pattern or one file, and their format (all one format)."""
    path = Path(pattern)
    if path.is_dir():
        files = sorted(str(child) for child in path.iterdir() if child.is_file() and _kind(child.name))
        where = f"the directory {pattern}"
    elif any(character in pattern for character in "*?["):
        files = sorted(name for name in glob.glob(pattern) if os.path.isfile(name))
        where = f"the pattern {pattern}"
    elif path.is_file():
        files = [pattern]
        where = pattern
    else:
        raise CliError(f"no such file or directory: {pattern}")
    if not files:
        raise CliError(f"{where} holds no .parquet, .pq, .csv or .csv.gz files")
    kinds = {_kind(name) for name in files}
    if None in kinds:
        odd = next(name for name in files if _kind(name) is None)
        raise CliError(f"{odd} is neither Parquet nor CSV (--engine dask reads .parquet, .pq, .csv, .csv.gz)")
    if len(kinds) > 1:
        raise CliError(f"{where} mixes Parquet and CSV files; give a pattern that selects one kind")
    return files, kinds.pop()


MESSAGE_CHARS = 300


def _first_line(error: BaseException) -> str:
    """``Type: message`` of an error on one line, at most :data:`MESSAGE_CHARS` characters; Dask's
    wrapper ("An error occurred while calling the read_parquet method registered to the pandas
    backend. Original Message: ...") is replaced by the original message."""
    text = str(error)
    _, marker, original = text.partition("Original Message:")
    text = " ".join((original if marker else text).split())
    if len(text) > MESSAGE_CHARS:
        text = text[: MESSAGE_CHARS - 3] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def check_files(files: Sequence[str]) -> None:
    """Open every file with the local engine's reader (a Parquet file's footer and schema, a CSV
    file's header): a CliError naming the first file that cannot be read and why, before Dask
    reads any (its own errors name neither)."""
    for name in files:
        with open_table(name):
            pass


def file_at_fault(files: Sequence[str], columns: Sequence[str]) -> CliError | None:
    """After a failed computation: the error of the first file whose ``columns`` the local
    engine's reader cannot read through (streamed, in bounded memory), or None if all can."""
    for name in files:
        try:
            with open_table(name) as table:
                present = [column for column in columns if column in table.columns]
                for _ in table.chunks(present, DEFAULT_CHUNK_ROWS):
                    pass
        except CliError as error:
            return error
    return None


def evaluate_dask(
    pattern: str,
    *,
    y_true: list[str] | None,
    y_pred: list[str] | None,
    weight: str | None,
    requests: Sequence[MetricRequest],
    huber_delta: float = 1.0,
    drop_nan: bool = False,
    scheduler: str | None = None,
    interval: Interval | None = None,
    by: Sequence[str] = (),
    max_groups: int | None = None,
    quantiles=None,
) -> Evaluation:
    """The metrics of the files matching ``pattern``, computed by Dask in one pass (with ``by``,
    per group of those columns too: :func:`regloss.cli.slices.dask_groups`). ``quantiles``: a
    function of the row-aligned Dask arrays (``{"y_true", "y_pred", "mask"[, "sample_weight"]}``)
    and the number of outputs returning more results (:func:`regloss.cli.quantiles.dask_quantiles`),
    called on the same scheduler once the rows are known to be usable."""
    try:
        regloss_dask = importlib.import_module("regloss.dask")
    except ImportError as error:
        raise CliError(f"--engine dask needs regloss.dask, which cannot be imported: {error}") from error
    dask = _import("dask", 'pip install "regloss[dask]"')
    da = _import("dask.array", 'pip install "regloss[dask]"')
    dd = _import("dask.dataframe", 'pip install "regloss[dask]"')
    import numpy as np

    files, kind = input_files(pattern)
    check_files(files)
    interrupt.claim_from_libraries()
    try:
        if kind == "parquet":
            frame = dd.read_parquet(files)
        else:
            compressed = any(name.lower().endswith(".gz") for name in files)
            frame = dd.read_csv(files, blocksize=None if compressed else "64MB", skipinitialspace=True)
    except ImportError as error:
        raise CliError(f"--engine dask cannot read {kind} files: {error}") from error
    except Exception as error:  # any failure to read the files' metadata or first block
        raise CliError(f"cannot read {pattern}: {_first_line(error)}") from error

    columns = [str(name) for name in frame.columns]
    selection = select_one_file(columns, pattern, y_true, y_pred, weight)
    check_outputs(requests, selection.y_true)
    for name in selection.needed(0):
        dtype = frame.dtypes[name]
        if getattr(dtype, "kind", "O") not in "biuf":
            raise CliError(f"column {show_value(name)} of {pattern} holds {dtype} values, not numbers")

    def column_array(names):
        return frame[list(names)].to_dask_array().astype(np.float64)

    true, pred = column_array(selection.y_true), column_array(selection.y_pred)
    finite = da.isfinite(true).all(axis=1) & da.isfinite(pred).all(axis=1)
    weights = None
    if selection.weight is not None:
        weights = column_array([selection.weight])[:, 0]
        finite = finite & da.isfinite(weights)
    true = da.where(finite[:, None], true, 0.0)
    pred = da.where(finite[:, None], pred, 0.0)
    if weights is not None:
        weights = da.where(finite, weights, 0.0)

    whole, per_column = [], [[] for _ in selection.y_true]
    for request in requests:
        if request.per_output and request.short != "r2":
            for group in per_column:
                group.append(make_metric(request.short, huber_delta, name=request.key, params=request.params))
        else:
            whole.append(
                make_metric(
                    request.short,
                    huber_delta,
                    request.per_output,
                    request.key,
                    len(selection.y_true),
                    params=request.params,
                )
            )
    bootstrap = {}
    if interval is not None:
        bootstrap = {
            "confidence": interval.confidence,
            "num_replicates": interval.replicates,
            "seed": interval.seed,
        }
    if by:
        from .slices import check_by, dask_keys

        check_by(columns, pattern, by)
        bootstrap["by"], counted = dask_keys(frame, by, finite)
    lazy = []
    if whole:
        lazy.append(
            regloss_dask.evaluate(true, pred, whole, weights, mask=finite, compute=False, **bootstrap)
        )
    for j, group in enumerate(per_column):
        if group:
            lazy.append(
                regloss_dask.evaluate(
                    true[:, j : j + 1],
                    pred[:, j : j + 1],
                    group,
                    weights,
                    mask=finite,
                    compute=False,
                    **bootstrap,
                )
            )
    kept, dropped = finite.sum(), (~finite).sum()
    if by:
        lazy.append(counted)

    client = None
    try:
        if scheduler is not None:
            distributed = _import("distributed", 'pip install "regloss[dask]"')
            try:
                client = distributed.Client(scheduler, timeout="10s")
            except Exception as error:
                raise CliError(
                    f"cannot connect to the Dask scheduler at {scheduler}: {_first_line(error)}"
                ) from error
        try:
            *found, kept, dropped = dask.compute(*lazy, kept, dropped)
            extra = []
            if quantiles is not None and int(kept) and (drop_nan or not int(dropped)):
                aligned = {"y_true": true, "y_pred": pred, "mask": finite}
                if weights is not None:
                    aligned["sample_weight"] = weights
                extra = quantiles(aligned, len(selection.y_true))
        except CliError:
            raise
        except DomainError as error:  # a value outside a metric's domain (gamma_deviance of 0...)
            raise CliError(str(error)) from None
        except Exception as error:  # a file that fails to parse, a worker that dies...
            fault = file_at_fault(files, selection.needed(0))
            if fault is not None:
                raise fault from error
            raise CliError(f"the Dask computation over {pattern} failed: {_first_line(error)}") from error
    finally:
        if client is not None:
            client.close()

    kept, dropped = int(kept), int(dropped)
    if dropped and not drop_nan:
        raise CliError(
            f"{dropped} row(s) hold NaN, missing or infinite values in the selected columns; "
            "pass --drop-nan to leave them out"
        )
    if kept == 0:
        if dropped:
            raise CliError(f"no rows left: all {dropped} rows hold NaN, missing or infinite values")
        raise CliError(f"{pattern} has no data rows")

    counts = found.pop() if by else None
    whole_results = found.pop(0) if whole else {}
    column_results = [found.pop(0) if group else {} for group in per_column]
    groups = None
    if by:
        from .slices import dask_groups

        groups = dask_groups(
            by, counts, max_groups, requests, selection.y_true, whole_results, column_results, interval
        )
        whole_results = whole_results.get("overall", {})
        column_results = [found.get("overall", {}) for found in column_results]

    def parts(found):
        return found if interval is not None else {"value": found}

    results = []
    for request in requests:
        if request.per_output and request.short != "r2":
            pieces = [parts(group[request.key]) for group in column_results]
        else:
            pieces = [parts(whole_results[request.key])]
        results.append(result_of(request, selection.y_true, pieces, interval))
    results += extra
    return Evaluation(
        rows=kept,
        dropped_rows=dropped,
        selection=selection,
        results=results,
        sample=None,
        inputs=files,
        interval=interval,
        by=list(by),
        groups=groups,
    )
