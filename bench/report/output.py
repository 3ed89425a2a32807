"""The report on the terminal (rich tables) and in BENCHMARKS.md (between its two markers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from bench.report.tables import Table
from bench.report.verdicts import Verdict
from bench.settings import REPO

BENCHMARKS_MD = REPO / "BENCHMARKS.md"
BEGIN, END = "<!-- bench:begin (written by bench/run_bench.py) -->", "<!-- bench:end -->"


def print_report(tables: list[Table], verdicts: list[Verdict]) -> None:
    console = Console()
    for table in tables:
        console.print(_rich_table(table.title, table.header, table.rows))
    rows = [
        [target, measured, Text(result, style="green" if result == "PASS" else "red")]
        for target, measured, result in verdicts
    ]
    console.print(_rich_table("Targets (issue #5)", ["target", "measured", "result"], rows))


def _rich_table(title: str, header: list[str], rows: list[list[Any]]) -> RichTable:
    table = RichTable(title=title)
    for name in header:
        table.add_column(name)
    for row in rows:
        table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in row))
    return table


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_block(tables: list[Table], verdicts: list[Verdict], results: dict[str, Any]) -> str:
    """The generated part of BENCHMARKS.md, markers included."""
    pg = results["postgres"]
    body = [
        BEGIN,
        "",
        f"Measured {results['measured_at']} on {results['machine']}.",
        "",
        f"Command: `{results['command']}`",
        "",
        (
            f"PostgreSQL: {pg[0].split(',')[0]} (pgserver, shared_buffers {pg[1]}, wal_level {pg[2]}, "
            f"max_wal_size {pg[3]}, synchronous_commit {pg[4]})"
        ),
        "",
    ]
    body += ["### Targets", "", markdown_table(["target", "measured", "result"], verdicts), ""]
    for table in tables:
        body += [f"### {table.title}", "", markdown_table(table.header, table.rows), ""]
    body += [END]
    return "\n".join(body)


def write_markdown(block: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the generated part of BENCHMARKS.md, keeping the prose around it."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text += "\n" + block + "\n"
    path.write_text(text)
