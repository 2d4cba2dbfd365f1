"""The contract page (core/extension_points.py) names every registry of the product, and truly."""

from __future__ import annotations

import ast
import importlib

import pytest

from core.extension_points import EXTENSION_POINTS, EXTERNAL_APIS
from core.registry import Registry
from tests.test_structure import module_files


def _resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _registries_in_source() -> set[str]:
    """`module.name` of every module-level variable annotated as a Registry in product code."""
    found = set()
    for module, path in module_files().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign) and "Registry" in ast.unparse(node.annotation):
                found.add(f"{module}.{ast.unparse(node.target)}")
    return found


@pytest.mark.parametrize("point", EXTENSION_POINTS, ids=lambda p: p.family)
def test_each_extension_point_names_a_live_registry_and_its_contract(point):
    registry = _resolve(point.registry)
    assert isinstance(registry, Registry) and len(registry) > 0, point.family
    assert _resolve(point.implement) is not None
    assert point.contract.endswith(".") and "\n" not in point.contract


def test_every_registry_of_the_product_is_on_the_contract_page():
    listed = {p.registry for p in EXTENSION_POINTS}
    in_source = _registries_in_source()
    assert len(in_source) >= 7
    assert in_source == listed


def test_external_apis_are_declared_as_data():
    assert _resolve(EXTERNAL_APIS).__name__ == "ApiSpec"
