"""The ingestion API against a real uvicorn server: validation, idempotency, scope, limits."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select, text

from core import schema_central as c
from core import schema_tenant as t
from identity.ingest_keys import create_key, revoke_key
from tests.servers import asgi_server

# `clock` marks only the tests whose outcome follows the date (partitions, presets, demo data).


def _rows(n: int, line: str = "L1", start_s: int = 0) -> list[dict[str, object]]:
    products = ["PF-045", "PF-090"]
    return [{"line": line, "ts": f"2026-11-18T10:{(start_s + i) // 60:02d}:{(start_s + i) % 60:02d}.250",
             "product_code": products[i % 2], "weight_g": 45.0 + i % 7,
             "status": "reject" if i % 9 == 0 else "ok"} for i in range(n)]


def _count(runtime, slug: str, code: str) -> int:
    meta = runtime.meta.get(slug)
    with runtime.db.tenant(slug) as conn:
        table = t.detections_table(meta.line_by_code(code).id)
        return conn.execute(select(func.count()).select_from(table)).scalar()


def _key(runtime, tenant: str, lines: list[str], name: str = "gw1") -> str:
    meta = runtime.meta.get(tenant)
    _rec, key = create_key(runtime.db, runtime.settings, tenant=tenant, name=name, lines=lines,
                           known_lines=set(meta.lines_by_code))
    return key


@pytest.fixture
def server(auth_world, engine_app):
    with asgi_server(engine_app) as base:
        yield base


@pytest.fixture
def keys(auth_world):
    rt = auth_world.runtime
    return {"acme": _key(rt, "acme", ["L1", "L2"]), "zeta": _key(rt, "zeta", ["L1"])}


def post(server: str, key: str, body: object, **kwargs: object) -> httpx.Response:
    return httpx.post(server + "/api/v1/ingest/detections", json=body,
                      headers={"Authorization": f"Bearer {key}"}, timeout=30, **kwargs)


@pytest.mark.clock
def test_a_batch_is_written_once_and_a_resent_batch_adds_nothing(auth_world, server, keys):
    rt = auth_world.runtime
    body = {"batch_id": "b-1", "detections": _rows(40) + _rows(10, "L2")}
    body["detections"].append(dict(body["detections"][0]))  # same ts twice: seq 0 and 1
    first = post(server, keys["acme"], body)
    assert first.status_code == 200, first.text
    assert first.json() == {"batch_id": "b-1", "rows_received": 51, "rows_inserted": 51,
                            "rows_duplicate": 0, "lines": {"L1": 41, "L2": 10}}
    again = post(server, keys["acme"], body)
    assert again.json()["rows_inserted"] == 0 and again.json()["rows_duplicate"] == 51
    assert (_count(rt, "acme", "L1"), _count(rt, "acme", "L2")) == (41, 10)
    meta = rt.meta.get("acme")
    with rt.db.tenant("acme") as conn:
        got = conn.execute(text(
            f"SELECT COUNT(*), SUM(status) FROM detections_{meta.line_by_code('L1').id}")).one()
        key_row = conn.execute(select(func.count()).select_from(t.import_batches)).scalar()
    assert (got[0], int(got[1])) == (41, sum(1 for i in range(40) if i % 9 == 0) + 1)
    assert key_row == 0
    with rt.db.central() as conn:
        used = conn.execute(select(c.ingest_keys.c.batches, c.ingest_keys.c.rows_inserted,
                                   c.ingest_keys.c.last_used_at).where(c.ingest_keys.c.name == "gw1",
                                                                       c.ingest_keys.c.tenant_id == 1)).one()
    assert used.batches == 2 and used.rows_inserted == 51 and used.last_used_at is not None


def test_one_bad_row_rejects_the_batch_and_names_the_row(auth_world, server, keys):
    rows = _rows(20)
    rows[13]["product_code"] = "NOPE"
    rows[16]["ts"] = "ayer"
    r = post(server, keys["acme"], {"detections": rows})
    assert r.status_code == 422
    assert r.json()["details"] == ["row 14: unknown product_code", "row 17: ts is not an ISO 8601 date-time"]
    assert _count(auth_world.runtime, "acme", "L1") == 0


@pytest.mark.clock
def test_ndjson_and_csv_bodies(auth_world, server, keys):
    ndjson = "\n".join(json.dumps(r) for r in _rows(5)) + "\n"
    r = httpx.post(server + "/api/v1/ingest/detections", content=ndjson,
                   headers={"X-Api-Key": keys["acme"], "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200 and r.json()["rows_inserted"] == 5, r.text
    csv_body = ("ts;product_code;weight_g;status\n2026-11-18T11:00:00;PF-045;45,5;ok\n"
                "2026-11-18T11:00:01;PF-045;;reject\n")
    r = httpx.post(server + "/api/v1/ingest/detections", params={"line": "L2"}, content=csv_body,
                   headers={"X-Api-Key": keys["acme"], "Content-Type": "text/csv; charset=utf-8"})
    assert r.status_code == 200 and r.json()["lines"] == {"L2": 2}, r.text
    assert (_count(auth_world.runtime, "acme", "L1"), _count(auth_world.runtime, "acme", "L2")) == (5, 2)


def test_scope_other_tenant_other_line_and_revoked_key(auth_world, server, keys):
    rt = auth_world.runtime
    outside = post(server, keys["acme"], {"detections": _rows(3) + _rows(2, "L3")})
    assert outside.status_code == 403 and "L3" in outside.json()["message"]
    foreign = post(server, keys["acme"], {"tenant": "zeta", "detections": _rows(3)})
    assert foreign.status_code == 403
    assert _count(rt, "zeta", "L1") == 0 and _count(rt, "acme", "L1") == 0
    zeta = post(server, keys["zeta"], {"detections": _rows(3)})  # zeta's key writes only zeta
    assert zeta.status_code == 200
    assert (_count(rt, "zeta", "L1"), _count(rt, "acme", "L1")) == (3, 0)
    jwt = httpx.post(server + "/api/v1/ingest/detections", json={"detections": _rows(1)},
                     headers=auth_world.auth("ana"))
    assert jwt.status_code == 401  # a user token is not an ingest key
    assert post(server, "cmt_" + "x" * 43, {"detections": _rows(1)}).status_code == 401
    key_id = next(k for k in _keys(rt, "acme"))
    revoke_key(rt.db, tenant="acme", key_id=key_id)
    revoked = post(server, keys["acme"], {"detections": _rows(3)})
    assert revoked.status_code == 401
    assert _count(rt, "acme", "L1") == 0


def _keys(rt, tenant: str) -> list[int]:
    with rt.db.central() as conn:
        stmt = (select(c.ingest_keys.c.id).join(c.tenants, c.tenants.c.id == c.ingest_keys.c.tenant_id)
                .where(c.tenants.c.slug == tenant))
        return conn.execute(stmt).scalars().all()


def _raw_request(server: str, head: str) -> str:
    """Send only request headers on a raw socket; the answer must come without a body sent."""
    parts = urlsplit(server)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1")


def test_an_oversized_batch_is_refused_before_its_body_is_read(auth_world, server, keys):
    limit = auth_world.runtime.settings.ingest_max_bytes
    head = (f"POST /api/v1/ingest/detections HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {keys['acme']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {limit + 1}\r\n\r\n")
    answer = _raw_request(server, head)
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    many = auth_world.runtime.settings.ingest_max_rows + 1
    ndjson = "\n".join(json.dumps({"ts": "2026-11-18T10:00:00"}) for _ in range(many))
    r = httpx.post(server + "/api/v1/ingest/detections", content=ndjson, params={"line": "L1"},
                   headers={"X-Api-Key": keys["acme"], "Content-Type": "application/x-ndjson"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert _count(auth_world.runtime, "acme", "L1") == 0


def test_rate_limit_per_key(auth_world, engine_app, keys):
    auth_world.runtime.settings.ingest_rate_per_key = "2 per minute"
    with asgi_server(engine_app) as base:
        codes = [post(base, keys["zeta"], {"detections": _rows(1)}).status_code for _ in range(3)]
        other = post(base, keys["acme"], {"detections": _rows(1)}).status_code
    assert codes == [200, 200, 429] and other == 200
