"""Which columns hold the truth, the predictions and the weight.

Without ``--y-true`` / ``--y-pred``, a file's truth is its column ``y_true`` (else ``target``, else
every column whose name starts with ``y_true_``) and its predictions ``y_pred`` (else
``prediction``, else the ``y_pred_*`` columns, paired with the ``y_true_*`` ones by the rest of the
name). With two files, a file without such columns gives all its columns (but the weight). Several
columns per side are several outputs, paired in order. The weight is never guessed: ``--weight``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from .._messages import show_plain, show_value
from .errors import CliError

TRUE_NAMES = ("y_true", "target")
PRED_NAMES = ("y_pred", "prediction")
TRUE_PREFIX = "y_true_"
PRED_PREFIX = "y_pred_"


@dataclass(frozen=True)
class Selection:
    """The chosen columns: truth and prediction columns (one per output, paired in order) and
    the weight column, with the file each comes from (0: the first file, 1: the second)."""

    y_true: tuple[str, ...]
    y_pred: tuple[str, ...]
    weight: str | None = None
    pred_source: int = 0
    weight_source: int = 0

    @property
    def outputs(self) -> int:
        return len(self.y_true)

    def needed(self, source: int) -> list[str]:
        """The distinct columns to read from file ``source``, in a stable order."""
        names = list(self.y_true) if source == 0 else []
        if self.pred_source == source:
            names += self.y_pred
        if self.weight is not None and self.weight_source == source:
            names.append(self.weight)
        return list(dict.fromkeys(names))


def split_names(text: str | None, flag: str) -> list[str] | None:
    """The column names of a ``--flag a,b,c`` value (None when the flag is absent)."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",")]
    if not names or any(not name for name in names):
        raise CliError(f"{flag} takes column names separated by commas; received {show_value(text)}")
    return names


def _show_columns(columns: Sequence[str], limit: int = 20) -> str:
    shown = show_plain(", ".join(columns[:limit]), limit=400)  # column names may be megabytes long
    return shown + (f", ... ({len(columns) - limit} more)" if len(columns) > limit else "")


def check_exists(name: str, columns: Sequence[str], where: str, flag: str) -> None:
    """A CliError naming the columns that exist (and the nearest one) when ``name`` is not one."""
    if name in columns:
        return
    close = difflib.get_close_matches(name, list(columns), n=1)
    hint = f" (did you mean {show_value(close[0])}?)" if close else ""
    raise CliError(
        f"unknown column {show_value(name)} in {flag}{hint}: {where} has columns {_show_columns(columns)}"
    )


def _default(columns: Sequence[str], exact: Sequence[str], prefix: str) -> list[str] | None:
    for name in exact:
        if name in columns:
            return [name]
    prefixed = [name for name in columns if name.startswith(prefix) and len(name) > len(prefix)]
    return prefixed or None


def _pair_prefixed(y_true: list[str], y_pred: list[str], where: str) -> list[str]:
    """The ``y_pred_*`` columns in the order of the ``y_true_*`` ones, paired by suffix."""
    pred_by_suffix = {name[len(PRED_PREFIX) :]: name for name in y_pred}
    true_suffixes = [name[len(TRUE_PREFIX) :] for name in y_true]
    if sorted(true_suffixes) != sorted(pred_by_suffix):
        raise CliError(
            f"the y_true_* columns of {where} ({', '.join(y_true)}) do not pair with its y_pred_* columns "
            f"({', '.join(y_pred)}): name them with --y-true and --y-pred"
        )
    return [pred_by_suffix[suffix] for suffix in true_suffixes]


def _check_pairs(y_true: Sequence[str], y_pred: Sequence[str]) -> None:
    if len(y_true) != len(y_pred):
        raise CliError(
            f"{len(y_true)} truth column(s) ({', '.join(y_true)}) but {len(y_pred)} prediction column(s) "
            f"({', '.join(y_pred)}): each output needs one of each"
        )


def select_one_file(
    columns: Sequence[str],
    where: str,
    y_true: list[str] | None,
    y_pred: list[str] | None,
    weight: str | None,
) -> Selection:
    """The selection in a single file holding truth and predictions."""
    for names, flag in ((y_true, "--y-true"), (y_pred, "--y-pred")):
        for name in names or ():
            check_exists(name, columns, where, flag)
    if weight is not None:
        check_exists(weight, columns, where, "--weight")
    true_default = y_true is None
    pred_default = y_pred is None
    if y_true is None:
        y_true = _default(columns, TRUE_NAMES, TRUE_PREFIX)
        if y_true is None:
            raise CliError(
                f"{where} has no column y_true or target (nor y_true_*): name the truth column(s) with "
                f"--y-true; its columns are {_show_columns(columns)}"
            )
    if y_pred is None:
        y_pred = _default(columns, PRED_NAMES, PRED_PREFIX)
        if y_pred is None:
            raise CliError(
                f"{where} has no column y_pred or prediction (nor y_pred_*): name the prediction column(s) "
                f"with --y-pred; its columns are {_show_columns(columns)}"
            )
    if (
        true_default
        and pred_default
        and y_true[0].startswith(TRUE_PREFIX)
        and y_pred[0].startswith(PRED_PREFIX)
    ):
        y_pred = _pair_prefixed(y_true, y_pred, where)
    _check_pairs(y_true, y_pred)
    return Selection(tuple(y_true), tuple(y_pred), weight)


def select_two_files(
    true_columns: Sequence[str],
    true_where: str,
    pred_columns: Sequence[str],
    pred_where: str,
    y_true: list[str] | None,
    y_pred: list[str] | None,
    weight: str | None,
) -> Selection:
    """The selection when the truth is in one file and the predictions in another (the weight
    column is looked up in the truth file first, then in the predictions file)."""
    weight_source = 0
    if weight is not None:
        if weight in true_columns:
            weight_source = 0
        elif weight in pred_columns:
            weight_source = 1
        else:
            raise CliError(
                f"unknown column {show_value(weight)} in --weight: {true_where} has columns "
                f"{_show_columns(true_columns)}; {pred_where} has columns {_show_columns(pred_columns)}"
            )
    for name in y_true or ():
        check_exists(name, true_columns, true_where, "--y-true")
    for name in y_pred or ():
        check_exists(name, pred_columns, pred_where, "--y-pred")

    def everything_but_weight(columns: Sequence[str], source: int) -> list[str]:
        return [name for name in columns if not (weight_source == source and name == weight)]

    if y_true is None:
        y_true = _default(true_columns, TRUE_NAMES, TRUE_PREFIX) or everything_but_weight(true_columns, 0)
    if y_pred is None:
        y_pred = _default(pred_columns, PRED_NAMES, PRED_PREFIX) or everything_but_weight(pred_columns, 1)
    if not y_true:
        raise CliError(f"{true_where} has no column left for the truth: name it with --y-true")
    if not y_pred:
        raise CliError(f"{pred_where} has no column left for the predictions: name it with --y-pred")
    _check_pairs(y_true, y_pred)
    return Selection(tuple(y_true), tuple(y_pred), weight, pred_source=1, weight_source=weight_source)
