"""The local engine of ``regloss evaluate``: stream the files' rows through the streaming metrics.

Chunks of rows are read from one file (truth and predictions side by side) or two (truth, then
predictions, paired row by row), checked for NaN and infinite values, and passed to
``update_state`` of float64 :mod:`regloss.metrics` instances; the memory used does not depend on
the number of rows. A bounded, seeded reservoir sample of rows is kept for the plots when asked.

With ``--ci`` (an :class:`Interval`), every metric instance is wrapped in a
:class:`regloss.metrics.Bootstrap` and updated chunk by chunk with the rows' global indices: a
row's index is its position among the data rows of the file (0-based, rows holding NaN included),
so that ``--drop-nan`` gives every kept row the index that the Dask engine gives it too (a chunk
with dropped rows is passed whole, those rows zeroed and masked out).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..metrics import classes as metric_classes
from . import interrupt
from .columns import Selection, select_one_file, select_two_files
from .errors import CliError
from .names import CORRCOEF_METRICS, METRICS, ROW_METRICS, MetricRequest
from .progress import Progress
from .readers import DEFAULT_MAX_LINE_BYTES, Table, open_table

DEFAULT_CHUNK_ROWS = 100_000
SAMPLE_ROWS = 100_000
SAMPLE_SEED = 0


@dataclass(frozen=True)
class Interval:
    """The bootstrap settings of ``--ci``, ``--replicates`` and ``--seed``."""

    confidence: float
    replicates: int = 200
    seed: int = 0


@dataclass
class MetricResult:
    """One metric's result: one value over all outputs, or one per output (``outputs`` names them);
    with ``--ci``, the interval's bounds and the standard error, shaped like ``value``."""

    key: str
    short: str
    value: float | list[float]
    outputs: list[str] | None = None
    ci_low: float | list[float] | None = None
    ci_high: float | list[float] | None = None
    se: float | list[float] | None = None


@dataclass
class Evaluation:
    """What ``regloss evaluate`` found: the rows used and dropped, the columns, the results."""

    rows: int
    dropped_rows: int
    selection: Selection
    results: list[MetricResult]
    sample: Reservoir | None = None
    inputs: list[str] = field(default_factory=list)
    interval: Interval | None = None
    by: list[str] = field(default_factory=list)
    groups: list | None = None  # regloss.cli.slices.GroupResult per group, with --by


def check_outputs(requests: Sequence[MetricRequest], outputs: Sequence[str]) -> None:
    """A CliError when a metric cannot take this number of outputs (cosine and the correlations
    need several)."""
    row_metric = next((request.short for request in requests if request.short in ROW_METRICS), None)
    if len(outputs) < 2 and row_metric is not None:
        raise CliError(
            f"{row_metric} compares rows of several outputs, and one column each was selected for the "
            "truth and the predictions: select several with --y-true a,b,... --y-pred c,d,..."
        )


def make_metric(
    short: str,
    huber_delta: float,
    per_output: bool = False,
    name: str | None = None,
    outputs: int = 1,
    params: tuple = (),
):
    """A float64 metric instance of a short name (``per_output`` matters to ``r2`` only: one score per
    output instead of their uniform average; ``outputs``, the number of output columns it takes, to
    ``pearson`` and ``ccc`` only: over several, the mean of their per-output coefficients), with the
    parameters ``params`` (``((name, value), ...)``, from ``NAME:PARAM=VALUE``; huber's ``delta``
    defaults to ``--huber-delta``)."""
    cls = metric_classes.METRIC_CLASSES[METRICS[short].class_name]
    if cls is metric_classes.R2Score:
        return cls(None if per_output else "uniform_average", name=name, dtype="float64")
    if short in CORRCOEF_METRICS:
        return cls(outputs, name=name, dtype="float64", average_outputs=outputs > 1)
    given = dict(params)
    if cls is metric_classes.Huber:
        given.setdefault("delta", huber_delta)
    return cls(**given, name=name, dtype="float64")


