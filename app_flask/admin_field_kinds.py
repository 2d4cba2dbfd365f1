"""The kinds of input of the admin forms, and how each reads its value from a submitted form.

Both admin form builders use them: the config forms generated from a class's JSON schema
(admin_forms.py) and the plant-metadata forms (plant_forms.py). A field names its kind; its
template draws the input (`templates/admin/_config_fields.html`, `admin/plant_form.html`) and
the kind registered here under that name turns the form back into a JSON value. A new kind is
one class here with `@field_kind_registry.register` plus its branch in the template.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from core.registry import Registry, name_attribute


class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...  # noqa: ANN401

    def getlist(self, key: str) -> list[str]: ...


OMIT = object()  # read(): the form gives no value, so the key is left out (the engine's default applies)


class FieldKind:
    """A single text input: the stripped text, left out when empty unless the field is required."""

    name: ClassVar[str]

    def read(self, form: FormData, input_name: str, required: bool) -> Any:  # noqa: ANN401
        """The JSON value of input `input_name`, or OMIT."""
        text = (form.get(input_name) or "").strip()
        return self.convert(text) if text else (text if required else OMIT)

    def convert(self, text: str) -> Any:  # noqa: ANN401
        """The value of non-empty text (the engine answers when it is not valid)."""
        return text


field_kind_registry: Registry[type[FieldKind]] = Registry("admin field kind", key=name_attribute)


def read_field(kind: str, form: FormData, input_name: str, required: bool = False) -> Any:  # noqa: ANN401
    """The value of one field of the kind `kind` (an unknown kind is a RegistryError)."""
    return field_kind_registry.get(kind)().read(form, input_name, required)


@field_kind_registry.register
class TextKind(FieldKind):
    name = "text"


@field_kind_registry.register
class SelectKind(FieldKind):
    name = "select"


@field_kind_registry.register
class TimeKind(FieldKind):
    name = "time"


@field_kind_registry.register
class DateKind(FieldKind):
    name = "date"


@field_kind_registry.register
class NumberKind(FieldKind):
    """A number input: an int when the text is a whole number without a point, else a float."""

    name = "number"

    def convert(self, text: str) -> Any:  # noqa: ANN401
        number = _float(text)
        if number is None:
            return text
        return int(number) if number.is_integer() and "." not in text else number


@field_kind_registry.register
class IntegerKind(FieldKind):
    """A whole-number input: an int whenever the number is whole ("3.0" too)."""

    name = "integer"

    def convert(self, text: str) -> Any:  # noqa: ANN401
        number = _float(text)
        if number is None:
            return text
        return int(number) if number.is_integer() else number


@field_kind_registry.register
class CheckboxKind(FieldKind):
    """A checkbox: present is true, absent is false (never left out)."""

    name = "checkbox"

    def read(self, form: FormData, input_name: str, required: bool) -> Any:  # noqa: ANN401
        return bool(form.get(input_name))


@field_kind_registry.register
class MultiselectKind(FieldKind):
    """A multiple choice: every chosen value, as sent."""

    name = "multiselect"

    def read(self, form: FormData, input_name: str, required: bool) -> Any:  # noqa: ANN401
        return form.getlist(input_name)


@field_kind_registry.register
class LinesKind(MultiselectKind):
    """Checkboxes of the plant's lines (their codes)."""

    name = "lines"


@field_kind_registry.register
class WeekdaysKind(FieldKind):
    """Checkboxes of the weekdays: ISO numbers, 1 = Monday."""

    name = "weekdays"

    def read(self, form: FormData, input_name: str, required: bool) -> Any:  # noqa: ANN401
        return [int(d) for d in form.getlist(input_name) if d.isdigit()]


@field_kind_registry.register
class CsvKind(FieldKind):
    """A comma-separated list of strings in one text input (blanks dropped)."""

    name = "csv"

    def read(self, form: FormData, input_name: str, required: bool) -> Any:  # noqa: ANN401
        raw = (form.get(input_name) or "").strip()
        return [p.strip() for p in raw.split(",") if p.strip()]


@field_kind_registry.register
class BreaksKind(FieldKind):
    """A shift's breaks: rows of name, start and end inputs; a fully empty row is dropped."""

    name = "breaks"

    def read(self, form: FormData, input_name: str, required: bool) -> Any:  # noqa: ANN401
        columns = (form.getlist("break_name"), form.getlist("break_start"), form.getlist("break_end"))
        rows = zip(*columns, strict=False)
        return [{"name": n.strip(), "start": s.strip(), "end": e.strip()} for n, s, e in rows
                if n.strip() or s.strip() or e.strip()]


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
