"""The shipped manifest's demo provider is a path of this engine, reached in-process."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app_fastapi.main import create_app
from core.settings import PROJECT_ROOT
from tests.dashboard_support import bearer, demo_principal


def test_default_manifest_reaches_the_demo_provider_in_process(runtime, demo_tenant):
    assert runtime.settings.external_apis_file == PROJECT_ROOT / "config" / "external_apis.yml"
    client = TestClient(create_app(runtime))
    headers = bearer(runtime, demo_principal(runtime))
    body = client.post("/api/v1/dashboard/run", json={"filters": {}}, headers=headers).json()
    external = [w for w in body["widgets"] if w["source"] == "external"]
    assert external, "the demo layout has an external widget"
    for widget in external:
        assert widget.get("error") is None, widget
        assert widget["data"]
