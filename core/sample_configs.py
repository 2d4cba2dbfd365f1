"""The sample-config check that filter and widget classes share when they join their registry.

A plugin class declares `sample_configs` so that its config model is exercised at import: an
empty list, or a sample the model refuses, is a broken class and fails before any request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import BaseModel, ValidationError

from core.errors import RegistryError


def check_sample_configs(who: str, config_model: type[BaseModel], samples: Iterable[object],
                         describe: Callable[[ValidationError], str]) -> None:
    """Raise RegistryError naming `who` unless there is a sample and the model accepts each one.

    `describe` words the first validation problem; each family keeps its own wording.
    """
    samples = tuple(samples)
    if not samples:
        raise RegistryError(f"{who}: sample_configs is empty (declare at least one config)")
    for sample in samples:
        try:
            config_model.model_validate(sample)
        except ValidationError as exc:
            raise RegistryError(f"{who}: sample config {sample!r} is invalid: {describe(exc)}") from None
