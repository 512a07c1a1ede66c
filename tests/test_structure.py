"""The structure of issue 21, checked: one description per loss (``regloss.specs``) that every face
agrees with, one rule that picks a reduction's divisor, and dependencies that run one way.

``python -m tests.test_structure`` prints the import graph between regloss's top-level modules.
"""

from __future__ import annotations

import ast
import collections
import inspect
import pathlib

import pytest

import regloss
from regloss import losses, metrics, specs
from regloss.cli import names as cli_names
from regloss.losses import registry
from tests._cases import LOSSES, METRIC_CLASS_NAMES, METRIC_ONLY

SOURCE = pathlib.Path(regloss.__file__).parent


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _exists(dotted: str) -> bool:
    path = SOURCE.parent / dotted.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").exists()


def import_graph():
    """``(edges, private)``: module -> the regloss modules it imports (relative imports), and the
    ``(module, source, name)`` of every private name imported from another package."""
    edges, private = collections.defaultdict(set), []
    for path in SOURCE.rglob("*.py"):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{source}.{alias.name}"
                edges[module].add(target if _exists(target) else source)
                source_package = (
                    source
                    if (SOURCE.parent / source.replace(".", "/")).is_dir()
                    else source.rsplit(".", 1)[0]
                )
                private_name = alias.name.startswith("_") and not alias.name.startswith("__")
                if private_name and not _exists(target) and source_package != package:
                    private.append((module, source, alias.name))
    return edges, private


def top_level_graph(edges):
    top = lambda name: ".".join(name.split(".")[:2])  # noqa: E731
    graph = collections.defaultdict(set)
    for source, targets in edges.items():
        for target in targets:
            if top(source) != top(target):
                graph[top(source)].add(top(target))
    return graph


def test_dependencies_run_one_way():
    graph = top_level_graph(import_graph()[0])
    two_way = [(a, b) for a in graph for b in graph[a] if a < b and a in graph.get(b, ())]
    assert two_way == []
    assert "regloss.kernels" in graph["regloss.losses"] and "regloss.losses" not in graph["regloss.kernels"]


def test_no_private_name_crosses_a_package():
    assert import_graph()[1] == []


def test_the_descriptions_depend_only_on_the_formulas_and_the_parameter_checks():
    edges, _ = import_graph()
    assert edges["regloss.specs"] == {"regloss.formulas", "regloss.params"}
    for leaf in ("regloss.formulas", "regloss.params"):
        assert not any(
            target.startswith(("regloss.losses", "regloss.metrics", "regloss.kernels"))
            for target in edges[leaf]
        )


_DIVISOR_NAMES = {
    "mean_with_sample_weight",
    "sum_over_batch_size",
    "weighted_mean",
    "weighted_sum_by_nonzero_weights",
}
_DIVISOR_ATTRIBUTES = {"MEAN_WITH_SAMPLE_WEIGHT", "SUM_OVER_BATCH_SIZE", "SUM_BY_NONZERO_WEIGHTS"}


def _compared_reductions(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                values = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
                for value in values:
                    if isinstance(value, ast.Constant) and value.value in _DIVISOR_NAMES:
                        yield node.lineno
                    if isinstance(value, ast.Attribute) and value.attr in _DIVISOR_ATTRIBUTES:
                        yield node.lineno


def test_only_reduction_py_picks_a_divisor():
    """No code outside ``regloss/reduction.py`` compares a reduction with the names whose divisor
    differs: every path asks :func:`regloss.reduction.divisor_of`."""
    found = {}
    for path in SOURCE.rglob("*.py"):
        if path == SOURCE / "reduction.py":
            continue
        lines = list(_compared_reductions(ast.parse(path.read_text())))
        if lines:
            found[str(path.relative_to(SOURCE))] = lines
    assert found == {}


def test_every_case_of_the_test_table_has_its_description():
    described = {spec.name: spec for spec in specs.LOSSES}
    assert sorted(described) == sorted(case.function for case in LOSSES)
    for case in LOSSES:
        spec = described[case.function]
        assert spec.class_name == case.cls
        assert sorted((*spec.aliases, *spec.keras2_aliases)) == sorted(case.aliases)
        assert (spec.metric.class_name if spec.metric else None) == case.metric
        assert (spec.metric.short if spec.metric else None) == case.short
        assert spec.kernel == case.kernel
    assert sorted((m.class_name, m.short) for m in specs.METRICS) == sorted(METRIC_ONLY)
    assert sorted(metrics.METRIC_CLASSES) == sorted(METRIC_CLASS_NAMES)


def test_the_test_table_imports_nothing_of_regloss():
    """``tests/_cases.py`` is written independently of regloss: a fact lost there fails here."""
    tree = ast.parse((pathlib.Path(__file__).parent / "_cases.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not [name for name in imported if name.split(".")[0] in ("regloss", "tests")], imported


def test_every_face_is_derived_from_the_descriptions():
    for case in LOSSES:
        assert registry.get(case.function) is getattr(losses, case.function)
        assert type(registry.get(case.cls)) is getattr(losses, case.cls)
        for alias in case.aliases:
            assert registry.get(alias) is getattr(losses, case.function)
        if case.metric:
            assert metrics.METRIC_CLASSES[case.metric] is getattr(metrics, case.metric)
            assert cli_names.METRICS[case.short].class_name == case.metric
            assert cli_names.parse_metrics(case.short)[0].short == case.short
    for class_name, short in METRIC_ONLY:
        assert cli_names.METRICS[short].class_name == class_name


@pytest.mark.parametrize("spec", specs.LOSSES, ids=lambda spec: spec.name)
def test_explicit_signatures_hold_no_fact_of_their_own(spec):
    """Functions and classes spell out their signatures (for IDEs and docs); their defaults must
    be the description's."""
    function = inspect.signature(getattr(losses, spec.name)).parameters
    cls = inspect.signature(getattr(losses, spec.class_name)).parameters
    for param in spec.params:
        assert function[param.name].default == param.default, param.name
        assert cls[param.name].default == param.default, param.name
    assert cls["name"].default == spec.default_name
    assert set(function) == {"y_true", "y_pred", *spec.param_names}
    assert set(cls) == {"reduction", "name", "dtype", *spec.param_names}
    if spec.metric is not None:
        metric = getattr(metrics, spec.metric.class_name)
        assert metric().name == spec.metric.default_name
        for param in spec.params:
            assert inspect.signature(metric).parameters[param.name].default == param.default


if __name__ == "__main__":
    edges, private = import_graph()
    for source, targets in sorted(top_level_graph(edges).items()):
        print(f"{source} -> {', '.join(sorted(targets))}")
    print("private names imported across packages:", private or "none")
    print("regloss.specs imports:", ", ".join(sorted(edges["regloss.specs"])))
