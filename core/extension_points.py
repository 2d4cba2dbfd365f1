"""Every extension point of Camet on one page: what to implement, where it registers, what to add.

Each plugin family is one `core.registry.Registry`: an entry joins it from its own module and
is looked up by name (a database row, a filter's `form["type"]`, a widget's `shape`, a job id),
never imported from a dotted path. This page names, per family, the base class or function
signature to implement, the registry, how an entry registers itself, and the files a new one
takes. It is declarative (dotted names as text: `core` imports nothing above it); a test
resolves every name here and checks that no registry of the product is missing from it.

Not extension points: the FastAPI routers (`app_fastapi/main.py`) and the Flask blueprints
(`app_flask/factory.py`) are composed in one explicit list each, in the composition root,
because their order and prefixes are part of the product's public URL space; a registry would
still need each module imported somewhere, i.e. the same list. Two tests check that no route
module and no view module is left out of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtensionPoint:
    """One plugin family: its one-line contract and where the pieces are."""

    family: str
    contract: str  # one line: what an entry does for the product
    implement: str  # the base class (or function signature) an entry provides
    registry: str  # dotted name of the family's Registry
    register: str  # how an entry joins it, from its own module
    add: str  # the files a new entry takes


EXTENSION_POINTS: tuple[ExtensionPoint, ...] = (
    ExtensionPoint(
        family="filter kinds",
        contract="Validate one panel control's raw value and turn it into a bound SQL fragment.",
        implement="filters.base.BaseFilter",
        registry="filters.base.filter_registry",
        register="@filter_registry.register (key: the class name a `Filters` row names)",
        add="filters/<kind>.py, templates/partials/filters/_<kind>.html, one import in filters/__init__.py",
    ),
    ExtensionPoint(
        family="widgets",
        contract="Turn exactly the data a widget declares into the JSON of its shape.",
        implement="widgets.base.BaseWidget",
        registry="widgets.base.widget_registry",
        register="@widget_registry.register (key: the class name a `Widget_catalog` row names; "
                 "the widget contract is checked on registration)",
        add="widgets/<name>.py declaring `sample_configs`, one import in widgets/__init__.py",
    ),
    ExtensionPoint(
        family="widget shapes",
        contract="Draw one kind of widget JSON on a card and give it as table rows for exports.",
        implement="widgets.shapes.base.RowsFunction",
        registry="widgets.shapes.base.shape_registry",
        register='@shape("<name>") on the rows function',
        add="widgets/shapes/<name>.py, templates/partials/widgets/_<name>.html, "
            "one import in widgets/shapes/__init__.py",
    ),
    ExtensionPoint(
        family="jobs",
        contract="Do one tenant's share of a background task, due every fixed interval.",
        implement="jobs.registry.JobFunc",
        registry="jobs.registry.job_registry",
        register='@job("<id>", every=timedelta(...)) on the function',
        add="jobs/<name>.py calling its domain room (e.g. jobs/rollups.py), one import in jobs/__init__.py",
    ),
    ExtensionPoint(
        family="readers",
        contract="Read a planned detection query into the base DataFrame with one database driver.",
        implement="query.readers.base.BaseReader",
        registry="query.readers.base.reader_registry",
        register="@reader_registry.register (key: the reader's `name`)",
        add="query/readers/<driver>_reader.py, one import in query/readers/__init__.py",
    ),
    ExtensionPoint(
        family="filter panel field types",
        contract="Carry one filter's value in the page's form and URL (what `form['type']` names).",
        implement="app_flask.panel_fields.PanelField",
        registry="app_flask.panel_fields.panel_field_registry",
        register="@panel_field_registry.register (key: the type's `name`)",
        add="one class in app_flask/panel_fields.py",
    ),
    ExtensionPoint(
        family="admin field kinds",
        contract="Read one input of an admin form (config or plant metadata) back into JSON.",
        implement="app_flask.admin_field_kinds.FieldKind",
        registry="app_flask.admin_field_kinds.field_kind_registry",
        register="@field_kind_registry.register (key: the kind's `name`)",
        add="one class in app_flask/admin_field_kinds.py, its branch in the admin form template",
    ),
)

# Declared as data, not code, so no registry: an external API is an entry of
# config/external_apis.yml (validated entry by entry as broker.manifest.ApiSpec, keyed by its id,
# reloaded when the file changes); a widget names it with `required_api_id`.
EXTERNAL_APIS = "broker.manifest.ApiSpec"
