"""Stop reasons: codes from the plant YAML, labelling and splitting stops through the engine API,
minutes by reason against plain SQL, labels surviving re-analysis, roles and the audit log."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, text

from core import schema_tenant as t
from core.errors import ImportRejected
from core.stops_state import FROM_START, mark_dirty
from engine.resolve import resolve_run
from identity.audit import list_events
from identity.engine_tokens import Principal, issue_token
from identity.users import create_user, tenant_id
from ingest.plant_metadata import load_plant_text, parse_plant
from jobs.runs import run_by_hand
from stops.reasons import minutes_by_reason
from tests import stops_dataset as ds
from tests.stops_support import SLUG, build_stops_tenant, token

FILTERS = {"fecha": {"preset": "personalizado", "start": "2026-11-17", "end": "2026-11-18"}}
REASONS_YAML = """
stop_reasons:
  - {code: limpieza, name: Limpieza}
  - {code: formato, name: Cambio de formato}
  - {code: viejo, name: Motivo retirado, active: false}
"""


@pytest.fixture
def api(runtime, clock, engine_app):
    line_id = build_stops_tenant(runtime, clock)
    load_plant_text(runtime.db, SLUG, REASONS_YAML, today=ds.NOW.date())
    runtime.meta.invalidate(SLUG)
    assert run_by_hand(runtime, "gap-analysis", SLUG)[0].status == "ok"
    client = TestClient(engine_app)
    client.headers.update(token(runtime))
    return client, line_id


def _user_headers(rt, username: str, role: str) -> dict[str, str]:
    uid = create_user(rt.db, tenant=SLUG, username=username, password="clave-de-prueba-123", role=role)
    return {"Authorization": "Bearer " + issue_token(rt.settings, Principal(uid, username, SLUG, role))}


def _stops(client) -> list[dict]:
    res = client.post("/api/v1/stops/search", json={"filters": FILTERS})
    assert res.status_code == 200, res.text
    return res.json()["stops"]


def _stop_at(client, start: str) -> dict:
    return next(s for s in _stops(client) if s["start"] == start)


def _sql_downtime(rt, line_id: int) -> dict[str, float]:
    """Plain SQL: downtime seconds of every stop row of the selection, keyed by its start."""
    with rt.db.tenant(SLUG) as conn:
        rows = conn.execute(text(
            "SELECT start_ts, downtime_s FROM stops WHERE line_id = :l AND kind = 'stop' "
            "AND production_date BETWEEN '2026-11-17' AND '2026-11-18'"), {"l": line_id}).all()
    return {(r[0] if isinstance(r[0], datetime) else datetime.fromisoformat(r[0])).isoformat(): float(r[1])
            for r in rows}


def _by_reason(rt) -> dict[str | None, tuple[float, int]]:
    run = resolve_run(rt, Principal(0, "test", SLUG, "viewer"), FILTERS, widgets=False)
    with rt.db.tenant(SLUG) as conn:
        return {e["reason"]: (e["minutes"], e["stops"])
                for e in minutes_by_reason(conn, run.meta, run.require_selection(), run.now)}


def _labels(rt) -> list[tuple]:
    c = t.stop_labels.c
    with rt.db.tenant(SLUG) as conn:
        return [tuple(r) for r in conn.execute(
            select(c.line_id, c.stop_start, c.seg_start, c.reason_id).order_by(c.stop_start, c.seg_start))]


def _label_events(rt) -> list:
    with rt.db.central() as conn:
        tid = tenant_id(conn, SLUG)
    return [e for e in list_events(rt.db, tenant_id=tid)
            if e.action == "admin_edit" and e.detail["what"] == "stop_label"]


def test_reasons_come_from_the_plant_yaml(api):
    client, _ = api
    res = client.get("/api/v1/stops/reasons")
    assert res.status_code == 200
    assert res.json()["reasons"] == [
        {"code": "formato", "name": "Cambio de formato", "active": True},
        {"code": "limpieza", "name": "Limpieza", "active": True},
        {"code": "viejo", "name": "Motivo retirado", "active": False},
    ]
    with pytest.raises(ImportRejected) as bad:
        parse_plant("stop_reasons: [{code: a, name: A}, {code: a, name: B}, {code: 'x y', name: C}]")
    assert any("stop_reasons.2.code" in d for d in bad.value.details)
    with pytest.raises(ImportRejected) as dup:
        parse_plant("stop_reasons: [{code: a, name: A}, {code: a, name: B}]")
    assert "stop_reasons[1].code: duplicate code 'a'" in dup.value.details


def test_label_a_stop_and_minutes_by_reason_equal_plain_sql(api, runtime):
    client, line_id = api
    assert all(s["segments"] == [] for s in _stops(client))
    stop = _stop_at(client, "2026-11-17T21:45:00")
    res = client.patch(f"/api/v1/stops/{stop['id']}", json={"reason": "limpieza"})
    assert res.status_code == 200, res.text
    assert res.json()["segments"] == [{"start": "2026-11-17T21:45:00", "end": "2026-11-17T22:00:00",
                                       "reason": "limpieza", "reason_name": "Limpieza"}]
    assert _stop_at(client, "2026-11-17T21:45:00")["segments"] == res.json()["segments"]

    downtime = _sql_downtime(runtime, line_id)
    labelled = downtime["2026-11-17T21:45:00"]
    got = _by_reason(runtime)
    assert set(got) == {"limpieza", None}
    assert got["limpieza"] == (pytest.approx(labelled / 60, abs=1e-9), 1)
    assert got[None][0] == pytest.approx((sum(downtime.values()) - labelled) / 60, abs=1e-9)
    assert got[None][1] == len(downtime) - 1

    assert client.patch(f"/api/v1/stops/{stop['id']}", json={"reason": None}).status_code == 200
    assert _labels(runtime) == [] and set(_by_reason(runtime)) == {None}
    events = _label_events(runtime)
    assert [e.detail["before"] for e in events][:2] == [res.json()["segments"], []]
    assert events[1].detail["after"] == res.json()["segments"] and events[0].detail["after"] == []
    assert events[0].detail["line"] == "T1" and events[0].username == "ana"


def test_split_shares_downtime_by_length(api, runtime):
    client, line_id = api
    stop = _stop_at(client, "2026-11-18T06:00:00")  # the whole Mañana: 06:00-14:00, 27,600 s planned
    body = {"segments": [{"reason": "formato", "until": "2026-11-18T08:00:00"},
                         {"reason": "limpieza", "until": "2026-11-18T12:00:00-03:00"},
                         {"reason": "formato"}]}
    res = client.post(f"/api/v1/stops/{stop['id']}/segments", json=body)
    assert res.status_code == 200, res.text
    assert [(s["start"][11:16], s["end"][11:16], s["reason"]) for s in res.json()["segments"]] == [
        ("06:00", "08:00", "formato"), ("08:00", "12:00", "limpieza"), ("12:00", "14:00", "formato")]
    downtime = _sql_downtime(runtime, line_id)
    whole = downtime["2026-11-18T06:00:00"]
    got = _by_reason(runtime)
    assert got["formato"] == (pytest.approx(whole * 4 / 8 / 60, abs=1e-9), 1)
    assert got["limpieza"] == (pytest.approx(whole * 4 / 8 / 60, abs=1e-9), 1)
    assert got[None][0] == pytest.approx((sum(downtime.values()) - whole) / 60, abs=1e-9)
    assert len(_labels(runtime)) == 3


def test_bad_labels_are_refused_and_change_nothing(api, runtime):
    client, _ = api
    stops = _stops(client)
    stop = _stop_at(client, "2026-11-18T06:00:00")
    micro = next(s for s in stops if s["kind"] == "micro")
    cases = [
        ("patch", stop["id"], {"reason": "nada"}, 422),
        ("patch", stop["id"], {"reason": "viejo"}, 422),
        ("patch", micro["id"], {"reason": "limpieza"}, 422),
        ("patch", stop["id"], {"reason": "limpieza", "extra": 1}, 422),
        ("patch", 999_999, {"reason": "limpieza"}, 404),
        ("patch", 2**63, {"reason": "limpieza"}, 422),
        ("post", stop["id"], {"segments": []}, 422),
        ("post", stop["id"], {"segments": [{"reason": "formato", "until": "2026-11-18T07:00:00"}]}, 422),
        ("post", stop["id"], {"segments": [{"reason": "formato"}, {"reason": "limpieza"}]}, 422),
        ("post", stop["id"], {"segments": [{"reason": "formato", "until": "2026-11-18T15:00:00"},
                                           {"reason": "limpieza"}]}, 422),
        ("post", stop["id"], {"segments": [{"reason": "formato", "until": "2026-11-18T09:00:00"},
                                           {"reason": "formato", "until": "2026-11-18T08:00:00"},
                                           {"reason": "limpieza"}]}, 422),
        ("post", stop["id"], {"segments": [{"reason": "formato", "until": "mañana"}, {"reason": "x"}]}, 422),
    ]
    for method, stop_id, body, status in cases:
        path = f"/api/v1/stops/{stop_id}" + ("/segments" if method == "post" else "")
        res = getattr(client, method)(path, json=body)
        assert res.status_code == status, (body, res.text)
        assert res.json()["message"]
    assert _labels(runtime) == [] and _label_events(runtime) == []


def test_viewer_is_refused_supervisor_may_label(api, runtime):
    client, _ = api
    stop = _stop_at(client, "2026-11-18T06:00:00")
    viewer = _user_headers(runtime, "vera", "viewer")
    res = client.patch(f"/api/v1/stops/{stop['id']}", json={"reason": "limpieza"}, headers=viewer)
    assert res.status_code == 403 and "supervisor" in res.json()["message"]
    res = client.post(f"/api/v1/stops/{stop['id']}/segments", json={"segments": [{"reason": "limpieza"}]},
                      headers=viewer)
    assert res.status_code == 403
    assert _labels(runtime) == [] and _label_events(runtime) == []
    assert client.post("/api/v1/stops/search", json={"filters": FILTERS}, headers=viewer).status_code == 200

    supervisor = _user_headers(runtime, "sofia", "supervisor")
    res = client.patch(f"/api/v1/stops/{stop['id']}", json={"reason": "limpieza"}, headers=supervisor)
    assert res.status_code == 200
    assert [e.username for e in _label_events(runtime)] == ["sofia"]
    assert client.get("/api/v1/users", headers=supervisor).status_code == 403


def test_admin_can_make_a_supervisor(api):
    client, _ = api
    res = client.post("/api/v1/users", json={"username": "sara", "password": "clave-de-prueba-123",
                                             "role": "supervisor"})
    assert res.status_code == 201 and res.json()["role"] == "supervisor"
    me = next(u for u in client.get("/api/v1/users").json() if u["username"] == "ana")
    assert client.patch(f"/api/v1/users/{me['id']}", json={"role": "supervisor"}).status_code == 409
    assert client.post("/api/v1/users", json={"username": "x", "password": "clave-de-prueba-123",
                                              "role": "jefe"}).status_code == 422


def test_reanalysis_keeps_labels_of_stops_that_still_exist(api, runtime):
    client, line_id = api
    kept = _stop_at(client, "2026-11-17T21:45:00")
    gone = _stop_at(client, "2026-11-18T00:30:00")
    assert client.patch(f"/api/v1/stops/{kept['id']}", json={"reason": "formato"}).status_code == 200
    assert client.patch(f"/api/v1/stops/{gone['id']}", json={"reason": "limpieza"}).status_code == 200
    before = _by_reason(runtime)

    # Late detections fill the 00:30-01:00 gap: that stop no longer exists after re-analysis.
    det = t.detections_table(line_id)
    late = [{"ts": datetime(2026, 11, 18, 0, 30, s), "seq": 0, "product_id": 1, "weight_g": 100.0,
             "status": 0} for s in range(5, 60, 5)]
    late += [{"ts": datetime(2026, 11, 18, 0, m, s), "seq": 0, "product_id": 1, "weight_g": 100.0,
              "status": 0} for m in range(31, 60) for s in range(0, 60, 10)]
    with runtime.db.tenant(SLUG) as conn:
        conn.execute(insert(det), late)
        mark_dirty(conn, [line_id], FROM_START)
    assert run_by_hand(runtime, "gap-analysis", SLUG)[0].status == "ok"  # deletes and rewrites `stops`
    with runtime.db.tenant(SLUG) as conn:
        assert conn.execute(select(func.count()).select_from(t.stop_labels)).scalar() == 2

    after = _stops(client)
    assert not any(s["start"] == "2026-11-18T00:30:00" for s in after)
    assert _stop_at(client, "2026-11-17T21:45:00")["segments"][0]["reason"] == "formato"
    got = _by_reason(runtime)
    assert set(got) == {"formato", None} and got["formato"] == before["formato"]
