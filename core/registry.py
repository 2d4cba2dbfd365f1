"""The one registry mechanism: every plugin family is a `Registry` of named entries.

A family (filter classes, widget classes, widget shapes, jobs, readers, form field types…) keeps
its entries in one `Registry`; an entry joins it from its own module, with `@registry.register`
(or `registry.register(entry)`), and is found by name with `get`, which names the family and
the known entries when the name is unknown. The family decides what an entry's name is (`key`:
a class's name by default, a `name` attribute for specs) and what an entry must satisfy to join
(`check`: e.g. the widget contract), so a broken entry fails at import, not at a request.

A database string never reaches `importlib` or `getattr`: it is resolved only against entries
that registered themselves. Third-party packages add entries through an entry point group,
loaded on the first lookup. `core/extension_points.py` lists every family.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar, overload

from core.errors import CametError, RegistryError

T = TypeVar("T")
log = logging.getLogger(__name__)


def class_name(entry: Any) -> str:  # noqa: ANN401 - any registered entry
    """The default key: the entry's `__name__` (a class's name, e.g. a `Filters` row's class)."""
    return str(entry.__name__)


def name_attribute(entry: Any) -> str:  # noqa: ANN401 - any registered entry
    """The key of families whose entries carry their own `name` (shapes, jobs, readers)."""
    return str(entry.name)


class Registry(Generic[T]):
    """Name → entry map for one plugin family.

    `family` names it in errors ("widget class", "job"); `key` gives an entry's name; `check`
    refuses an entry that breaks the family's contract (it raises); `missing` is the error an
    unknown name raises (a RegistryError unless the family answers, e.g., 404 for it).
    """

    def __init__(
        self,
        family: str,
        *,
        key: Callable[[T], str] = class_name,
        check: Callable[[T], None] | None = None,
        entry_point_group: str | None = None,
        missing: type[CametError] = RegistryError,
    ) -> None:
        self.family = family
        self.entry_point_group = entry_point_group
        self._key = key
        self._check = check
        self._missing = missing
        self._entries: dict[str, T] = {}
        self._entry_points_loaded = False

    @overload
    def register(self, entry: T, *, aliases: tuple[str, ...] = ()) -> T: ...

    @overload
    def register(self, entry: None = None, *, aliases: tuple[str, ...] = ()) -> Callable[[T], T]: ...

    def register(self, entry: T | None = None, *, aliases: tuple[str, ...] = ()) -> T | Callable[[T], T]:
        """Add an entry (also as a decorator); aliases keep renamed database rows working.

        Registering the same (or an equal) entry again is harmless; another one under a taken name fails.
        """

        def add(item: T) -> T:
            if self._check is not None:
                self._check(item)
            for name in (self._key(item), *aliases):
                existing = self._entries.get(name)
                if existing is not None and existing != item:
                    raise RegistryError(f"duplicate {self.family} {name!r}")
            for name in (self._key(item), *aliases):
                self._entries[name] = item
            return item

        return add(entry) if entry is not None else add

    def unregister(self, entry: T) -> None:
        """Forget every name of `entry` (a plugin unloaded, e.g. at the end of a test)."""
        for name in [n for n, v in self._entries.items() if v is entry]:
            del self._entries[name]

    def get(self, name: str) -> T:
        """The entry registered under `name`, or the family's error listing the known names."""
        self.load_entry_points()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            known = ", ".join(self.names())
            raise self._missing(f"unknown {self.family} {name!r} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        self.load_entry_points()
        return name in self._entries

    def names(self) -> list[str]:
        """Every registered name (aliases included), sorted."""
        self.load_entry_points()
        return sorted(self._entries)

    def entries(self) -> list[T]:
        """Every registered entry once, in the order of their own names."""
        self.load_entry_points()
        unique = {id(e): e for e in self._entries.values()}.values()
        return sorted(unique, key=self._key)

    def __iter__(self) -> Iterator[T]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self.entries())

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
