"""The one registry mechanism: names, contract checks, clear errors for unknown names."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.errors import NotFound, RegistryError
from core.registry import Registry, name_attribute


@dataclass(frozen=True)
class Spec:
    name: str
    size: int = 1


def test_classes_register_by_decorator_under_their_name_and_aliases():
    registry: Registry[type] = Registry("thing class")

    @registry.register(aliases=("OldThing",))
    class Thing:
        pass

    assert registry.get("Thing") is Thing and registry.get("OldThing") is Thing
    assert registry.names() == ["OldThing", "Thing"] and registry.entries() == [Thing] and len(registry) == 1
    registry.register(Thing)  # the same class again is harmless
    with pytest.raises(RegistryError, match="duplicate thing class 'Thing'"):
        registry.register(type("Thing", (), {}))
    registry.unregister(Thing)
    assert "Thing" not in registry and "OldThing" not in registry and list(registry) == []


def test_an_unknown_name_names_the_family_and_the_known_ones_with_the_familys_error():
    registry: Registry[Spec] = Registry("job", key=name_attribute, missing=NotFound)
    registry.register(Spec("b"))
    registry.register(Spec("a"))
    with pytest.raises(NotFound, match=r"unknown job 'c' \(known: a, b\)"):
        registry.get("c")
    with pytest.raises(RegistryError, match="unknown thing"):
        Registry("thing").get(None)  # type: ignore[arg-type]  # a NULL column


def test_an_equal_entry_may_register_again_and_another_may_not_take_its_name():
    registry: Registry[Spec] = Registry("shape", key=name_attribute)
    registry.register(Spec("kpi"))
    registry.register(Spec("kpi"))
    with pytest.raises(RegistryError, match="duplicate shape 'kpi'"):
        registry.register(Spec("kpi", size=2))
    assert [s.size for s in registry] == [1]


def test_the_check_refuses_an_entry_before_any_name_is_taken():
    def no_empty(spec: Spec) -> None:
        if spec.size < 1:
            raise RegistryError(f"{spec.name}: empty")

    registry: Registry[Spec] = Registry("shape", key=name_attribute, check=no_empty)
    with pytest.raises(RegistryError, match="x: empty"):
        registry.register(Spec("x", size=0))
    assert "x" not in registry
