"""Fixtures of the console tests (helpers live in tui_helpers.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def exported_keys(env):
    def keys() -> list[str]:
        listing = env.s3.list_objects_v2(Bucket=env.bucket, Prefix=f"analytics_export/{env.user_id}/")
        return sorted(obj["Key"].rsplit("/", 1)[-1] for obj in listing.get("Contents", []))
    return keys
