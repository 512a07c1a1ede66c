"""``Grouped(AbsoluteErrorQuantile(...))``: one sketch per group key.

Each group's result is the sketch of that group's rows alone (the bound of
:class:`~regloss.metrics.AbsoluteErrorQuantile` holds per group); the state is one 568 KiB sketch
(``relative_accuracy=0.01``) per distinct key seen, whatever the number of rows. Keys follow
:func:`regloss.metrics.group_keys.factorize` (NaN and None form one group, ``None``) and the result
is sorted by key (missing last), as :class:`regloss.metrics.Grouped`.
"""

from __future__ import annotations

import numpy as np

from .group_keys import factorize, sort_key
from .quantile_sketch import AbsoluteErrorQuantile


class GroupedSketch:
    """What ``Grouped(AbsoluteErrorQuantile(...))`` builds."""

    def __init__(self, metric, name=None):
        self.config = metric.get_config()
        self.name = name or f"{metric.name}_by_group"
        self.groups: dict = {}

    def update_state(self, y_true, y_pred, sample_weight=None, *, groups, mask=None, row_offset=None):
        """Add a batch whose row ``i`` belongs to the group ``groups[i]``."""
        coded = factorize(groups)
        true, pred = np.asarray(y_true), np.asarray(y_pred)
        if len(coded) != (true.shape[0] if true.ndim else 1):
            raise ValueError(f"groups must hold one key per row ({true.shape[0]}); received {len(coded)}")
        weights = (
            None if sample_weight is None else np.broadcast_to(np.asarray(sample_weight, float), len(coded))
        )
        masks = None if mask is None else np.asarray(mask)
        for code, rows in coded.rows_by_code():
            key = coded.keys[code]
            metric = self.groups.get(key)
            if metric is None:
                metric = self.groups[key] = AbsoluteErrorQuantile.from_config(self.config)
            metric.update_state(
                true[rows],
                pred[rows],
                None if weights is None else weights[rows],
                mask=None if masks is None else masks[rows],
            )

    def merge_state(self, *others):
        for other in others:
            for key, metric in other.groups.items():
                if key in self.groups:
                    self.groups[key].merge_state([metric])
                else:
                    copy = AbsoluteErrorQuantile.from_config(self.config)
                    copy.merge_state([metric])
                    self.groups[key] = copy

    def result(self) -> dict:
        return {key: self.groups[key].result() for key in sorted(self.groups, key=sort_key)}

    def reset_state(self):
        self.groups = {}
