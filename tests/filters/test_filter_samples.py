"""Every registered filter class, with each of its sample configs: the contract, driven by the registry.

A new filter kind is tested here without editing a list: it describes itself as JSON with a
field type the page knows and a template, and its default value survives the trip the page
makes (JSON definition → the dashboard URL → the submitted form → validation) and becomes SQL.
"""

from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import MultiDict

from app_flask.panel_fields import field_type, panel_field_registry
from core.errors import RegistryError
from core.registry import Registry
from core.settings import PROJECT_ROOT
from filters import ValidationContext, filter_registry
from filters.base import BaseFilter, check_contract
from query.spec import SqlFragment
from tests.filters.test_filters_unit import synthetic_meta
from tests.helpers import frozen_test_clock
from tests.registry_samples import filter_samples, sample_id

SAMPLES = filter_samples()


@pytest.mark.parametrize(("cls", "config"), SAMPLES, ids=sample_id)
def test_every_filter_sample_describes_itself_and_round_trips_its_default(cls, config):
    flt = cls(param="p", label="Campo", config=config, meta=synthetic_meta(), clock=frozen_test_clock())
    definition = json.loads(json.dumps(flt.describe()))
    assert definition["class_name"] == cls.__name__ and definition["kind"] == cls.kind
    assert definition["form"]["type"] in panel_field_registry, "the page can carry its value"
    template = PROJECT_ROOT / "templates" / "partials" / "filters" / f"_{cls.kind}.html"
    assert template.is_file(), "a shipped kind ships its panel control"
    field, spec = field_type(definition["form"]["type"]), definition["form"]
    shown = definition["default"]
    url = MultiDict(field.query("p", shown, spec) if shown is not None else [])
    value = flt.validate(field.parse("p", url, spec), ValidationContext())
    assert flt.to_json(value) == flt.to_json(flt.default())
    assert isinstance(flt.to_sql(value), SqlFragment)


def test_the_samples_cover_every_registered_filter_class():
    assert {cls for cls, _ in SAMPLES} == set(filter_registry)
    assert len(SAMPLES) > len(set(filter_registry))


@pytest.mark.parametrize(("body", "message"), [
    ({"sample_configs": ({"nope": 1},)}, "sample config {'nope': 1} is invalid"),
    ({"sample_configs": ()}, "sample_configs is empty"),
])
def test_a_filter_class_breaking_the_contract_is_refused_at_registration(body, message):
    registry = Registry("filter class", check=check_contract)
    with pytest.raises(RegistryError, match=message):
        registry.register(type("Broken", (BaseFilter,), body))
    assert "Broken" not in registry
    with pytest.raises(RegistryError, match="does not extend BaseFilter"):
        registry.register(type("Stray", (), {}))
