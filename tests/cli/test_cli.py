"""manage.py as an operator runs it: idempotent init-db, one clear line on every bad input."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app_fastapi import create_app
from core import migrations
from core import schema_tenant as t
from core.clock import plant_now
from core.runtime import build_runtime
from core.settings import PROJECT_ROOT
from filters.defaults import DEFAULT_FILTER_ROWS
from tests.cli_support import manage
from tests.dashboard_support import bearer, demo_principal
from tests.helpers import suite_now
from widgets.defaults import DEFAULT_WIDGET_ROWS


def assert_clean_failure(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert text in result.stderr


def test_init_db_twice_changes_nothing(cli_env):
    first = manage("init-db", env=cli_env)
    assert first.returncode == 0, first.stderr
    assert f"applied versions {list(range(1, len(migrations.CENTRAL) + 1))}" in first.stdout
    second = manage("init-db", env=cli_env)
    assert second.returncode == 0
    assert "up to date" in second.stdout and "applied" not in second.stdout


def test_tenant_metadata_and_import_from_the_command_line(cli_env, tmp_path):
    assert manage("init-db", env=cli_env).returncode == 0
    made = manage("create-tenant", "acme", "--name", "ACME", "--timezone", "Europe/Madrid", env=cli_env)
    assert made.returncode == 0, made.stderr
    loaded = manage("load-metadata", "--tenant", "acme", str(PROJECT_ROOT / "config/demo_plant.yml"),
                    env=cli_env)
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 3 areas, 4 lines, 18 products, 3 shifts" in loaded.stdout
    csv = tmp_path / "d.csv"
    csv.write_text("ts,product_code,weight_g,status\n2026-11-01T10:00:00,PF-045,45,ok\n")
    imported = manage("import-detections", "--tenant", "acme", "--line", "L1", str(csv), env=cli_env)
    assert imported.returncode == 0, imported.stderr
    assert "1 inserted" in imported.stdout
    again = manage("import-detections", "--tenant", "acme", "--line", "L1", str(csv), env=cli_env)
    assert "0 inserted, 1 already present" in again.stdout


BAD_ARGUMENTS = [  # failing commands change nothing, so one init-db serves them all
    (("create-tenant", "Bad Slug!", "--name", "x"), "invalid tenant slug"),
    (("create-tenant", "acme", "--name", "x", "--timezone", "Mars/Base"), "unknown timezone"),
    (("create-tenant", "acme", "--name", "x", "--db-url", "postgres://x/y"), "unsupported database driver"),
    (("create-tenant", "acme", "--name", "x", "--db-url", "::nonsense::"), "invalid database URL"),
    (("seed-demo", "--db", "oracle://x"), "unsupported database driver"),
    (("load-metadata", "--tenant", "nobody", "x.yml"), "unknown tenant 'nobody'"),
    (("import-detections", "--tenant", "nobody", "--line", "L1", "x.csv"), "unknown tenant 'nobody'"),
]


def test_bad_arguments_give_one_clear_line(cli_env):
    assert manage("init-db", env=cli_env).returncode == 0
    for args, message in BAD_ARGUMENTS:
        result = manage(*args, env=cli_env)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr + result.stdout, args
        assert message in result.stderr, (args, result.stderr)


def test_bad_plant_file_and_bad_csv(cli_env, tmp_path):
    assert manage("init-db", env=cli_env).returncode == 0
    assert manage("create-tenant", "acme", "--name", "ACME", env=cli_env).returncode == 0
    bad_yaml = tmp_path / "p.yml"
    bad_yaml.write_text("lines:\n  - {code: X1, name: X, area: nowhere, ideal_rate_per_min: -1}\n")
    result = manage("load-metadata", "--tenant", "acme", str(bad_yaml), env=cli_env)
    assert_clean_failure(result, "invalid plant file")
    assert "lines.0.ideal_rate_per_min" in result.stderr
    assert manage("load-metadata", "--tenant", "acme", str(PROJECT_ROOT / "config/demo_plant.yml"),
                  env=cli_env).returncode == 0
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("ts,product_code,weight_g,status\n2026-11-01T10:00:00,PF-045,abc,ok\n")
    result = manage("import-detections", "--tenant", "acme", "--line", "L1", str(bad_csv), env=cli_env)
    assert_clean_failure(result, "1 bad row(s); nothing was imported")
    assert "line 2: weight_g is not a number" in result.stderr
    result = manage("import-detections", "--tenant", "acme", "--line", "L9", str(bad_csv), env=cli_env)
    assert_clean_failure(result, "unknown line 'L9'")


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("variable, value, message", [
    ("CAMET_LOG_LEVEL", "LOUD", "CAMET_LOG_LEVEL"),
    ("CAMET_DEFAULT_TIMEZONE", "Nowhere/City", "CAMET_DEFAULT_TIMEZONE"),
    ("CAMET_FLASK_PORT", "99999", "CAMET_FLASK_PORT"),
    ("CAMET_ENGINE_URL", "ftp://x", "CAMET_ENGINE_URL"),
    ("CAMET_CENTRAL_DB_URL", "mongodb://x/y", "unsupported database driver"),
])
def test_bad_settings_stop_with_one_line(cli_env, variable, value, message):
    result = manage("init-db", env=dict(cli_env, **{variable: value}))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_unreachable_database(cli_env):
    env = dict(cli_env, CAMET_CENTRAL_DB_URL="mysql+pymysql://root@127.0.0.1:1/nothing")
    result = manage("init-db", env=env)
    assert_clean_failure(result, "unreachable")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_seed_demo_if_missing_is_a_no_op_the_second_time(cli_env):
    first = manage("seed-demo", "--days", "1", "--rows", "5000", env=cli_env)
    assert first.returncode == 0, first.stderr
    assert "login: tenant 'demo', user 'demo', password 'demo-camet'" in first.stdout
    assert "seeding detections: 5,000 rows" in first.stderr
    second = manage("seed-demo", "--if-missing", env=cli_env)
    assert "already has data" in second.stdout


@pytest.mark.parametrize("backend", ["sqlite"])  # --help opens no database
def test_help_lists_every_command(cli_env):
    out = manage("--help", env=cli_env).stdout
    for name in ("init-db", "create-tenant", "load-metadata", "import-detections", "seed-demo", "serve"):
        assert name in out
    assert Path(PROJECT_ROOT / "manage.py").exists()


# --- onboarding: a tenant created the README's way (commands only) has a working dashboard ---

PASSWORD = "clave-segura-123"


def test_new_tenant_from_the_readme_commands_has_a_working_dashboard(cli_env, settings, clock, tmp_path):
    env = dict(cli_env, CAMET_CLOCK_START=suite_now())
    tz = "America/Argentina/Buenos_Aires"
    for args in (("init-db",),
                 ("create-tenant", "acme", "--name", "ACME Foods", "--timezone", tz),
                 ("load-metadata", "--tenant", "acme", str(PROJECT_ROOT / "config/demo_plant.yml"))):
        done = manage(*args, env=env)
        assert done.returncode == 0, done.stderr
    made = manage("create-user", "--tenant", "acme", "--username", "ana", "--role", "admin",
                  "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr + made.stdout
    now = plant_now(clock, tz)
    rows = [(now - timedelta(hours=1, minutes=i)).isoformat(timespec="seconds") for i in range(5)]
    csv = tmp_path / "l1.csv"
    csv.write_text("ts,product_code,weight_g,status\n" + "".join(f"{ts},PF-045,45.5,ok\n" for ts in rows)
                   + f"{(now - timedelta(hours=2)).isoformat(timespec='seconds')},PF-045,44,reject\n")
    imported = manage("import-detections", "--tenant", "acme", "--line", "L1", str(csv), env=env)
    assert imported.returncode == 0, imported.stderr

    rt = build_runtime(settings, clock=clock)
    try:
        with rt.db.tenant("acme") as conn:
            assert conn.execute(select(func.count()).select_from(t.filters_table)).scalar() == len(
                DEFAULT_FILTER_ROWS)
            assert conn.execute(select(func.count()).select_from(t.widget_catalog)).scalar() == len(
                DEFAULT_WIDGET_ROWS)
        client = TestClient(create_app(rt))
        body = client.post("/api/v1/dashboard/run", json={"filters": {}},
                           headers=bearer(rt, demo_principal(rt, "acme", "ana"))).json()
        assert len(body["widgets"]) == len(DEFAULT_WIDGET_ROWS)
        assert [w for w in body["widgets"] if w.get("error")] == []
        assert body["meta"]["rows"] == 6
        kpis = {w["title"]: w["data"] for w in body["widgets"] if w["title"] == "Unidades producidas"}
        assert kpis["Unidades producidas"]["value"] == 6
    finally:
        rt.db.dispose()


def test_defaults_are_not_reinstalled_over_an_admins_rows(cli_env):
    assert manage("init-db", env=cli_env).returncode == 0
    assert manage("create-tenant", "acme", "--name", "ACME", env=cli_env).returncode == 0
    again = manage("create-tenant", "acme", "--name", "ACME", env=cli_env)
    assert "0 filters, 0 widgets" in again.stdout
    restored = manage("install-defaults", "--tenant", "acme", env=cli_env)
    assert restored.returncode == 0, restored.stderr
    assert f"{len(DEFAULT_FILTER_ROWS)} filters, {len(DEFAULT_WIDGET_ROWS)} widgets" in restored.stdout
