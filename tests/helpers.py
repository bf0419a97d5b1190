"""Helpers the tests share: the real CLI in a subprocess, and the citation contract."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from assistant.config import REPO_ROOT

MARKER = re.compile(r"\[(\d+)\]")


def run_glute(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
              stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a fresh process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, input=stdin, cwd=REPO_ROOT)


def check_citations(answer) -> None:
    """The citation contract: markers 1..n, each used and each cited, every point quoted from its passage."""
    used = [int(m) for m in MARKER.findall(answer.answer)]
    markers = [c.marker for c in answer.citations]
    assert markers == list(range(1, len(markers) + 1))
    assert set(used) == set(markers)
    by_marker = {c.marker: c for c in answer.citations}
    for line in answer.answer.splitlines():
        found = MARKER.findall(line)
        if not found or not line.startswith("- "):
            continue
        point = MARKER.sub("", line[2:]).strip()
        for sentence in re.split(r"(?<=[.!?])\s+", point):  # a point may join consecutive steps
            assert any(sentence in by_marker[int(m)].text for m in found), f"{sentence!r} is not in its passage"
    for citation in answer.citations:
        assert citation.text and citation.chunk_id.startswith(citation.doc_id + "#")
