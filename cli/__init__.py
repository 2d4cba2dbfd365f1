"""`manage.py` sub-commands, one module per topic; each module exposes `register(subparsers)`.

The list below is trusted configuration: adding a topic means adding its module name here.
"""

COMMAND_MODULES = (
    "cli.db", "cli.tenants", "cli.demo", "cli.detections", "cli.serve", "cli.users", "cli.jobs",
    "cli.defaults", "cli.ingest", "cli.simulate", "cli.rollups", "cli.web_server",
)
