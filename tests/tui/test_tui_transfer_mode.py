"""The console's title says when the warehouse transfers the data itself ([warehouse] transfer = "aws_s3")."""

from __future__ import annotations

from tui.app import ConsoleApp
from tui_helpers import screen_text, wait_until


async def test_the_title_names_the_aws_s3_mode_even_at_80_columns(env):
    env.config_path.write_text(env.config_path.read_text().replace("\n[console]", 'transfer = "aws_s3"\n\n[console]'))
    app = ConsoleApp(env.config)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "postgresql://" in app.sub_title, what="the console to connect")
        assert app.main.panes.title_bar.fitted(80)[:2] == [f"user {env.user_id}", "transfer aws_s3"]
        assert f"user {env.user_id} · transfer aws_s3 · " in screen_text(app).splitlines()[0]
    assert " · transfer aws_s3 · " in app.sub_title


async def test_the_default_client_mode_leaves_the_title_as_it_was(env):
    app = ConsoleApp(env.config)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "postgresql://" in app.sub_title, what="the console to connect")
    assert "transfer" not in app.sub_title


async def test_a_run_without_the_extension_says_what_the_dba_must_run(env):
    env.config_path.write_text(env.config_path.read_text().replace("\n[console]", 'transfer = "aws_s3"\n\n[console]'))
    app = ConsoleApp(env.config)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await wait_until(pilot, lambda: "postgresql://" in app.sub_title, what="the console to connect")
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: "CREATE EXTENSION aws_s3" in " ".join(screen_text(app).split()),
            what="the preflight's message",
        )
        shown = " ".join(screen_text(app).split())
    assert "the aws_s3 extension is not installed in database" in shown
    assert env.query(f"SELECT count(*) FROM pg_namespace WHERE nspname = '{env.user_id}_analytics'") == [(0,)]
