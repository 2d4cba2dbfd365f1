"""Admin API for the stop reasons supervisors pick when labelling stops: list, add, edit.

Reasons are never deleted here (stop labels point at them): deactivate one (`active: false`)
and it is no longer offered, while past labels keep their name.
"""

from __future__ import annotations

from app_fastapi.admin.plant_bodies import StopReasonBody
from app_fastapi.admin.plant_coded import CodedKind, coded_router
from core import schema_tenant as t
from ingest.plant_rows import stop_reason_rows

router = coded_router(CodedKind("stop-reasons", "stop_reasons", t.stop_reasons, stop_reason_rows,
                                StopReasonBody, "motivo", "un motivo", "stop_reason"))
