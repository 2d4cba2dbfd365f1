"""The dashboard run ("gran vía", roadmap stage 6): filters → master frame → broker → widgets.

The route stays thin; this module alone knows filters/, broker/ and widgets/. Stages:
1. the request arrives resolved (engine/resolve.py): configuration, validated values, one
   combined query spec and the plant selection, read and checked once before anything runs;
2. build the widgets of the layout; a bad row becomes that widget's error entry;
3. read each widget's frame (its dimensions + measures at a grain, or raw rows for `raw_rows`
   widgets; query/grain.py) by the path the planner chooses (query/planner.py: GROUP BY in the
   database, or raw rows grouped in pandas), while the external calls run concurrently;
4. hand each widget its scoped data and run `process_data`; a failure is that widget's error.
Plant widgets (stops, shift report, line status) get one PlantData per run, loaded by
engine/plant_source.py alongside the master read, for the run's selection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from broker import DataBroker, ExternalAPIService, Fetched
from broker.credentials import stored_credentials
from broker.state import broker_state
from core.errors import ExternalAPIError, InvalidDefinition, WidgetDataError
from core.memory import released_after
from core.runtime import Runtime
from engine.plant_source import PlantUnavailable, plant_for_run
from engine.resolve import DashboardConfig, ResolvedRun
from engine.threads import in_thread
from engine.widget_rows import build_widget, frame_need
from query.grain import master_columns_for
from query.planner import configured_path, read_grained
from widgets.base import BaseWidget, CombinedData, WidgetContext
from widgets.layout import Placement

log = logging.getLogger(__name__)


@dataclass
class Slot:
    """One widget of the run: built (or not), then given data (or an error)."""

    placement: Placement
    widget: BaseWidget | None = None
    error: str | None = None
    data: dict[str, Any] | None = None
    time_ms: float = 0.0
    stale: dict[str, str] | None = None


@dataclass
class RunResult:
    widgets: list[dict[str, Any]]
    meta: dict[str, Any]
    timings_ms: dict[str, float] = field(default_factory=dict)
    spans_ms: dict[str, list[float]] = field(default_factory=dict)

    def server_timing(self) -> str:
        """The Server-Timing header value (shows in the browser's dev tools)."""
        parts = [f"{k};dur={v:.1f}" for k, v in self.timings_ms.items()]
        parts += [f'span-{k};dur={e - s:.1f};desc="{s:.1f}-{e:.1f}"' for k, (s, e) in self.spans_ms.items()]
        plan = self.meta.get("plan")
        if plan:  # the path and its reason come from code, never from input: no quotes in them
            parts.append(f'plan;desc="{plan["path"]}: {plan["reason"]}"')
        return ", ".join(parts)


def build_slots(config: DashboardConfig, context: WidgetContext) -> list[Slot]:
    """Instantiate each placed widget; a row that would not build (the admin API's own check,
    `row_problem`) becomes an error slot with the same message."""
    slots = []
    for placement in config.placements:
        slot = Slot(placement)
        try:
            slot.widget = build_widget(placement.row, context)
        except InvalidDefinition as exc:
            slot.widget = None
            slot.error = f"Widget no disponible: {exc.message}"
        slots.append(slot)
    return slots


def _framed(widget: BaseWidget) -> bool:
    """Widgets that read detections: internal ones, and external/plant ones declaring columns."""
    return bool(widget.columns()) or (widget.source_type == "internal")


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 2)


