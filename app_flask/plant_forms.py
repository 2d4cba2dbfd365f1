"""The plant-metadata forms: which fields each kind has (Spanish labels) and form → JSON body.

The body has the YAML loader's shape (ingest/plant_metadata.py), which the engine validates;
this module only reads the form and never decides what is valid (an empty optional number is
left out so the loader's default applies; numbers are sent as JSON numbers when they parse).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app_flask.admin_field_kinds import OMIT, FormData, read_field

WEEKDAYS = (("1", "lun"), ("2", "mar"), ("3", "mié"), ("4", "jue"), ("5", "vie"), ("6", "sáb"), ("7", "dom"))


@dataclass(frozen=True)
class PlantField:
    """One input: kind names an admin field kind (admin_field_kinds: text, number, integer,
    checkbox, select, lines, time, date, weekdays, breaks); `options` names the list the
    choices come from (areas or lines)."""

    name: str
    label: str
    kind: str = "text"
    required: bool = True
    options: str = ""
    help: str = ""
    blank: str = ""  # a select's empty choice (sent as "not given"), e.g. «todos los turnos»


@dataclass(frozen=True)
class PlantKind:
    """One kind of plant entry: its engine route, its words and its form."""

    api: str
    title: str
    singular: str
    new_label: str
    fields: tuple[PlantField, ...]
    can_toggle: bool = False
    can_delete: bool = False
    can_edit: bool = True

    def label_of(self, field_name: str) -> str:
        """The Spanish label of a body field (engine messages name body fields)."""
        top = field_name.split(".", 1)[0]
        return next((f.label for f in self.fields if f.name == top), field_name)


CODE = PlantField("code", "Código", help="Letras, dígitos, «_», «.» o «-»; no se puede cambiar después.")
NAME = PlantField("name", "Nombre")

KINDS: dict[str, PlantKind] = {
    "lineas": PlantKind("/api/v1/admin/plant/lines", "Líneas", "línea", "Nueva línea", (
        CODE, NAME,
        PlantField("area", "Área", "select", options="areas"),
        PlantField("ideal_rate_per_min", "Ritmo ideal (unidades por minuto)", "number"),
        PlantField("micro_stop_s", "Microparada desde (segundos sin detección)", "integer", required=False),
        PlantField("stop_threshold_s", "Parada desde (segundos)", "integer", required=False),
        PlantField("no_data_after_s", "«Sin datos» después de (segundos)", "integer", required=False),
        PlantField("active", "Activa", "checkbox"),
    ), can_toggle=True),
    "areas": PlantKind("/api/v1/admin/plant/areas", "Áreas", "área", "Nueva área", (CODE, NAME),
                       can_delete=True),
    "productos": PlantKind("/api/v1/admin/plant/products", "Productos", "producto", "Nuevo producto", (
        CODE, NAME,
        PlantField("nominal_weight_g", "Peso nominal (g)", "number"),
        PlantField("lines", "Líneas que lo producen", "lines", required=False, options="lines"),
        PlantField("active", "Activo", "checkbox"),
    ), can_toggle=True),
    "turnos": PlantKind("/api/v1/admin/plant/shifts", "Turnos", "turno", "Nuevo turno", (
        CODE, NAME,
        PlantField("start", "Inicio", "time"),
        PlantField("end", "Fin", "time", help="Si termina antes de empezar, cruza la medianoche."),
        PlantField("weekdays", "Días que se trabaja", "weekdays"),
        PlantField("breaks", "Pausas", "breaks", required=False),
    ), can_delete=True),
    "feriados": PlantKind("/api/v1/admin/plant/closed-days", "Días sin producción", "día sin producción",
                          "Nuevo día sin producción", (
        PlantField("date", "Fecha (día de producción)", "date"),
        PlantField("name", "Motivo"),
        PlantField("lines", "Sólo estas líneas", "lines", required=False, options="lines",
                   help="Ninguna marcada: cierra toda la planta."),
    ), can_delete=True, can_edit=False),
    "objetivos": PlantKind("/api/v1/admin/plant/targets", "Objetivos", "objetivo", "Nuevo objetivo", (
        PlantField("line", "Línea", "select", options="lines"),
        PlantField("shift", "Turno", "select", required=False, options="shifts", blank="todos los turnos"),
        PlantField("product", "Producto", "select", required=False, options="products",
                   blank="todos los productos"),
        PlantField("units_per_shift", "Unidades por turno", "integer", required=False),
        PlantField("oee", "OEE objetivo (de 0 a 1)", "number", required=False,
                   help="Por ejemplo 0.85. Indique unidades, OEE o ambos."),
    ), can_delete=True),
    "motivos": PlantKind("/api/v1/admin/plant/stop-reasons", "Motivos de parada", "motivo", "Nuevo motivo", (
        CODE, NAME,
        PlantField("active", "Activo (se ofrece al clasificar paradas)", "checkbox"),
    ), can_toggle=True),
}


def form_body(kind: PlantKind, form: FormData) -> dict[str, Any]:
    """The JSON body of one entry as the form describes it."""
    body: dict[str, Any] = {}
    for f in kind.fields:
        value = read_field(f.kind, form, f.name, f.required)
        if value is not OMIT:
            body[f.name] = value
    return body


def blank_rows(row: dict[str, Any], extra: int = 2) -> list[dict[str, str]]:
    """The break rows of the shift form: the stored ones plus `extra` empty ones to fill in."""
    return list(row.get("breaks") or []) + [{"name": "", "start": "", "end": ""}] * extra
