"""Fixtures of the console tests (helpers live in tui_helpers.py); the services come from tests/conftest.py."""

from __future__ import annotations

import pytest

from support import put_small_dataset


@pytest.fixture
def named_env(make_env, request):
    """The small dataset of the `env` fixture under fixed names (`name`, bucket `name-lake`), for snapshots."""

    def make(name: str):
        env = make_env(user_id=name, bucket=f"{name}-lake")
        put_small_dataset(env)
        return env

    return make


@pytest.fixture
def exported_keys(env):
    def keys() -> list[str]:
        listing = env.s3.list_objects_v2(Bucket=env.bucket, Prefix=f"analytics_export/{env.user_id}/")
        return sorted(obj["Key"].rsplit("/", 1)[-1] for obj in listing.get("Contents", []))

    return keys
