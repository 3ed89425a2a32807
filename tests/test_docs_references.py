"""The repository's docs stand on their own: no link to a file it does not hold, no mention of outside specs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Specification documents kept outside this repository (spelt in two parts so this file does not name them).
OUTSIDE_DOCUMENTS = ("PIPELINE" + ".md", "CONSOLE" + ".md")
MARKDOWN_LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)\s#]+)(?:#[^)]*)?\)")


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [REPO / name for name in listed.splitlines() if (REPO / name).is_file()]


def test_no_file_mentions_a_document_the_repository_does_not_hold():
    mentions = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images and other binary files
        mentions += [f"{path.relative_to(REPO)}: {name}" for name in OUTSIDE_DOCUMENTS if name in text]
    assert tracked_files() and not mentions


def test_every_relative_link_of_the_docs_points_at_a_file_of_the_repository():
    broken = []
    for path in tracked_files():
        if path.suffix == ".md":
            for target in MARKDOWN_LINK.findall(path.read_text(encoding="utf-8")):
                if not (path.parent / target).exists():
                    broken.append(f"{path.relative_to(REPO)} -> {target}")
    assert not broken
