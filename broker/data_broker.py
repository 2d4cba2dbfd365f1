"""DataBroker: gives every widget exactly its data, wherever it comes from (roadmap stage 4).

External widgets get the answer of their API, fetched concurrently through
ExternalAPIService (equal calls made once). Internal widgets get their frame, already scoped to
their dimensions and measures, from the query stage (query/grain.py: one group-by, a fold per
widget); the orchestrator pairs the two for an external widget that also declares columns.
The broker knows widgets only through the small `BrokeredWidget` protocol, so it does not
import the widgets package.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from broker.external import ApiRequest, ExternalAPIService
from core.errors import ExternalAPIError


class BrokeredWidget(Protocol):
    widget_id: int
    source_type: str

    @property
    def required_api_id(self) -> str | None: ...

    def columns(self) -> frozenset[str]: ...

    def api_params(self) -> dict[str, str]: ...


class DataBroker:
    """Routes each widget to its source; one instance per dashboard run."""

    def __init__(self, external: ExternalAPIService) -> None:
        self.external = external

    async def fetch_external(self, widgets: Iterable[BrokeredWidget]) -> dict[int, Any]:
        """Fetched (or ExternalAPIError) per external widget id; equal calls are made once."""
        wanted: dict[int, ApiRequest] = {}
        out: dict[int, Any] = {}
        for widget in widgets:
            if widget.source_type != "external":
                continue
            api_id = widget.required_api_id
            if api_id:
                wanted[widget.widget_id] = ApiRequest.of(api_id, widget.api_params())
            else:
                out[widget.widget_id] = ExternalAPIError("?", "el widget no declara required_api_id")
        results = await self.external.fetch_many(wanted.values())
        out.update({wid: results[req] for wid, req in wanted.items()})
        return out
