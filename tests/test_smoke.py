from etl_core.pipeline import run_pipeline


def test_run_all_on_small_dataset(env):
    with env.open() as services:
        summary = run_pipeline(services)
    assert summary.status == "succeeded", [s.error for s in summary.stages]
    assert [s.rows for s in summary.stages] == [0, 9, 3, 3]