def result_of(
    request: MetricRequest, outputs: Sequence[str], parts: Sequence[dict], interval: Interval | None
) -> MetricResult:
    """The :class:`MetricResult` of a request from its instances' results, each a dict of arrays
    (``"value"``, and ``"ci_low"``, ``"ci_high"``, ``"se"`` with an interval): one instance, or one
    per output for a per-output mean metric (their values concatenated)."""
    names = ("value", "ci_low", "ci_high", "se") if interval is not None else ("value",)
    fields = {}
    for name in names:
        arrays = [np.asarray(part[name], dtype=np.float64) for part in parts]
        if request.per_output:
            fields[name] = [float(v) for v in np.concatenate([a.reshape(-1) for a in arrays])]
        else:
            fields[name] = float(arrays[0])
    return MetricResult(
        request.key, request.short, outputs=list(outputs) if request.per_output else None, **fields
    )


class MetricSet:
    """The float64 metric instances of the requested metrics, fed chunk by chunk.

    A per-output mean metric is one instance per output column; ``r2_per_output`` is one
    ``R2Score(class_aggregation=None)``; the others take all outputs at once, and those whose sums
    a :class:`regloss.metrics.MetricCollection` shares (MSE, RMSE, MAE, Huber, MAPE, R2...) are
    updated together, one pass over each chunk. With an :class:`Interval`, each instance is a
    :class:`regloss.metrics.Bootstrap` of it.
    """

    def __init__(
        self,
        requests: Sequence[MetricRequest],
        outputs: Sequence[str],
        huber_delta: float,
        interval: Interval | None = None,
    ):
        check_outputs(requests, outputs)
        self.requests = list(requests)
        self.outputs = list(outputs)
        self.interval = interval
        self._instances: list[list[tuple[object, int | None]]] = []
        for request in self.requests:
            if request.per_output and request.short != "r2":
                found = [
                    (make_metric(request.short, huber_delta, params=request.params), j)
                    for j in range(len(outputs))
                ]
            else:
                found = [
                    (
                        make_metric(
                            request.short,
                            huber_delta,
                            request.per_output,
                            outputs=len(outputs),
                            params=request.params,
                        ),
                        None,
                    )
                ]
            if interval is not None:
                found = [(self._bootstrap(metric), column) for metric, column in found]
            self._instances.append(found)
        self._shared = self._shared_collection()

    def _shared_collection(self):
        """The instances that take every output and share one pass over each chunk, as one
        :class:`regloss.metrics.MetricCollection` (None when fewer than two do, or with an interval:
        the bootstraps draw their counts together instead)."""
        from ..metrics.collection import MetricCollection, shares

        if self.interval is not None:
            return None
        sharing = [
            metric
            for instances in self._instances
            for metric, column in instances
            if column is None and shares(metric)
        ]
        if len(sharing) < 2:
            return None
        return MetricCollection({str(i): metric for i, metric in enumerate(sharing)})

    def _bootstrap(self, metric):
        from ..metrics.bootstrap import Bootstrap

        interval = self.interval
        return Bootstrap(metric, interval.replicates, interval.confidence, interval.seed)

    def update(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        weight: np.ndarray | None,
        *,
        mask: np.ndarray | None = None,
        row_offset: int = 0,
    ) -> None:
        """Add a chunk: ``y_true`` and ``y_pred`` of shape ``(rows, outputs)``, ``weight`` and ``mask``
        ``(rows,)`` (``mask`` and ``row_offset``, the global index of the first row, only with an
        interval)."""
        bootstraps = []
        if self._shared is not None:  # one pass over the chunk for these (no domain to leave)
            self._shared.update_state(y_true, y_pred, sample_weight=weight)
        shared = set() if self._shared is None else {id(self._shared[name]) for name in self._shared}
        for request, instances in zip(self.requests, self._instances, strict=True):
            for metric, column in instances:
                if id(metric) in shared:
                    continue
                true = y_true if column is None else y_true[:, column : column + 1]
                pred = y_pred if column is None else y_pred[:, column : column + 1]
                if self.interval is not None:
                    bootstraps.append((metric, true, pred, weight, mask))
                else:
                    with _outside_domain(request.key, row_offset):
                        metric.update_state(true, pred, sample_weight=weight)
        if bootstraps:  # one draw of the Poisson counts for every metric
            from ..metrics.bootstrap import Bootstrap

            with _outside_domain(None, row_offset):
                Bootstrap.update_together(bootstraps, row_offset=row_offset)

    def results(self) -> list[MetricResult]:
        found = []
        for request, instances in zip(self.requests, self._instances, strict=True):
            if self.interval is not None:
                parts = [metric.result().as_dict() for metric, _ in instances]
            else:
                parts = [{"value": metric.result()} for metric, _ in instances]
            found.append(result_of(request, self.outputs, parts, self.interval))
        return found


