"""GET /api/v1/filters through the real FastAPI app, on SQLite and MariaDB."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, text
from starlette.testclient import TestClient

from app_fastapi.main import create_app
from core import schema_tenant as t
from core.tenants import create_tenant
from filters.defaults import DEFAULT_FILTER_ROWS
from identity.engine_tokens import Principal, issue_token
from identity.users import create_user
from ingest.plant_metadata import load_plant_text

BAD_ROWS = [
    {
        "class_name": "EvilFilter",
        "param_name": "misterio",
        "label": "Misterio",
        "config": {},
        "sort_order": 1,
    },
    {
        "class_name": "DateRangeFilter",
        "param_name": "fecha_mala",
        "label": "Fecha mala",
        "config": {"max_days": -3, "color": "rojo"},
        "sort_order": 2,
    },
]


PASSWORD = "filtros-seguros-2026"


@pytest.fixture
def client(runtime, plant_tenant):
    with runtime.db.tenant(plant_tenant) as conn:
        conn.execute(insert(t.filters_table), [dict(r, active=True) for r in DEFAULT_FILTER_ROWS + BAD_ROWS])
        conn.execute(
            insert(t.filters_table).values(
                class_name="ToggleFilter",
                param_name="apagado",
                label="Inactivo",
                config={},
                sort_order=3,
                active=False,
            )
        )
    with TestClient(create_app(runtime)) as c:
        yield c


@pytest.fixture
def users(runtime, plant_tenant) -> dict[tuple[str, str], int]:
    """One real admin and one real viewer of acme: the engine checks the token's user exists."""
    return {
        ("acme", role): create_user(runtime.db, tenant="acme", username=name, password=PASSWORD, role=role)
        for role, name in (("admin", "ana"), ("viewer", "victor"))
    }


def token(runtime, users, role: str = "admin", tenant: str = "acme") -> dict[str, str]:
    user_id = users[(tenant, role)]
    jwt = issue_token(
        runtime.settings, Principal(user_id, {"admin": "ana", "viewer": "victor"}[role], tenant, role)
    )
    return {"Authorization": f"Bearer {jwt}"}


def bad_row_ids(runtime) -> dict[str, int]:
    with runtime.db.tenant("acme") as conn:
        rows = conn.execute(select(t.filters_table.c.param_name, t.filters_table.c.id)).all()
    return {param: row_id for param, row_id in rows}


def test_admin_sees_good_filters_and_both_bad_rows(runtime, client, users):
    response = client.get("/api/v1/filters", headers=token(runtime, users))
    assert response.status_code == 200
    body = response.json()
    assert [f["param"] for f in body["filters"]] == [r["param_name"] for r in DEFAULT_FILTER_ROWS]
    ids = bad_row_ids(runtime)
    errors = {e["param"]: e for e in body["errors"]}
    assert set(errors) == {"misterio", "fecha_mala"}
    assert errors["misterio"]["row_id"] == ids["misterio"]
    assert errors["misterio"]["class_name"] == "EvilFilter"
    assert "desconocida" in errors["misterio"]["message"]
    assert "max_days" in errors["fecha_mala"]["message"] and "color" in errors["fecha_mala"]["message"]
    assert body["timezone"] == "America/Argentina/Buenos_Aires"


def test_options_come_from_the_tenant_metadata(runtime, client, users):
    body = client.get("/api/v1/filters", headers=token(runtime, users)).json()
    by_param = {f["param"]: f for f in body["filters"]}
    with runtime.db.tenant("acme") as conn:
        n_products = conn.execute(select(func.count()).select_from(t.products)).scalar()
        n_pairs = conn.execute(text("SELECT COUNT(*) FROM line_products")).scalar()
        n_lines = conn.execute(select(func.count()).select_from(t.lines)).scalar()
    products = by_param["productos"]["options"]
    assert len(products) == n_products == 18
    assert sum(len(o["line_ids"]) for o in products) == n_pairs
    assert len(by_param["lineas"]["options"]) == n_lines
    assert by_param["turnos"]["options"][-1] | {"value": 0} == {
        "value": 0,
        "label": "Noche",
        "code": "noche",
        "start": "22:00",
        "end": "06:00",
        "crosses_midnight": True,
        "search": "noche noche",
    }
    assert by_param["fecha"]["default"]["preset"] == "ultimos_7_dias"
    assert by_param["incluir_rechazos"]["default"] is True
    assert by_param["lineas"]["default"] == "todos"


def test_viewer_sees_which_filters_are_missing_but_no_internals(runtime, client, users):
    body = client.get("/api/v1/filters", headers=token(runtime, users, role="viewer")).json()
    assert len(body["filters"]) == len(DEFAULT_FILTER_ROWS)
    assert {e["param"] for e in body["errors"]} == {"misterio", "fecha_mala"}
    for error in body["errors"]:
        assert error["row_id"] is None and error["class_name"] is None
        assert "administrador" in error["message"] and "max_days" not in error["message"]


def test_metadata_change_shows_up_in_the_options(runtime, client, users):
    runtime.meta.check_interval_s = 0.0
    load_plant_text(
        runtime.db, "acme", 'products:\n  - {code: NEW-9, name: "Nuevo", nominal_weight_g: 9, lines: [L1]}\n',
        today=runtime.clock.now_utc().date(),
    )
    body = client.get("/api/v1/filters", headers=token(runtime, users)).json()
    codes = [o["code"] for o in {f["param"]: f for f in body["filters"]}["productos"]["options"]]
    assert "NEW-9" in codes


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}])
def test_requires_a_valid_token(client, headers):
    response = client.get("/api/v1/filters", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_tenant_comes_from_the_token_only(runtime, client, users):
    """A user of another tenant gets that tenant's filters, whatever the query string says."""
    create_tenant(runtime.db, "beta", name="Beta", timezone="Europe/Madrid")
    load_plant_text(
        runtime.db,
        "beta",
        "areas: [{code: a, name: A}]\nlines: [{code: B1, name: B1, area: a, ideal_rate_per_min: 10}]\n",
        today=runtime.clock.now_utc().date(),
    )
    with runtime.db.tenant("beta") as conn:
        conn.execute(
            insert(t.filters_table).values(
                class_name="LineFilter",
                param_name="lineas",
                label="Líneas",
                config={},
                sort_order=1,
                active=True,
            )
        )
    users[("beta", "viewer")] = create_user(
        runtime.db, tenant="beta", username="victor", password=PASSWORD, role="viewer"
    )
    response = client.get("/api/v1/filters?tenant=acme", headers=token(runtime, users, "viewer", "beta"))
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "Europe/Madrid" and body["errors"] == []
    assert [o["code"] for o in body["filters"][0]["options"]] == ["B1"]
    forged = issue_token(runtime.settings, Principal(users[("acme", "admin")], "ana", "beta", "admin"))
    assert client.get("/api/v1/filters", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


@pytest.mark.parametrize("backend", ["sqlite"])  # MariaDB's JSON column refuses it at insert time
def test_invalid_json_text_in_a_row_is_reported(runtime, client, users, backend):
    with runtime.db.tenant("acme") as conn:
        conn.execute(
            text(
                "INSERT INTO Filters (class_name, param_name, label, config, sort_order, active) "
                "VALUES ('ToggleFilter', 'roto', 'Roto', '{\"default\": tru', 99, 1)"
            )
        )
    body = client.get("/api/v1/filters", headers=token(runtime, users)).json()
    assert {e["param"]: e["message"] for e in body["errors"]}["roto"] == "la configuración no es JSON válido"
    assert len(body["filters"]) == len(DEFAULT_FILTER_ROWS)
