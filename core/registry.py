"""A generic class registry: the database stores a key, the code looks the class up.

A database string never reaches `importlib` or `getattr`; it is resolved only against classes
that registered themselves with `@registry.register`. Third-party packages can add classes
through an entry point group, loaded explicitly by trusted code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from core.errors import RegistryError

T = TypeVar("T", bound=type)
log = logging.getLogger(__name__)


class Registry(Generic[T]):
    """Name → class map for one plugin family (filters, widgets)."""

    def __init__(self, family: str, entry_point_group: str | None = None) -> None:
        self.family = family
        self.entry_point_group = entry_point_group
        self._classes: dict[str, T] = {}
        self._entry_points_loaded = False

    def register(self, cls: T | None = None, *, aliases: tuple[str, ...] = ()) -> Callable[[T], T] | T:
        """Class decorator; the key is the class name, aliases keep renamed rows working."""

        def add(klass: T) -> T:
            for key in (klass.__name__, *aliases):
                existing = self._classes.get(key)
                if existing is not None and existing is not klass:
                    raise RegistryError(f"duplicate {self.family} key {key!r}")
                self._classes[key] = klass
            return klass

        return add(cls) if cls is not None else add

    def unregister(self, klass: T) -> None:
        """Forget every key of `klass` (a plugin unloaded, e.g. at the end of a test)."""
        for key in [k for k, v in self._classes.items() if v is klass]:
            del self._classes[key]

    def get(self, key: str) -> T:
        """The class registered under `key`, or a RegistryError naming the family."""
        self.load_entry_points()
        try:
            return self._classes[key]
        except (KeyError, TypeError):
            raise RegistryError(f"unknown {self.family} class {key!r}") from None

    def __contains__(self, key: object) -> bool:
        self.load_entry_points()
        return key in self._classes

    def names(self) -> list[str]:
        """Every registered key, sorted."""
        self.load_entry_points()
        return sorted(self._classes)

    def load_entry_points(self) -> None:
        """Import third-party plugins declared under the entry point group, once."""
        if self._entry_points_loaded or not self.entry_point_group:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=self.entry_point_group):
            try:
                ep.load()
            except Exception:  # a broken plugin must not take the product down
                log.exception("could not load %s plugin %s", self.family, ep.name)
