"""The job registry: `@job("name", every=...)` declares a per-tenant job by an explicit id.

A job is a function `(rt, tenant_slug) -> rows written`, kept as a `JobSpec` in `job_registry`
(the one registry mechanism of core/registry.py). The scheduler and `manage.py jobs` look jobs up
here by name only; nothing is imported from a name read from a database row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from core.errors import NotFound
from core.registry import Registry, name_attribute
from core.runtime import Runtime

JobFunc = Callable[[Runtime, str], int]


@dataclass(frozen=True)
class JobSpec:
    """A registered job: its id, how often it is due per tenant, and what it does."""

    name: str
    every: timedelta
    func: JobFunc
    description: str


job_registry: Registry[JobSpec] = Registry("job", key=name_attribute, missing=NotFound)


def job(name: str, *, every: timedelta, description: str = "") -> Callable[[JobFunc], JobFunc]:
    """Register `func` as job `name`, due every `every` for each tenant (duplicates fail)."""

    def register(func: JobFunc) -> JobFunc:
        job_registry.register(JobSpec(name, every, func, description or (func.__doc__ or "").strip()))
        return func

    return register


def get_job(name: str) -> JobSpec:
    """The registered job, or NotFound listing the known ones."""
    return job_registry.get(name)
