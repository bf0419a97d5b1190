"""`glute bench --json --quick`: one JSON object on stdout with every key of the contract (not the numbers)."""

from __future__ import annotations

import json

import pytest

from assistant.bench.runner import KEYS
from tests.helpers import run_glute

STAGES = ("guard", "condense", "dense", "lexical", "fuse", "compose")


@pytest.mark.slow
def test_bench_quick_json_has_every_key(tmp_path):
    result = run_glute("bench", "--json", "--quick", "--out", str(tmp_path), timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert set(data) == set(KEYS)
    assert set(STAGES) <= set(data["stages_ms"])
    assert {"1x", "10x", "100x"} <= set(data["scaling"])
    for size in ("1x", "10x"):
        assert {"chunks", "ingest_s", "ask_p50_ms"} <= set(data["scaling"][size])
    assert set(data["throughput"]) == {"1", "4", "16"}
    for level in data["throughput"].values():
        assert {"rps", "p95_ms", "errors"} <= set(level)
    assert (tmp_path / "bench.md").exists() and (tmp_path / "bench_scaling.png").exists()
    assert "bench [" in result.stderr  # progress goes to stderr, never into the JSON
