"""The README documents every setting and every manage.py command (a new one cannot hide)."""

from __future__ import annotations

from core.settings import PROJECT_ROOT, Settings
from manage import build_parser

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table():
    missing = [f"CAMET_{name.upper()}" for name in Settings.model_fields
               if f"| `CAMET_{name.upper()}` |" not in README]
    assert missing == []


def test_every_command_is_in_the_readme():
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    missing = [name for name in commands if f"`{name}" not in README]
    assert missing == []


def test_the_two_commands_come_first():
    assert README.index("make run") < README.index("## Settings")
    assert README.index("make test") < README.index("## Settings")
