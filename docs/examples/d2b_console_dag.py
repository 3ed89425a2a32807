"""An Airflow DAG running d2b-console once a day (copy it into your dags/ folder and adjust the paths).

Exit codes decide the retries: 1 (a stage or an ERROR check failed) and 3 (S3 or the warehouse could
not be reached) are retried; 2 (bad configuration or options) fails at once, since a retry cannot fix it.
The JSON summary is the task's log; the run's own history stays in the warehouse and `d2b-console --status`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.operators.bash import BashOperator

D2B = "/opt/d2b"
NO_RETRY_EXIT_CODES = {2}


class D2BConsoleOperator(BashOperator):
    """A BashOperator whose exit codes in NO_RETRY_EXIT_CODES fail the task without its retries."""

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowException as exc:
            found = re.search(r"exit code (\d+)", str(exc))
            if found and int(found.group(1)) in NO_RETRY_EXIT_CODES:
                raise AirflowFailException(
                    f"d2b-console exited {found.group(1)}: bad configuration or options"
                ) from exc
            raise


with DAG(
    dag_id="d2b_console_daily",
    start_date=datetime(2026, 1, 1),
    schedule="0 6 * * *",
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["d2b", "etl"],
) as dag:
    D2BConsoleOperator(
        task_id="run_all",
        cwd=D2B,
        bash_command=f"{D2B}/.venv/bin/d2b-console --run-all --json --config /etc/d2b/config.toml",
        # Secrets from the Airflow worker's environment (or a secrets backend), never in this file.
        append_env=True,
        execution_timeout=timedelta(hours=4),
    )
