"""The title says which dimensions runs compute on, and reads them again after every run: the console
holds the embedded warehouse (a `--load-dimensions` waits for it to quit), but SQL from elsewhere can
still change them while it is open."""

from __future__ import annotations

from psycopg2 import sql

from etl_core.dimension_load import load_dimensions
from support import put_small_dataset, write_dimension_files
from tui_helpers import SIZE, make_app, settle


async def test_the_title_follows_the_dimensions_after_each_run(make_env, tmp_path):
    env = make_env()
    put_small_dataset(env)
    env.rewrite_config(url="embedded")
    load_dimensions(env.config, write_dimension_files(tmp_path / "if_common"), lambda _m: None)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "dimensions from if_common" in app.sub_title, app.sub_title
        assert app.services is not None
        dims = sql.Identifier(env.config.warehouse.dims_schema)
        with app.services.transaction("test") as cur:  # as a DBA's psql would, while the console is open
            cur.execute(
                sql.SQL("UPDATE {}.d2b_dimensions SET folder = %s").format(dims),
                (str(tmp_path / "if_common-2023"),),
            )
        assert "dimensions from if_common-2023" not in app.sub_title  # nothing told the console yet
        await pilot.press("r")
        await settle(pilot)
        if app.screen is not app.main:  # the export preview of a run that computed: not exported
            await pilot.press("escape")
            await settle(pilot)
        assert "dimensions from if_common-2023" in app.sub_title, app.sub_title
        assert app.main.panes.title_bar.facts == app.sub_title.split(" · ")
