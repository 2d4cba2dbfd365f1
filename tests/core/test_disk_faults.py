"""A full or read-only var/: sessions and uploads say what is wrong (no misleading "La sesión
expiró", no generic 500), log the cause once, leave no temporary files, and work again as soon as
the disk does. The disks are real: a tmpfs of a few KiB filled until the kernel answers ENOSPC,
and a read-only bind mount (EROFS; mode 0500 when not root). See tests/tiny_disk.py."""

from __future__ import annotations

import io
import logging
import re

import pytest
from fastapi.testclient import TestClient

from core.disk_errors import unwritable_reason
from tests.browser_utils import csrf_from, flask_login
from tests.tiny_disk import read_only_dir, tiny_tmpfs
from tests.upload_support import GOOD, finished, line_count, send

FULL_SESSIONS = "no hay espacio en disco para sesiones"
FULL_UPLOADS = "no hay espacio en disco para la importación"
NOT_WRITABLE = "no admite escritura"


def _disk_warnings(caplog: pytest.LogCaptureFixture, word: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and word in r.getMessage()]


def _assert_unavailable(response, message: str) -> None:  # noqa: ANN001 - a Flask test response
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:400]
    assert message in html and "Traceback" not in html
    assert "La sesión expiró" not in html
    assert int(response.headers["Retry-After"]) > 0


@pytest.fixture
def sessions_disk(runtime):
    with tiny_tmpfs(runtime.settings.var_dir / "sessions") as disk:
        yield disk


def test_full_session_disk_gives_a_clear_503_logs_once_and_leaves_no_debris(
        auth_world, sessions_disk, flask_app, caplog):
    client = flask_app.test_client()
    assert flask_login(client, "acme", "ana", auth_world.password).status_code == 302
    sessions_disk.fill()
    before = sessions_disk.entries()
    caplog.clear()
    for path in ("/", "/account/password", "/login"):
        _assert_unavailable(client.get(path), FULL_SESSIONS)
    newcomer = flask_app.test_client()
    _assert_unavailable(newcomer.get("/login"), FULL_SESSIONS)
    _assert_unavailable(newcomer.post("/login", data={"tenant": "acme", "username": "ana",
                                                      "password": auth_world.password}), FULL_SESSIONS)
    assert client.get("/static/css/auth.css").status_code == 200
    assert sessions_disk.entries() == before, "no temporary files left behind"
    assert len(_disk_warnings(caplog, "sessions")) == 1, [r.getMessage() for r in caplog.records]

    sessions_disk.free()
    assert client.get("/").status_code == 200, "the session written before the disk filled still works"
    assert flask_login(newcomer, "acme", "vic", auth_world.password).status_code == 302
    assert len(_disk_warnings(caplog, "sessions")) == 1


def test_read_only_session_dir_gives_a_clear_503_and_logout_is_not_silently_kept(auth_world, flask_app):
    client = flask_app.test_client()
    assert flask_login(client, "acme", "ana", auth_world.password).status_code == 302
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    with read_only_dir(auth_world.runtime.settings.var_dir / "sessions"):
        _assert_unavailable(client.get("/"), NOT_WRITABLE)
        _assert_unavailable(client.post("/logout", data={"csrf_token": token}), NOT_WRITABLE)
        _assert_unavailable(flask_app.test_client().get("/login"), NOT_WRITABLE)
        assert client.get("/static/favicon.svg").status_code == 200
    assert client.get("/").status_code == 200


@pytest.fixture
def admin(auth_world, engine_app):
    return TestClient(engine_app, headers=auth_world.auth("ana"))


def _big_csv(rows: int) -> str:
    more = (f"2026-11-18T09:{i // 60 % 60:02d}:{i % 60:02d},PF-045,45,ok\n" for i in range(rows))
    return GOOD + "".join(more)


def test_upload_to_a_full_disk_is_refused_clearly_with_no_debris(auth_world, admin, caplog):
    rt = auth_world.runtime
    with tiny_tmpfs(rt.settings.var_dir / "uploads", size_kib=64) as disk:
        too_big = admin.post("/api/v1/admin/uploads", params={"line": "L1"},
                             content=_big_csv(4000).encode(), headers={"Content-Type": "text/csv"})
        assert too_big.status_code == 507, too_big.text
        assert too_big.json()["message"].startswith(FULL_UPLOADS)
        assert disk.entries() == [], "the partial file is removed"
        disk.fill()
        full = send(admin, GOOD)
        assert full.status_code == 507 and full.json()["message"].startswith(FULL_UPLOADS)
        assert disk.entries() == [], "no zero-byte temporary file"
        assert len(_disk_warnings(caplog, "uploads")) == 1, [r.getMessage() for r in caplog.records]
        disk.free()
        state = finished(admin, send(admin, GOOD).json()["id"])
        assert state["status"] == "done" and line_count(rt) == 4
        assert disk.entries() == []


def test_upload_to_a_read_only_disk_is_refused_clearly(auth_world, admin):
    folder = auth_world.runtime.settings.var_dir / "uploads"
    with read_only_dir(folder):
        refused = send(admin, GOOD)
        assert refused.status_code == 507 and NOT_WRITABLE in refused.json()["message"], refused.text
    assert sorted(p.name for p in folder.iterdir()) == []


def test_upload_page_shows_the_disk_message(auth_world, flask_app):
    flask_app.config["RATELIMIT_ENABLED"] = False
    client = flask_app.test_client()
    assert flask_login(client, "acme", "ana", auth_world.password).status_code == 302
    page = client.get("/account/password").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    with tiny_tmpfs(auth_world.runtime.settings.var_dir / "uploads", size_kib=64) as disk:
        disk.fill()
        answer = client.post("/admin/importar", content_type="multipart/form-data", data={
            "csrf_token": token, "linea": "L1", "archivo": (io.BytesIO(GOOD.encode()), "turno.csv")})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 507, html[:400]
    assert "No hay espacio en disco para la importación" in html and "Traceback" not in html


def test_unwritable_reason_probe_names_the_cause_and_leaves_nothing(tmp_path):
    assert unwritable_reason(tmp_path) is None and list(tmp_path.iterdir()) == []
    with tiny_tmpfs(tmp_path / "full") as disk:
        disk.fill()
        assert "(ENOSPC)" in (unwritable_reason(disk.path) or "")
        assert disk.entries() == []
    with read_only_dir(tmp_path / "ro"):
        reason = unwritable_reason(tmp_path / "ro") or ""
        assert "(EROFS)" in reason or "(EACCES)" in reason
