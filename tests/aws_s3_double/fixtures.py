"""Pytest fixtures of the aws_s3 test double (load with `pytest_plugins = ["aws_s3_double.fixtures"]`).

`pg15` is one Debian PostgreSQL 15 server per session; `aws_s3_dsn` is a fresh database on it per
test, with `CREATE EXTENSION aws_s3 CASCADE` run and the double pointed at the session's moto
server; `make_aws_s3_database` makes more (another endpoint, or no extension).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest

from aws_s3_double.pg15 import Pg15Server, missing_packages, start_pg15

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg15() -> Iterator[Pg15Server]:
    problem = missing_packages()
    if problem:
        pytest.fail(f"the aws_s3 test double cannot run: {problem}")
    server = start_pg15()
    yield server
    server.stop()


@pytest.fixture
def make_aws_s3_database(pg15: Pg15Server, s3_endpoint: str) -> Callable[..., str]:
    """make(extension=True, s3_endpoint=<the session's moto server>) -> the new database's DSN."""

    def make(*, extension: bool = True, s3_endpoint: str | None = s3_endpoint) -> str:
        return pg15.create_database(
            f"aws_s3_{os.getpid()}_{next(_databases)}", s3_endpoint=s3_endpoint, extension=extension
        )

    return make


@pytest.fixture
def aws_s3_dsn(make_aws_s3_database: Callable[..., str]) -> str:
    return make_aws_s3_database()