@released_after
async def run_dashboard(
    rt: Runtime,
    run: ResolvedRun,
    external: ExternalAPIService | None = None,
    local_app: Any = None,
) -> RunResult:
    """One dashboard run of a resolved request. The heap is given back after a run that grew it
    and when the process goes idle (RunMemory).

    `local_app` (the engine's own ASGI app) serves manifest URLs that are plain paths, so the
    demo provider is reached in-process in every deployment mode.
    """
    started = time.perf_counter()
    slug, config = run.tenant, run.config
    context = WidgetContext(time_range=run.spec.window, timezone=config.timezone,
                            now=run.now, day_start=config.day_start)
    slots = build_slots(config, context)
    filters_s = time.perf_counter() - started

    manifest = broker_state(rt).manifests.load(rt.settings.external_apis_file)
    local = httpx.ASGITransport(app=local_app) if local_app is not None else None
    broker = DataBroker(external or ExternalAPIService(
        manifest, broker_state(rt), rt.settings, rt.clock, tenant=slug, local_transport=local,
        credentials=partial(stored_credentials, rt.db, rt.settings, slug)))
    live = [s.widget for s in slots if s.widget is not None]
    needs = {w.widget_id: frame_need(w) for w in live if _framed(w)}
    columns = master_columns_for(needs.values())
    spans: dict[str, list[float]] = {}

    async def fetch_external() -> tuple[dict[int, Any], float]:
        t0 = time.perf_counter()
        payloads = await broker.fetch_external(live)
        t1 = time.perf_counter()
        spans["external"] = [_ms(t0 - started), _ms(t1 - started)]
        return payloads, t1 - t0

    def read_frames() -> Any:
        t0 = time.perf_counter()
        try:
            path = configured_path(rt.settings.planner_path, needs.values())
            return read_grained(rt, slug, list(run.spec.fragments), needs.values(), path=path)
        finally:
            spans["db"] = [_ms(t0 - started), _ms(time.perf_counter() - started)]

    def read_plant() -> Any:
        t0 = time.perf_counter()
        try:
            return plant_for_run(rt, slug, run.selection, live)
        finally:
            spans["plant"] = [_ms(t0 - started), _ms(time.perf_counter() - started)]

    plant_task = asyncio.create_task(in_thread(read_plant))
    external_task = asyncio.create_task(fetch_external())
    master = None
    try:
        if needs:
            master = await in_thread(read_frames)
        payloads, external_s = await external_task
        plant = await plant_task
    finally:
        for task in (external_task, plant_task):
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()  # retrieved: the run already fails for its own (usually the same) cause

    try:
        frame_rows = master.rows if master is not None else 0
        frame_timings = dict(master.timings) if master is not None else {}
        reader = master.reader if master is not None else None
        plan = master.plan if master is not None else None
        frames = {wid: master.frames[need] for wid, need in needs.items()} if master is not None else {}
        del master
        slots, broker_s, widgets_s = await in_thread(
            _feed_widgets, slots, frames, payloads, config.timezone, plant,
        )
    finally:
        frames = {}

    timings = {
        "filters": _ms(run.took_s + filters_s),
        "query": _ms(frame_timings.get("query", 0.0)),
        "fetch": _ms(frame_timings.get("fetch", 0.0) + frame_timings.get("dataframe", 0.0)),
        "joins": _ms(frame_timings.get("joins", 0.0)),
        "grain": _ms(frame_timings.get("grain", 0.0)),
        "broker": _ms(external_s + broker_s),
        "widgets": _ms(widgets_s),
        "total": _ms(run.took_s + time.perf_counter() - started),
    }
    errors = []
    if run.principal.is_admin:
        notes = broker_state(rt).breakers.notes(slug, rt.clock.now_utc())
        errors = [*config.errors, *manifest.messages(), *notes]
    meta = {
        "rows": int(frame_rows),
        "columns": sorted(columns),
        "reader": reader,
        "plan": plan,
        "layout_id": config.layout_id,
        "timings": timings,
        "filters": run.applied_json(),
        "errors": errors,
        "spans": spans,
    }
    return RunResult(widgets=[_entry(s) for s in slots], meta=meta, timings_ms=timings,
                     spans_ms=spans)


def _feed_widgets(
    slots: list[Slot], frames: dict[int, Any], payloads: dict[int, Any], timezone: str,
    plant: Any = None,
) -> tuple[list[Slot], float, float]:
    """Scope each widget's data and run it; returns (slots, scoping seconds, widget seconds)."""
    scoping = widgets = 0.0
    for slot in slots:
        widget = slot.widget
        if widget is None:
            continue
        t0 = time.perf_counter()
        data: Any = None
        if widget.source_type == "external":
            data = answer = payloads.get(widget.widget_id)
            if isinstance(answer, Fetched):
                data = answer.payload
                if answer.stale:
                    slot.stale = _stale_note(answer, timezone)
                if widget.columns():
                    data = CombinedData(frame=frames.get(widget.widget_id), payload=answer.payload)
        elif widget.source_type == "plant":
            data = plant
        else:
            data = frames.get(widget.widget_id)
        t1 = time.perf_counter()
        scoping += t1 - t0
        if isinstance(data, ExternalAPIError):
            slot.error = f"Fuente externa no disponible: {data.message}"
        elif isinstance(data, PlantUnavailable):
            slot.error = data.message
        else:
            slot.data, slot.error = _process(widget, data)
        slot.time_ms = _ms(time.perf_counter() - t1)
        widgets += time.perf_counter() - t1
    return slots, scoping, widgets


def _stale_note(answer: Fetched, timezone: str) -> dict[str, str]:
    """How the card marks an old answer: "datos de hh:mm" (plant time) and why it is old."""
    local = answer.fetched_at.astimezone(ZoneInfo(timezone))
    return {"as_of": local.isoformat(timespec="seconds"), "label": f"datos de {local:%H:%M}",
            "reason": answer.error or ""}


def _process(widget: BaseWidget, data: Any) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return widget.process_data(data), None
    except WidgetDataError as exc:
        return None, str(exc)
    except Exception:  # one broken widget must not fail the dashboard
        log.exception("widget %s (%s) failed", widget.widget_id, widget.class_name)
        return None, "Error interno del widget"


def _entry(slot: Slot) -> dict[str, Any]:
    row = slot.placement.row
    widget = slot.widget
    entry: dict[str, Any] = {
        "id": int(row["id"]),
        "class": row["class_name"],
        "title": row["title"],
        "shape": widget.shape if widget is not None else None,
        "source": widget.source_type if widget is not None else None,
        "w": slot.placement.w,
        "h": slot.placement.h,
        "time_ms": slot.time_ms,
    }
    if slot.error is not None:
        entry["error"] = slot.error
    else:
        entry["data"] = slot.data
    if slot.stale is not None:
        entry["stale"] = slot.stale
    return entry
