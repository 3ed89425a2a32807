"""A test password and every form in which libpq accepts it, for the tests that grep channels for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from etl_core.config import load_config

PASSWORD = "Zq9@pw:x%2F/y"  # '@' and ':' split URLs, '%2F' looks encoded, '/' ends an authority


def socket_folder(pg_uri: str) -> str:
    return parse_qs(urlsplit(pg_uri).query)["host"][0]


def address_forms(pg_uri: str, password: str = PASSWORD) -> dict[str, str]:
    """The same test server, with `password` in each place libpq reads one from."""
    host, encoded = socket_folder(pg_uri), quote(password, safe="")
    return {
        "userinfo": f"postgresql://postgres:{encoded}@/postgres?host={quote(host, safe='')}",
        "query parameter": f"postgresql://postgres@/postgres?host={host}&password={encoded}",
        "keyword DSN, quoted": f"host={host} dbname=postgres user=postgres password='{password}'",
        "keyword DSN, bare": f"password={password} host={host} dbname=postgres user=postgres",
        "userinfo, every character encoded": "postgresql://postgres:"
        + "".join(f"%{b:02X}" for b in password.encode())
        + f"@/postgres?host={host}",
    }


def leaks(text: str, password: str = PASSWORD) -> list[str]:
    """The forms of `password` found in `text` (plain, percent-encoded, or its encoded bytes)."""
    forms = {password, quote(password, safe=""), "".join(f"%{b:02X}" for b in password.encode())}
    return [form for form in forms if form in text]


def state_files(config_path: Path) -> str:
    """Every file of the config's state folder, as text: one of the channels a secret must never reach."""
    state_dir = load_config(str(config_path)).console.state_dir
    return "\n".join(p.read_text(errors="replace") for p in state_dir.rglob("*") if p.is_file())


def history_text(env: Any) -> str:
    """The run history of `env`'s user_id (runs and stages), as text."""
    return json.dumps(
        env.query(
            f'SELECT r::text FROM "{env.user_id}_staging".console_runs r UNION ALL '
            f'SELECT s::text FROM "{env.user_id}_staging".console_stage_runs s'
        )
    )