@contextlib.contextmanager
def _outside_domain(key: str | None, row_offset: int):
    """A value outside a metric's domain (gamma_deviance of y <= 0, rmsle of -1...) as a CliError."""
    from ..metrics.per_output import DomainError

    try:
        yield
    except DomainError as error:
        where = f"metric {key!r}: " if key is not None else ""
        raise CliError(f"{where}{error} (in the rows from data row {row_offset + 1})") from None


class Reservoir:
    """A uniform sample of at most ``capacity`` rows of a stream (each row gets a seeded random
    key; the rows of the smallest keys are kept), for plots of files of any size."""

    def __init__(self, capacity: int, outputs: int, seed: int = SAMPLE_SEED):
        self.capacity = capacity
        self.seen = 0
        self._rng = np.random.default_rng(seed)
        self._keys = np.empty(0)
        self.y_true = np.empty((0, outputs))
        self.y_pred = np.empty((0, outputs))

    def add(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        keys = self._rng.random(len(y_true))
        self.seen += len(y_true)
        if len(self._keys) >= self.capacity:
            candidates = keys < self._keys.max()
            if not candidates.any():
                return
            keys, y_true, y_pred = keys[candidates], y_true[candidates], y_pred[candidates]
        keys = np.concatenate([self._keys, keys])
        y_true = np.concatenate([self.y_true, y_true])
        y_pred = np.concatenate([self.y_pred, y_pred])
        if len(keys) > self.capacity:
            keep = np.argpartition(keys, self.capacity - 1)[: self.capacity]
            keys, y_true, y_pred = keys[keep], y_true[keep], y_pred[keep]
        self._keys, self.y_true, self.y_pred = keys, y_true, y_pred


def _paired(streams: Sequence[Iterator[np.ndarray]], tables: Sequence[Table]) -> Iterator[list[np.ndarray]]:
    """Chunks of several streams cut to equal numbers of rows (a CliError if their lengths differ)."""
    pending: list[np.ndarray | None] = [None] * len(streams)
    consumed = 0
    while True:
        for i, stream in enumerate(streams):
            if pending[i] is None or not len(pending[i]):
                pending[i] = next(stream, None)
        ended = [chunk is None for chunk in pending]
        if all(ended):
            return
        if any(ended):
            lengths = []
            for chunk, stream in zip(pending, streams, strict=True):
                rest = 0 if chunk is None else len(chunk) + sum(len(more) for more in stream)
                lengths.append(consumed + rest)
            shown = ", ".join(f"{table.path} has {rows}" for table, rows in zip(tables, lengths, strict=True))
            raise CliError(f"the files differ in length: {shown} rows")
        rows = min(len(chunk) for chunk in pending)
        yield [chunk[:rows] for chunk in pending]
        pending = [chunk[rows:] for chunk in pending]
        consumed += rows


def _check_lengths(tables: Sequence[Table], selection: Selection) -> None:
    """Length mismatches and empty files that the files' headers already tell."""
    counts = [table.row_count(selection.needed(i)) for i, table in enumerate(tables)]
    for table, count in zip(tables, counts, strict=True):
        if count == 0:
            raise CliError(f"{table.path} has no data rows")
    if len(tables) == 2 and None not in counts and counts[0] != counts[1]:
        raise CliError(
            f"the files differ in length: {tables[0].path} has {counts[0]} rows, "
            f"{tables[1].path} has {counts[1]}"
        )


def select(tables: Sequence[Table], y_true, y_pred, weight) -> Selection:
    """The columns of one or two opened files (see :mod:`regloss.cli.columns`)."""
    if len(tables) == 1:
        return select_one_file(tables[0].columns, str(tables[0].path), y_true, y_pred, weight)
    return select_two_files(
        tables[0].columns, str(tables[0].path), tables[1].columns, str(tables[1].path), y_true, y_pred, weight
    )


def evaluate_files(
    paths: Sequence[str],
    *,
    y_true: list[str] | None,
    y_pred: list[str] | None,
    weight: str | None,
    requests: Sequence[MetricRequest],
    huber_delta: float = 1.0,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    drop_nan: bool = False,
    progress: Progress | None = None,
    sample_rows: int = 0,
    interval: Interval | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    by: Sequence[str] = (),
    max_groups: int | None = None,
) -> Evaluation:
    """Stream one file (truth and predictions) or two (truth, predictions) through the metrics
    (``max_line_bytes``: the longest CSV line read, see :func:`regloss.cli.readers.open_table`);
    with ``by``, per group of the first file's columns ``by`` too (:mod:`regloss.cli.slices`)."""
    with contextlib.ExitStack() as stack:
        tables = [stack.enter_context(open_table(path, max_line_bytes)) for path in paths]
        interrupt.claim_from_libraries()  # pyarrow, imported by a reader, keeps its hands off SIGINT
        selection = select(tables, y_true, y_pred, weight)
        metrics = MetricSet(requests, selection.y_true, huber_delta, interval)
        _check_lengths(tables, selection)
        needed = [selection.needed(i) for i in range(len(tables))]
        sample = Reservoir(sample_rows, selection.outputs) if sample_rows else None
        slices = _slices(tables[0], by, requests, selection, huber_delta, interval, max_groups)

        def columns_of(source: int, names: Sequence[str], blocks: list[np.ndarray]) -> np.ndarray:
            return blocks[source][:, [needed[source].index(name) for name in names]]

        rows = dropped = 0
        first_bad = None
        streams = [table.chunks(names, chunk_rows) for table, names in zip(tables, needed, strict=True)]
        if slices is not None:
            streams[0] = tables[0].keyed_chunks(needed[0], by, chunk_rows)
        for blocks in _paired(streams, tables):
            interrupt.check()  # Ctrl-C, even if the code it interrupted swallowed the exception
            keys = None
            if slices is not None:
                keys, blocks[0] = blocks[0].keys, blocks[0].values
            true = columns_of(0, selection.y_true, blocks)
            pred = columns_of(selection.pred_source, selection.y_pred, blocks)
            weights = None
            if selection.weight is not None:
                weights = columns_of(selection.weight_source, [selection.weight], blocks)[:, 0]
            position = rows + dropped  # the global index of the chunk's first row
            finite = np.isfinite(true).all(axis=1) & np.isfinite(pred).all(axis=1)
            if weights is not None:
                finite &= np.isfinite(weights)
            bad = len(finite) - int(np.count_nonzero(finite))
            mask = None
            kept_true, kept_pred = true, pred
            if bad:
                if first_bad is None:
                    first_bad = position + int(np.argmin(finite)) + 1
                dropped += bad
                kept_true, kept_pred = true[finite], pred[finite]
                if interval is None:
                    true, pred = kept_true, kept_pred
                    weights = weights[finite] if weights is not None else None
                else:  # the whole chunk, so that every row keeps its index; the bad rows add nothing
                    mask = finite
                    true = np.where(finite[:, None], true, 0.0)
                    pred = np.where(finite[:, None], pred, 0.0)
                    weights = np.where(finite, weights, 0.0) if weights is not None else None
            rows += len(kept_true)
            if len(kept_true) and (drop_nan or not dropped):
                metrics.update(true, pred, weights, mask=mask, row_offset=position)
                if slices is not None:
                    kept = finite if bad else None
                    slices.update(keys, true, pred, weights, kept=kept, mask=mask, row_offset=position)
                if sample is not None:
                    sample.add(kept_true, kept_pred)
            if progress is not None:
                progress.update(tables[0].fraction_read(), rows + dropped)
        if dropped and not drop_nan:
            raise CliError(
                f"{dropped} row(s) hold NaN, missing or infinite values in the selected columns (the first "
                f"is row {first_bad}); pass --drop-nan to leave them out"
            )
        if rows == 0:
            if dropped:
                raise CliError(f"no rows left: all {dropped} rows hold NaN, missing or infinite values")
            raise CliError(f"{paths[0]} has no data rows")
        return Evaluation(
            rows=rows,
            dropped_rows=dropped,
            selection=selection,
            results=metrics.results(),
            sample=sample,
            inputs=[str(path) for path in paths],
            interval=interval,
            by=list(by),
            groups=None if slices is None else slices.results(text_keys=tables[0].text_keys),
        )


def _slices(table, by, requests, selection, huber_delta, interval, max_groups):
    """The per-group metrics of ``--by`` (None without it), its columns checked."""
    if not by:
        return None
    from .slices import DEFAULT_MAX_GROUPS, Slices, check_by

    check_by(table.columns, str(table.path), by)
    limit = DEFAULT_MAX_GROUPS if max_groups is None else max_groups
    return Slices(by, requests, selection.y_true, huber_delta, interval, limit)
