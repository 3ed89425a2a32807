"""Fixtures of the console tests (helpers live in tui_helpers.py); the services come from tests/conftest.py."""

from __future__ import annotations

import pytest


def _shared_conftest(config: pytest.Config):
    """tests/conftest.py as loaded by pytest (its create_dims and put_dataset helpers)."""
    for plugin in config.pluginmanager.get_plugins():
        if callable(getattr(plugin, "create_dims", None)) and callable(getattr(plugin, "put_dataset", None)):
            return plugin
    raise RuntimeError("tests/conftest.py (create_dims, put_dataset) is not loaded")


@pytest.fixture
def named_env(make_env, request):
    """The small dataset of the `env` fixture under fixed names (`name`, bucket `name-lake`), for snapshots."""
    shared = _shared_conftest(request.config)

    def make(name: str):
        env = make_env(user_id=name, bucket=f"{name}-lake")
        shared.create_dims(env, holidays=("2022-01-03", "2022-05-02"))
        shared.put_dataset(
            env,
            orders=[(1, 1, "2022-01-03", 1, 100, 2), (2, 2, "2022-05-02", 2, 50, 1), (3, 3, "2022-06-01", 1, 10, 3)],
            reviews=[(5, 1), (4, 1), (3, 2)],
            shipments=[(1, 1, "2022-01-05", "2022-01-07"), (2, 2, None, None), (3, 3, "2022-06-08", None)],
        )
        return env

    return make


@pytest.fixture
def exported_keys(env):
    def keys() -> list[str]:
        listing = env.s3.list_objects_v2(Bucket=env.bucket, Prefix=f"analytics_export/{env.user_id}/")
        return sorted(obj["Key"].rsplit("/", 1)[-1] for obj in listing.get("Contents", []))
    return keys
