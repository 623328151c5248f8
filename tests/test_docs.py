"""The docs stay true: every table and column the loader accepts is documented, and the README's commands exist."""

import re
from pathlib import Path

from typer.testing import CliRunner

from fundguard.cli.main import app
from fundguard.errors import REJECT_REASONS
from fundguard.ingest.tables import ALL_TABLES

ROOT = Path(__file__).resolve().parents[1]


def test_every_input_table_and_project_column_is_documented():
    doc = (ROOT / "docs" / "data-inputs.md").read_text(encoding="utf-8")
    for spec in ALL_TABLES:
        assert f"`{spec.name}`" in doc, spec.name
        if not spec.national:
            for col in spec.columns:
                assert col in doc, f"{spec.name}.{col} missing from docs/data-inputs.md"
    for code in REJECT_REASONS:
        assert f"| {code} |" in doc


def test_readme_commands_exist_in_the_cli():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    help_text = CliRunner().invoke(app, ["--help"]).output
    for command in set(re.findall(r"`fundguard (\w+)", readme)):
        assert command in help_text, f"README mentions `fundguard {command}` but the CLI lacks it"
    assert "make demo" in readme and "make test" in readme
