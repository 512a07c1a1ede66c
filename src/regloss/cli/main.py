"""``regloss``: the command line's arguments and dispatch (``regloss evaluate``, ``regloss losses``).

Exit status: 0 on success; 2 for bad input or usage, with one line ``regloss: error: ...`` on
stderr and nothing written; 1 for an unexpected failure (one line too; set the environment
variable ``REGLOSS_TRACEBACK=1`` to see the traceback); 130 when interrupted (Ctrl-C), with no
output file written or replaced (:mod:`.interrupt`).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from collections.abc import Sequence

from .._messages import show_value
from .._version import __version__
from ..metrics.bootstrap import MAX_REPLICATES
from . import interrupt
from .engine import DEFAULT_CHUNK_ROWS, SAMPLE_ROWS, Evaluation, Interval, evaluate_files
from .errors import CliError
from .files import StagedFile, check_destination, check_distinct, commit_all
from .names import DEFAULT_METRICS, METRICS, PER_OUTPUT, catalogue, parse_metrics
from .progress import Progress
from .readers import DEFAULT_MAX_LINE_BYTES
from .report import FORMATS, render


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``regloss: error:`` line (exit status 2)."""

    def error(self, message: str):
        raise CliError(f"{message} (see {self.prog} --help)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= 1; received {show_value(text)}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1; received {show_value(text)}")
    return value


