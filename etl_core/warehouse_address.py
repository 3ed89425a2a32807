"""The warehouse address as libpq reads it: validated, its password known, and a label safe to show.

libpq takes a password in many places (`user:pw@`, `?password=`, `password=` in a keyword DSN,
percent-encoded or quoted), so the string is parsed by libpq's own parser and nothing shown to
anyone is ever built from the raw string.
"""

from __future__ import annotations

import re

from etl_core.secrets import MASK, register_secret

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_QUOTED = re.compile(r'"([^"]*)"')
EXPECTED = "expected postgresql://user@host:5432/database or a keyword DSN like 'host=... dbname=... user=...'"


class InvalidAddress(ValueError):
    """The address cannot be used; the message never repeats a part of it that may be a secret."""


def _invalid(reason: str) -> InvalidAddress:
    return InvalidAddress(f"is not a valid URL or DSN: {reason}")


def warehouse_label(text: str) -> str:
    """Check a postgresql:// URL or keyword DSN with libpq's parser, register its password, return its label.

    Raises InvalidAddress with the reason.
    """
    import psycopg2  # here, not at the top: an embedded warehouse has no address to parse, the console starts sooner
    from psycopg2.extensions import parse_dsn

    _register_raw_userinfo(text)
    scheme = _SCHEME.match(text)
    if scheme and scheme.group(1).lower() not in ("postgresql", "postgres"):
        raise _invalid(f"the scheme {scheme.group(1)!r} is not supported; use postgresql://")
    if scheme and text.partition("?")[0].count("@") > 1:
        # libpq would split the password at its first '@' and show the rest as the host or database.
        raise _invalid(
            "it has more than one '@' before the host; write an '@' in the password as %40 (':' as %3A, '/' as %2F)"
        )
    try:
        options = parse_dsn(text)
    except psycopg2.ProgrammingError as exc:
        reason = str(exc).strip().removeprefix("invalid dsn:").strip()
        raise _invalid(f"{_names_only(reason, text)}; {EXPECTED}") from None
    register_secret(options.get("password"))
    register_secret(options.get("sslpassword"))
    _check_options(options)
    return _label(options)


def _register_raw_userinfo(text: str) -> None:
    """Mask all that sits between `user:` and the last `@` too: libpq splits an unencoded `@` or `/` off."""
    found = re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/:@]*:([^?]*)@", text)
    if found:
        register_secret(found.group(1))


def _names_only(reason: str, text: str) -> str:
    """libpq's reason with every quoted token masked unless it is an option name (`token=` in the string)."""

    def shown(token: re.Match[str]) -> str:
        name = token.group(1)
        is_name = re.fullmatch(r"\w+", name) and f"{name}=" in text
        return f'"{name}"' if is_name or name == "=" else f'"{MASK}"'

    return _QUOTED.sub(shown, reason)


def _check_options(options: dict[str, str]) -> None:
    if not options.get("dbname"):
        raise _invalid(f"it names no database; {EXPECTED}")
    for port in options.get("port", "").split(","):
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            # Not echoed: a port that is not a number may be the end of a mis-split password.
            raise _invalid("the port is not a number between 1 and 65535")


def _label(options: dict[str, str]) -> str:
    """postgresql://user:***@host:port/database from libpq's parts (a socket folder is shown as ?host=)."""
    user = options.get("user", "")
    secret = f":{MASK}" if options.get("password") else ""
    userinfo = f"{user}{secret}@" if user or secret else ""
    host, port = options.get("host", ""), options.get("port", "")
    socket = host.startswith("/")
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address, as in a URL
    where = ("" if socket else shown) + (f":{port}" if port else "")
    label = f"postgresql://{userinfo}{where}/{options['dbname']}"
    return label + (f"?host={host}" if socket else "")
