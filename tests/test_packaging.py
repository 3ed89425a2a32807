"""Packaging: `python -m etl_core` and `python -m etl_core.cli` run the CLI, one version source, shell completion."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import etl_core
from etl_core.cli import build_parser
from etl_core.pipeline import STAGES

REPO = Path(__file__).resolve().parents[1]
COMPLETION = REPO / "scripts" / "d2b-console-completion.bash"


def run_module(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_python_m_etl_core_prints_the_one_version(tmp_path):
    result = run_module("etl_core", "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"d2b-console {etl_core.__version__}"
    assert metadata.version("d2b-console") == etl_core.__version__  # pyproject reads it from etl_core


def test_python_m_etl_core_cli_runs_the_pipeline(env, tmp_path):
    result = run_module("etl_core.cli", "--run-all", "--json", "--config", str(env.config_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"


def test_python_m_etl_core_without_an_action_is_a_usage_error(tmp_path):
    result = run_module("etl_core", cwd=tmp_path)
    assert result.returncode == 2
    assert "choose --run-all, --stage, --resume or --dry-run" in result.stderr
    assert "Traceback" not in result.stderr


def test_package_metadata_names_the_license():
    assert metadata.metadata("d2b-console")["License-Expression"] == "MIT"
    assert (REPO / "LICENSE").read_text().startswith("MIT License")


def complete(*words: str) -> list[str]:
    """What the bash completion offers after `d2b-console WORDS...` (the last word is being typed)."""
    line = " ".join(["d2b-console", *words])
    script = (f"source {str(COMPLETION)!r}; COMP_WORDS=(d2b-console {' '.join(repr(w) for w in words)}); "
              f"COMP_CWORD={len(words)}; COMP_LINE={line!r}; _d2b_console; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return [word for word in result.stdout.splitlines() if word]


def test_completion_offers_every_option_of_the_cli():
    options = {option for action in build_parser()._actions for option in action.option_strings
               if option.startswith("--")}
    assert set(complete("--")) == options


def test_completion_offers_the_stages_after_stage():
    assert complete("--stage", "") == list(STAGES)
    assert complete("--stage", "an") == ["analytics"]
