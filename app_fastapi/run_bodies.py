"""The request bodies that carry a dashboard's filters: a run (filters + layout) or filters alone.

Shared by the dashboard, stops, report and export routes, so each route module stays alone.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app_fastapi.deps import JsonRowId


class RunRequest(BaseModel):
    """The user's filter selections, keyed by filter param (see GET /api/v1/filters)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "filters": {"fecha": {"preset": "personalizado", "start": "2026-11-20", "end": "2026-11-26"},
                    "lineas": [1, 2], "incluir_rechazos": True},
    }]})

    filters: dict[str, Any] = Field(default_factory=dict, description="raw value per filter param; "
                                    "a missing param takes its default")
    layout_id: JsonRowId | None = Field(default=None, description="dashboard_layouts id; default if absent")


class FiltersRequest(BaseModel):
    """The dashboard's filter values, keyed by filter param (see GET /api/v1/filters)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "filters": {"fecha": {"preset": "personalizado", "start": "2026-11-16", "end": "2026-11-17"},
                    "lineas": [1], "turnos": "todos"},
    }]})

    filters: dict[str, Any] = Field(default_factory=dict)
