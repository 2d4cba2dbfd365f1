"""Small helpers shared by the widgets that read an external provider's payload (ERP, FX)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from core.errors import WidgetDataError
from widgets.base import BaseWidget

API_ID = r"^[a-z][a-z0-9_]{0,63}$"


def api_id_field(default: str) -> Any:
    """The `api` config key: which manifest entry the widget reads."""
    return Field(default=default, pattern=API_ID)


def invalid_payload(exc: ValidationError) -> WidgetDataError:
    """A card-safe message naming the first bad field of the provider's answer."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "payload"
    return WidgetDataError(f"respuesta inválida del proveedor ({where}: {err['msg']})")


class ConfiguredApiWidget(BaseWidget):
    """An external widget that reads the manifest entry its config names in `api`."""

    source_type = "external"

    @property
    def required_api_id(self) -> str:  # type: ignore[override]
        return self.config.api