def _huber_delta(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise CliError(f"bad --huber-delta {show_value(text)}: it must be a finite number > 0")
    return value


DEFAULT_REPLICATES = 200
DEFAULT_SEED = 0
MAX_SEED = 2**32 - 1


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:  # NaN included
        raise CliError(
            f"bad --ci {show_value(text)}: it must be a number strictly between 0 and 1 "
            "(0.95: a 95% interval)"
        )
    return value


def _whole_number(text: str, flag: str, low: int, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"from {low} to {high}"
        raise CliError(f"bad {flag} {show_value(text)}: it must be a whole number {bound}")
    return value


def _interval(args: argparse.Namespace) -> Interval | None:
    """The bootstrap settings of ``--ci``, ``--replicates`` and ``--seed`` (None without ``--ci``)."""
    if args.ci is None:
        given = [flag for flag, value in (("--replicates", args.replicates), ("--seed", args.seed)) if value]
        if given:
            raise CliError(f"{' and '.join(given)} need{'s' if len(given) == 1 else ''} --ci")
        return None
    replicates = DEFAULT_REPLICATES
    if args.replicates is not None:
        # the bound of regloss.metrics.bootstrap.check_settings, checked before anything is read
        replicates = _whole_number(args.replicates, "--replicates", 2, MAX_REPLICATES)
    seed = DEFAULT_SEED if args.seed is None else _whole_number(args.seed, "--seed", 0, MAX_SEED)
    return Interval(_confidence(args.ci), replicates, seed)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="regloss",
        description="Score regression predictions stored in files with the regloss metrics.",
    )
    parser.add_argument("--version", action="version", version=f"regloss {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    evaluate = commands.add_parser(
        "evaluate",
        help="compute metrics of predictions against the truth, streaming files of any size",
        description=(
            "Compute metrics of predictions against the truth. PATH holds both (columns y_true and "
            "y_pred, target and prediction, y_true_* and y_pred_*, or those named by --y-true and "
            "--y-pred); with PATH_PRED, PATH holds the truth and PATH_PRED the predictions, row by row. "
            "Formats: .csv, .csv.gz, .parquet, .npy, .npz."
        ),
    )
    evaluate.add_argument("path", metavar="PATH", help="the file of truth (and predictions)")
    evaluate.add_argument("path_pred", metavar="PATH_PRED", nargs="?", help="a file of predictions")
    evaluate.add_argument("--y-true", metavar="COL[,COL...]", help="the truth column(s): one per output")
    evaluate.add_argument(
        "--y-pred", metavar="COL[,COL...]", help="the prediction column(s), paired in order"
    )
    evaluate.add_argument("--weight", metavar="COL", help="a column of per-row sample weights")
    evaluate.add_argument(
        "--metrics",
        default=DEFAULT_METRICS,
        metavar="NAME[,NAME...]",
        help=f"metrics among {', '.join(METRICS)}, median_ae, ae_quantile:q=Q or their aliases (regloss "
        "losses lists them); "
        f"NAME{PER_OUTPUT} gives one value per output (default: {DEFAULT_METRICS})",
    )
    evaluate.add_argument(
        "--quantiles",
        choices=("exact", "sketch"),
        default="exact",
        help="median_ae and ae_quantile:q=Q: exact in 4 passes over the files (default), or a one-pass "
        "sketch within 1%% of the value (needed for standard input)",
    )
    evaluate.add_argument("--huber-delta", metavar="D", default="1.0", help="delta of huber (default 1.0)")
    evaluate.add_argument(
        "--chunk-rows",
        type=_positive_int,
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help=f"rows read at a time (default {DEFAULT_CHUNK_ROWS})",
    )
    evaluate.add_argument(
        "--max-line-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_LINE_BYTES,
        metavar="N",
        help=f"the longest CSV line accepted, in bytes (default {DEFAULT_MAX_LINE_BYTES}, 16 MiB); "
        "a longer line is an error",
    )
    evaluate.add_argument("--format", choices=FORMATS, default="table", help="report format (default table)")
    evaluate.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    evaluate.add_argument(
        "--plot", metavar="FILE.png", help="draw diagnostic plots into FILE.png (matplotlib)"
    )
    evaluate.add_argument(
        "--engine", choices=("local", "dask"), default="local", help="local streaming (default) or Dask"
    )
    evaluate.add_argument(
        "--scheduler", metavar="ADDRESS", help="a Dask distributed scheduler (--engine dask)"
    )
    evaluate.add_argument(
        "--drop-nan", action="store_true", help="leave out rows with NaN or infinite values"
    )
    evaluate.add_argument(
        "--ci",
        metavar="C",
        help="add a Poisson-bootstrap percentile interval of confidence C (0 < C < 1, e.g. 0.95) and "
        "the standard error to every metric",
    )
    evaluate.add_argument(
        "--replicates",
        metavar="N",
        help=f"bootstrap replicates of --ci (a whole number from 2 to {MAX_REPLICATES}; "
        f"default {DEFAULT_REPLICATES})",
    )
    evaluate.add_argument(
        "--seed",
        metavar="S",
        help=f"seed of the bootstrap of --ci (0 to {MAX_SEED}; default {DEFAULT_SEED})",
    )
    evaluate.add_argument(
        "--by",
        metavar="COL[,COL...]",
        help="also compute every metric per group of rows: per distinct value (or tuple of values) of "
        "these columns of PATH (missing values form one group)",
    )
    evaluate.add_argument(
        "--top",
        metavar="K",
        help="with --by, the table and the plot show the K worst groups (default: all up to 50, else 50)",
    )
    evaluate.add_argument(
        "--max-groups",
        metavar="N",
        help="with --by, more distinct groups than N is an error (default 10000)",
    )
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar and no notes on stderr")
    evaluate.set_defaults(run=run_evaluate)

    losses = commands.add_parser("losses", help="list the losses and metrics with formulas and aliases")
    losses.set_defaults(run=run_losses)
    return parser


def _split(text: str | None, flag: str) -> list[str] | None:
    from .columns import split_names

    return split_names(text, flag)


def _evaluate(
    args: argparse.Namespace,
    requests,
    delta: float,
    sample_rows: int,
    interval: Interval | None,
    quantiles=None,
) -> Evaluation:
    columns = {
        "y_true": _split(args.y_true, "--y-true"),
        "y_pred": _split(args.y_pred, "--y-pred"),
        "weight": args.weight,
    }
    by = _split(args.by, "--by") or []
    if args.engine == "dask":
        from .dask_engine import evaluate_dask

        return evaluate_dask(
            args.path,
            **columns,
            requests=requests,
            huber_delta=delta,
            drop_nan=args.drop_nan,
            scheduler=args.scheduler,
            interval=interval,
            by=by,
            max_groups=args.max_groups,
            quantiles=quantiles,
        )
    paths = [args.path] if args.path_pred is None else [args.path, args.path_pred]
    progress = Progress() if Progress.wanted(args.quiet) else None
    try:
        return evaluate_files(
            paths,
            **columns,
            requests=requests,
            huber_delta=delta,
            chunk_rows=args.chunk_rows,
            drop_nan=args.drop_nan,
            progress=progress,
            sample_rows=sample_rows,
            interval=interval,
            max_line_bytes=args.max_line_bytes,
            by=by,
            max_groups=args.max_groups,
        )
    finally:
        if progress is not None:
            progress.close()


def run_evaluate(args: argparse.Namespace) -> int:
    """``regloss evaluate``: check every option, stream the data, then write every output."""
    from .quantiles import dask_quantiles, mode_note, quantile_results, split_requests

    others, quantiles = split_requests(args.metrics)
    if quantiles and args.engine == "dask" and (args.by or args.ci is not None):
        raise CliError("median_ae and ae_quantile with --engine dask work without --by and --ci")
    # the other metrics stream as usual (mae stands in when only quantiles are asked, for the row count)
    requests = parse_metrics(others if others is not None else "mae")
    delta = _huber_delta(args.huber_delta)
    interval = _interval(args)
    _slicing(args)
    if args.engine == "dask":
        if args.path_pred is not None:
            raise CliError("--engine dask takes one PATH (a file, a directory or a glob of files)")
        if args.plot is not None:
            raise CliError("--plot works with --engine local only")
    elif args.scheduler is not None:
        raise CliError("--scheduler needs --engine dask")
    output = check_destination(args.output, "--output") if args.output is not None else None
    plot_path = check_destination(args.plot, "--plot") if args.plot is not None else None
    destinations = {flag: path for flag, path in (("--output", output), ("--plot", plot_path)) if path}
    check_distinct(destinations, _inputs(args))
    plot_form = None
    if plot_path is not None:
        from .plot import plot_format

        plot_form = plot_format(plot_path)

    with warnings.catch_warnings():
        # 0/0 and x/0 in a result (an r2 of constant truth) are reported as null/nan, not warned about
        warnings.simplefilter("ignore", RuntimeWarning)
        sample_rows = SAMPLE_ROWS if plot_path is not None and not args.by else 0
        on_dask = None
        if quantiles and args.engine == "dask":
            on_dask = dask_quantiles(quantiles, args.quantiles)
        evaluation = _evaluate(args, requests, delta, sample_rows, interval, on_dask)
        if on_dask is not None:
            if others is None:
                evaluation.results = evaluation.results[1:]  # the stand-in mae
        elif quantiles:
            if others is None:
                evaluation.results = []
            paths = [args.path] if args.path_pred is None else [args.path, args.path_pred]
            columns = {
                "y_true": _split(args.y_true, "--y-true"),
                "y_pred": _split(args.y_pred, "--y-pred"),
                "weight": args.weight,
            }
            overall, per_group = quantile_results(
                paths,
                columns,
                quantiles,
                args.quantiles,
                chunk_rows=args.chunk_rows,
                drop_nan=args.drop_nan,
                max_line_bytes=args.max_line_bytes,
                by=_split(args.by, "--by") if args.by else (),
                interval=interval,
            )
            evaluation.results += overall
            for group, results in zip(evaluation.groups or [], per_group or [], strict=True):
                if others is None:
                    group.results = []
                group.results += results
    text = render(evaluation, args.format, args.top)
    if quantiles and args.format == "table":
        text += mode_note(quantiles, args.quantiles, interval)

    notes = []
    if evaluation.dropped_rows:
        notes.append(f"left out {evaluation.dropped_rows} row(s) holding NaN or infinite values")
    staged = []
    try:
        if plot_path is not None:
            figure = StagedFile(plot_path, "--plot")
            staged.append(figure)
            if evaluation.groups is not None:
                from .slices_plot import draw_groups

                figure.write(lambda temporary: draw_groups(temporary, plot_form, evaluation, args.top))
            else:
                from .plot import draw, drawable

                points = drawable(evaluation.sample.y_true, evaluation.sample.y_pred)
                if points.left_out:
                    notes.append(f"--plot {points.describe_left_out()}")
                figure.write(lambda temporary: draw(temporary, plot_form, evaluation, points))
        if output is not None:
            report = StagedFile(output, "--output")
            staged.append(report)
            report.write_text(text)
        commit_all(staged)  # Ctrl-C pressed until here ends the run with nothing replaced
    finally:
        for file in staged:
            file.discard()
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    if not args.quiet:
        for note in notes:
            print(f"regloss: note: {note}", file=sys.stderr)
    return 0


def _slicing(args: argparse.Namespace) -> None:
    """``--top`` and ``--max-groups`` checked (whole numbers >= 1, with ``--by`` only), as ints."""
    for flag, name in (("--top", "top"), ("--max-groups", "max_groups")):
        text = getattr(args, name)
        if text is None:
            continue
        if args.by is None:
            raise CliError(f"{flag} needs --by")
        setattr(args, name, _whole_number(text, flag, 1))


def _inputs(args: argparse.Namespace) -> list[str]:
    """The input files of ``regloss evaluate`` (those of a directory or glob with ``--engine dask``)."""
    if args.engine == "dask":
        from .dask_engine import input_files

        return input_files(args.path)[0]
    return [args.path] if args.path_pred is None else [args.path, args.path_pred]


def run_losses(args: argparse.Namespace) -> int:
    """``regloss losses``: the catalogue of losses, reductions and metrics."""
    sys.stdout.write(catalogue())
    return 0


def _interrupted() -> int:
    print("regloss: interrupted", file=sys.stderr)
    return 130


def _dispatch(argv: Sequence[str] | None) -> int:
    """Parse and run a command: its exit status, every failure turned into one line on stderr."""
    try:
        interrupt.check()  # Ctrl-C while the command was starting
        args = build_parser().parse_args(argv)
        return args.run(args)
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as error:
        if interrupt.received():
            # Ctrl-C reached code that turned it into another error (a numba compilation it cut
            # short, a library's own handling): the run was interrupted, and no output replaced
            return _interrupted()
        return _failed(error)


def _failed(error: Exception) -> int:
    """The exit status of a run that failed without an interrupt, and its one line on stderr."""
    if isinstance(error, CliError):
        print(f"regloss: error: {error.message}", file=sys.stderr)
        return 2
    if isinstance(error, BrokenPipeError):
        # the reader of stdout went away (| head): nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    if os.environ.get("REGLOSS_TRACEBACK"):
        raise error
    lines = str(error).strip().splitlines()
    detail = f": {lines[0]}" if lines else ""
    print(
        f"regloss: error: unexpected {type(error).__name__}{detail} "
        "(set REGLOSS_TRACEBACK=1 to see the traceback)",
        file=sys.stderr,
    )
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (130 when Ctrl-C ended it: then no output
    file was replaced, see :mod:`regloss.cli.interrupt`)."""
    try:
        with interrupt.handling():
            return _dispatch(argv)
    except KeyboardInterrupt:  # Ctrl-C while an error was being reported or the handler removed
        return _interrupted()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
