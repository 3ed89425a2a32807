"""tests/unit holds the tests that start no service: pure functions, run in seconds without Postgres or S3.

A test here that asks for a service fails before any service starts: it belongs with the integration tests
in tests/.
"""

from __future__ import annotations

import pytest

SERVICE_FIXTURES = frozenset({"pg_uri", "s3_endpoint", "pg15", "s3", "make_env", "env", "tcp_env", "s3_proxied"})


def pytest_runtest_setup(item: pytest.Item) -> None:
    asked = sorted(SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())))
    if asked:
        pytest.fail(f"a unit test starts no service, but this one asks for {', '.join(asked)}: move it to tests/")
