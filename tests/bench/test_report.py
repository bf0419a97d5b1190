"""The bench report's judgement of the ONNX encoder against the torch path (issue 17), on a made-up result: the
ratios, serve memory and every API's 16-client p95 and errors, in the targets and the side-by-side table."""

from __future__ import annotations

import copy

from assistant.bench.report import APIS, ONNX_RSS_MAX_MB, markdown, targets, text_table
from assistant.bench.runner import interleaved


def _level(p95: float, errors: int = 0) -> dict:
    return {"rps": 40.0, "p50_ms": p95 / 2, "p95_ms": p95, "errors": errors}


def _result() -> dict:
    busy = {"requests": 160, **_level(300.0), "raw_http": _level(310.0), "openai_api": _level(200.0),
            "mcp": _level(150.0)}
    encoders = {
        "torch": {"cold_ask_s": 10.0, "cold_floor_s": 9.0, "encode_p50_ms": 16.0, "encode_p95_ms": 18.0,
                  "ask_p50_ms": 20.0, "ask_p95_ms": 24.0, "serve_rss_mb": 700.0, "clients16": copy.deepcopy(busy)},
        "onnx": {"cold_ask_s": 2.0, "cold_floor_s": 0.6, "encode_p50_ms": 4.0, "encode_p95_ms": 5.0,
                 "ask_p50_ms": 6.0, "ask_p95_ms": 8.0, "serve_rss_mb": float(ONNX_RSS_MAX_MB),
                 "clients16": copy.deepcopy(busy), "export_s": 20.0},
    }
    return {"encode_p50_ms": 4.0, "ask_p50_ms": 6.0, "ask_p95_ms": 8.0, "stages_ms": {"embed": 4.0},
            "ratio_ask_to_encode": 1.5, "cold_ask_s": 2.0, "cold_floor_s": 0.6, "ingest_full_s": 30.0,
            "reingest_unchanged_s": 0.5, "reingest_unchanged_embedded": 0, "reingest_one_changed_embedded": 2,
            "serve_rss_mb": float(ONNX_RSS_MAX_MB), "scaling": {}, "throughput": {"16": copy.deepcopy(busy)},
            "encoder": "onnx", "encoders": encoders}


def _verdicts(result: dict) -> dict[str, str]:
    return {name: verdict for name, _, verdict in targets(result)}


def test_every_target_of_the_issue_is_judged_and_passes():
    verdicts = _verdicts(_result())
    onnx = {name: v for name, v in verdicts.items() if name.startswith("onnx:")}
    assert len(onnx) == 2 + len(APIS)  # cold ratio, warm ratio, then 16 clients on every API
    assert all(v == "PASS" for v in onnx.values()), onnx
    rss = next(name for name in verdicts if "RSS after 50 questions" in name)
    assert f"<= {ONNX_RSS_MAX_MB} MB" in rss and verdicts[rss] == "PASS"  # the issue's limit is inclusive


def test_one_api_over_the_p95_or_with_an_error_fails_its_own_row():
    result = _result()
    result["encoders"]["onnx"]["clients16"]["mcp"] = _level(650.0)
    result["encoders"]["onnx"]["clients16"]["raw_http"] = _level(200.0, errors=1)
    result["serve_rss_mb"] = ONNX_RSS_MAX_MB + 1.0
    failed = {name for name, v in _verdicts(result).items() if v == "FAIL"}
    assert any("on MCP" in name for name in failed) and any("plain HTTP" in name for name in failed)
    assert any("RSS" in name for name in failed)
    assert not any("/v1" in name and name.startswith("onnx:") for name in failed)


def test_the_side_by_side_table_has_each_apis_p95_and_errors():
    result = _result()
    text = text_table(result)
    page = markdown(result, {"when": "now", "cpus": 2, "quick": False, "questions": 36, "rounds": 3,
                             "seconds": 1.0, "notes": []}, "plot.png")
    for _, label in APIS:
        assert f"16 clients p95 ms, {label}" in text and f"16 clients errors, {label}" in page
    assert "| warm ask p50 ms | 20.00 | 6.00 | 0.30x |" in page
    assert "| serve RSS MB (50 questions) | 700.00 | 400.00 | 0.57x |" in page
    assert "| 16 clients errors, MCP | 0 | 0 | - |" in page


def test_warm_rounds_take_turns_and_flip_the_order():
    assert interleaved(["torch", "onnx"], 3) == ["torch", "onnx", "onnx", "torch", "torch", "onnx"]
    assert interleaved(["onnx"], 2) == ["onnx", "onnx"]
