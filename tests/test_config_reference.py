"""The README's configuration reference and the config's declaration (etl_core/config.py) agree, row by row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl_core.config import SECTIONS, Key, declared_keys, load_config

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_rows() -> dict[str, tuple[str, str]]:
    """`section.key` -> (default cell, meaning cell) of the table under "## Configuration"."""
    section = README.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("\n| key | default | meaning |\n|---|---|---|\n", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines():
        name, default, meaning = (cell.strip() for cell in line.strip().strip("|").split(" | "))
        assert name.startswith("`") and name.endswith("`"), line
        assert name.strip("`") not in rows, f"{name} is documented twice"
        rows[name.strip("`")] = (default, meaning)
    return rows


def declared() -> dict[str, Key]:
    return {f"{section}.{name}": key for section, cls in SECTIONS.items() for name, key in declared_keys(cls).items()}


def default_cell(key: Key) -> str:
    """What the README's default column says: **required** (and the shipped value), or the default."""
    if key.default is None:
        return "**required**"
    value: Any = key.default
    if isinstance(value, tuple):  # a list, as TOML writes it
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    if value == "":
        return '`""`'
    text = str(value).lower() if isinstance(value, bool) else f"{value:g}" if isinstance(value, float | int) else value
    return f"`{text}`"


def expected_row(name: str, key: Key) -> str:
    return f"| `{name}` | {default_cell(key)} | {key.doc} |"


def test_the_readme_documents_every_declared_key_and_no_other():
    documented, keys = readme_rows(), declared()
    missing = [expected_row(name, key) for name, key in keys.items() if name not in documented]
    assert not missing, "add these rows to the README's configuration reference:\n" + "\n".join(missing)
    undeclared = sorted(set(documented) - set(keys))
    assert not undeclared, f"the README documents keys the config does not declare: {undeclared}"


def test_each_readme_row_says_what_the_declaration_says():
    documented = readme_rows()
    for name, key in declared().items():
        default, meaning = documented.get(name, ("", ""))
        expected = expected_row(name, key)
        assert meaning == key.doc, f"README row of {name} differs from its declaration; expected:\n{expected}"
        if key.default is None:
            assert default.startswith("**required**"), f"{name} has no default: the README must say **required**"
        else:
            assert default == default_cell(key), f"{name}'s default is {default_cell(key)} in the declaration"


def test_the_reference_is_read_from_the_readme():
    # The parser above must see the table, else the two tests above would compare nothing.
    assert {"pipeline.user_id", "timeouts.lock_wait_s", "warehouse.transfer"} <= set(readme_rows())


def test_the_shipped_configs_use_only_declared_keys():
    # An undeclared key in a shipped file would only warn at start: keep both files to the declaration.
    for path in (README.parent / "config.toml", README.parent / "etl_core" / "default_config.toml"):
        assert load_config(str(path)).warnings == (), path
