"""`glute bench` results as people read them: a table, the targets with pass/fail, a markdown report, a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

Result = dict[str, Any]

RATIO_MAX, RATIO_GOAL = 2.0, 1.3
COLD_FACTOR = 1.3
REINGEST_MAX_S = 2.0
RSS_MAX_MB = 800
SCALED_RATIO_MAX = 3.0
P95_MAX_MS = 1000
# the ONNX query encoder against the torch path, measured in the same run (issue 17)
ONNX_COLD_FACTOR, ONNX_WARM_FACTOR = 0.3, 0.5
ONNX_RSS_MAX_MB = 400
ONNX_P95_MAX_MS = 500
# every API of `glute serve` the bench drives: (its key in a throughput level, "" for gradio_client's; label)
APIS = (("", "/ask (gradio_client)"), ("raw_http", "/ask (plain HTTP)"), ("openai_api", "/v1/chat/completions"),
        ("mcp", "MCP"))


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


STORY_RATIO_MAX = 4.0  # a real story (several sentences) answered within four query encodes, p95


def _verdict(ok: bool | None) -> str:
    return "skipped" if ok is None else "PASS" if ok else "FAIL"


def targets(r: Result) -> list[tuple[str, str, str]]:
    """(target, measured, PASS | FAIL | skipped) for every target of the bench."""
    ratio = r["ratio_ask_to_encode"]
    floor_of = _floor_source(r)
    cold = floor_of["cold_ask_s"] / floor_of["cold_floor_s"] if floor_of else None
    rss_max = ONNX_RSS_MAX_MB if r.get("encoder") == "onnx" else RSS_MAX_MB
    big = r["scaling"].get("100x", {})
    big_ratio = big["ask_p50_ms"] / big["encode_p50_ms"] if "ask_p50_ms" in big else None
    busy = r["throughput"].get("16", {})
    v1 = busy.get("openai_api")
    rows = [
        (f"warm ask p50 <= {RATIO_MAX} x encode p50 (goal {RATIO_GOAL})",
         f"{ratio:.2f}x ({r['ask_p50_ms']:.1f} / {r['encode_p50_ms']:.1f} ms)"
         + ("; goal met" if ratio <= RATIO_GOAL else ""), ratio <= RATIO_MAX),
        (f"cold `glute ask` <= {COLD_FACTOR} x cold model floor" + (" (torch path)" if "encoders" in r else ""),
         f"{cold:.2f}x ({floor_of['cold_ask_s']:.2f} / {floor_of['cold_floor_s']:.2f} s)" if cold else "not run",
         cold <= COLD_FACTOR if cold else None),
        (f"real stories: ask p95 <= {STORY_RATIO_MAX:.0f} x encode p50",
         f"{r['ratio_story_p95_to_encode']:.2f}x ({r['story_ask_p95_ms']:.1f} / {r['encode_p50_ms']:.1f} ms)"
         if "ratio_story_p95_to_encode" in r else "not run",
         r["ratio_story_p95_to_encode"] <= STORY_RATIO_MAX if "ratio_story_p95_to_encode" in r else None),
        ("unchanged re-ingest embeds 0 chunks", str(r["reingest_unchanged_embedded"]),
         r["reingest_unchanged_embedded"] == 0),
        (f"unchanged re-ingest < {REINGEST_MAX_S:.0f} s (model loaded)", f"{r['reingest_unchanged_s']:.2f} s",
         r["reingest_unchanged_s"] < REINGEST_MAX_S),
        ("one edited line re-embeds its passage and that statement only", str(r["reingest_one_changed_embedded"]),
         r["reingest_one_changed_embedded"] <= 2),
        (f"`glute serve` RSS after 50 questions <= {rss_max} MB ({r.get('encoder', 'torch')})",
         f"{r['serve_rss_mb']:.0f} MB", r["serve_rss_mb"] <= rss_max),
        (f"100x corpus: ask p50 <= {SCALED_RATIO_MAX:.0f} x encode p50",
         f"{big_ratio:.2f}x ({big['ask_p50_ms']:.1f} / {big['encode_p50_ms']:.1f} ms)" if big_ratio else "not run",
         big_ratio <= SCALED_RATIO_MAX if big_ratio else None),
        (f"16 concurrent clients: p95 < {P95_MAX_MS / 1000:.0f} s, 0 errors",
         f"p95 {busy['p95_ms']:.0f} ms, {busy['errors']} errors (plain HTTP p95 "
         f"{busy.get('raw_http', {}).get('p95_ms', float('nan')):.0f} ms; default-ssl client p95 "
         f"{busy.get('default_ssl_client', {}).get('p95_ms', float('nan')):.0f} ms)" if busy else "not run",
         busy["p95_ms"] < P95_MAX_MS and busy["errors"] == 0 if busy else None),
        (f"16 concurrent clients on /v1/chat/completions: p95 < {P95_MAX_MS / 1000:.0f} s, 0 errors",
         f"p95 {v1['p95_ms']:.0f} ms, {v1['errors']} errors, {v1['rps']:.1f} req/s" if v1 else "not run",
         v1["p95_ms"] < P95_MAX_MS and v1["errors"] == 0 if v1 else None),
    ]
    rows += _encoder_targets(r)
    return [(name, measured, _verdict(ok)) for name, measured, ok in rows]


def _floor_source(r: Result) -> dict[str, float] | None:
    """The cold-start pair the floor target judges: the torch path's (where the model load is most of a cold
    start), or the top level of a result from before the encoders were measured side by side."""
    if "encoders" not in r:
        return {"cold_ask_s": r["cold_ask_s"], "cold_floor_s": r["cold_floor_s"]}
    return r["encoders"].get("torch")


def _encoder_targets(r: Result) -> list[tuple[str, str, bool | None]]:
    """The ONNX query encoder against the torch path (both measured in this run)."""
    torch, onnx = r.get("encoders", {}).get("torch"), r.get("encoders", {}).get("onnx")
    if not onnx:
        return []
    rows = []
    if torch:
        cold, warm = onnx["cold_ask_s"] / torch["cold_ask_s"], onnx["ask_p50_ms"] / torch["ask_p50_ms"]
        rows += [
            (f"onnx: cold `glute ask` <= {ONNX_COLD_FACTOR} x the torch path's",
             f"{cold:.2f}x ({onnx['cold_ask_s']:.2f} / {torch['cold_ask_s']:.2f} s)", cold <= ONNX_COLD_FACTOR),
            (f"onnx: warm ask p50 <= {ONNX_WARM_FACTOR} x the torch path's",
             f"{warm:.2f}x ({onnx['ask_p50_ms']:.1f} / {torch['ask_p50_ms']:.1f} ms)", warm <= ONNX_WARM_FACTOR),
        ]
    busy = onnx.get("clients16") or {}
    for api, label in APIS:
        level = (busy.get(api) if api else busy) or {}
        rows.append((f"onnx: 16 concurrent clients on {label}: p95 < {ONNX_P95_MAX_MS} ms, 0 errors",
                     f"p95 {level['p95_ms']:.0f} ms, {level['errors']} errors, {level['rps']:.1f} req/s"
                     if level else "not run",
                     level["p95_ms"] < ONNX_P95_MAX_MS and level["errors"] == 0 if level else None))
    return rows



ENCODER_METRICS = (("cold_ask_s", "cold `glute ask` s"), ("cold_floor_s", "cold model floor s"),
                   ("encode_p50_ms", "warm encode p50 ms"), ("encode_p95_ms", "warm encode p95 ms"),
                   ("ask_p50_ms", "warm ask p50 ms"), ("ask_p95_ms", "warm ask p95 ms"),
                   ("serve_rss_mb", "serve RSS MB (50 questions)"))


def _encoder_rows(r: Result) -> tuple[list[str], list[list[str]]]:
    """Head and rows of the side-by-side table: one column per encoder, then onnx / torch."""
    found = r.get("encoders", {})
    names = [e for e in ("torch", "onnx") if e in found]
    both = len(names) == 2
    head = ["metric", *names, *(["onnx / torch"] if both else [])]

    def row(label: str, values: list[float | str | None]) -> list[str]:
        cells = [f"{v:.2f}" if isinstance(v, float) else "-" if v is None else str(v) for v in values]
        numbers = both and all(isinstance(v, float) for v in values)
        ratio = [f"{values[1] / values[0]:.2f}x" if numbers and values[0] else "-"]
        return [label, *cells, *(ratio if both else [])]

    rows = [row(label, [found[e].get(key) for e in names]) for key, label in ENCODER_METRICS]
    for api, label in APIS:
        levels = []
        for e in names:
            level = found[e].get("clients16") or {}
            levels.append((level.get(api) if api else level) or {})
        if any("p95_ms" in level for level in levels):
            rows.append(row(f"16 clients p95 ms, {label}",
                            [float(level["p95_ms"]) if "p95_ms" in level else None for level in levels]))
            rows.append(row(f"16 clients errors, {label}", [level.get("errors") for level in levels]))
    if "onnx" in found and "export_s" in found["onnx"]:
        rows.append(row("ONNX export at first ingest s", [None] * (len(names) - 1) + [found["onnx"]["export_s"]]))
    return head, rows


def _main_rows(r: Result) -> list[tuple[str, str]]:
    rows = [
        ("encode_p50_ms", f"{r['encode_p50_ms']:.1f}"),
        ("ask_p50_ms", f"{r['ask_p50_ms']:.1f}"),
        ("ask_p95_ms", f"{r['ask_p95_ms']:.1f}"),
        ("ratio_ask_to_encode", f"{r['ratio_ask_to_encode']:.2f}"),
    ]
    if "story_ask_p95_ms" in r:
        rows += [("story_ask_p50_ms", f"{r['story_ask_p50_ms']:.1f}"),
                 ("story_ask_p95_ms", f"{r['story_ask_p95_ms']:.1f}"),
                 ("ratio_story_p95_to_encode", f"{r['ratio_story_p95_to_encode']:.2f}")]
    rows += [(f"stages_ms.{stage}", f"{ms:.2f}") for stage, ms in r["stages_ms"].items()]
    rows += [
        ("cold_ask_s", f"{r['cold_ask_s']:.2f}"),
        ("cold_floor_s", f"{r['cold_floor_s']:.2f}"),
        ("ingest_full_s", f"{r['ingest_full_s']:.2f}"),
        ("reingest_unchanged_s", f"{r['reingest_unchanged_s']:.2f}"),
        ("reingest_unchanged_embedded", str(r["reingest_unchanged_embedded"])),
        ("reingest_one_changed_embedded", str(r["reingest_one_changed_embedded"])),
        ("serve_rss_mb", f"{r['serve_rss_mb']:.0f}"),
    ]
    return rows


def _scaling_rows(r: Result) -> list[list[str]]:
    rows = []
    for size, s in r["scaling"].items():
        if "ask_p50_ms" not in s:
            rows.append([size, "-", "-", "-", "-", s.get("note", "skipped")])
            continue
        rows.append([size, str(s["chunks"]), f"{s['ingest_s']:.1f}", f"{s['ask_p50_ms']:.1f}",
                     f"{s['encode_p50_ms']:.1f}", s.get("note", "")])
    return rows


def _throughput_rows(r: Result) -> list[list[str]]:
    rows = []
    for n, t in r["throughput"].items():
        raw = t.get("raw_http", {})
        v1 = t.get("openai_api", {})
        tool = t.get("mcp", {})
        rows.append([n, str(t["requests"]), f"{t['rps']:.1f}", f"{t['p50_ms']:.0f}", f"{t['p95_ms']:.0f}",
                     str(t["errors"]), f"{raw.get('rps', 0):.1f}", f"{raw.get('p95_ms', 0):.0f}",
                     str(raw.get("errors", "-")), f"{v1.get('rps', 0):.1f}", f"{v1.get('p50_ms', 0):.0f}",
                     f"{v1.get('p95_ms', 0):.0f}", str(v1.get("errors", "-")), f"{tool.get('rps', 0):.1f}",
                     f"{tool.get('p95_ms', 0):.0f}", str(tool.get("errors", "-"))])
    return rows


SCALING_HEAD = ["size", "chunks", "ingest_s", "ask_p50_ms", "encode_p50_ms", "how"]
THROUGHPUT_HEAD = ["clients", "requests", "req/s", "p50_ms", "p95_ms", "errors", "http req/s", "http p95_ms",
                   "http errors", "v1 req/s", "v1 p50_ms", "v1 p95_ms", "v1 errors", "mcp req/s", "mcp p95_ms",
                   "mcp errors"]


def _grid(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    return ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip() for row in [head, *rows]]


def text_table(r: Result) -> str:
    """The readable console table: numbers, then scaling, throughput and targets."""
    width = max(len(k) for k, _ in _main_rows(r))
    lines = [f"{k:<{width}}  {v:>10}" for k, v in _main_rows(r)]
    if r.get("encoders"):
        head, rows = _encoder_rows(r)
        lines += ["", f"encoders side by side (the numbers above are {r['encoder']}'s)"]
        lines += ["  " + x for x in _grid(head, rows)]
    lines += ["", "scaling", *("  " + x for x in _grid(SCALING_HEAD, _scaling_rows(r)))]
    lines += ["", "throughput (UI /ask API; v1 = /v1/chat/completions; mcp = the MCP tool; loopback)"]
    lines += ["  " + x for x in _grid(THROUGHPUT_HEAD, _throughput_rows(r))]
    lines += ["", "targets"] + [f"  {v:<7} {name}: {measured}" for name, measured, v in targets(r)]
    return "\n".join(lines)


def _default_client_note(r: Result) -> str:
    slow = r["throughput"].get("16", {}).get("default_ssl_client")
    if not slow:
        return ""
    return (f" With 16 clients left at the default `ssl_verify=True`: {slow['rps']:.1f} req/s, p95 "
            f"{slow['p95_ms']:.0f} ms, {slow['errors']} errors.")


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]


def _encoder_section(r: Result) -> list[str]:
    if not r.get("encoders"):
        return []
    head, rows = _encoder_rows(r)
    return ["## Query encoders side by side", "", *_md_table(head, rows), "",
            f"The numbers above are {r['encoder']}'s (what glute uses). torch is sentence-transformers; onnx is the "
            "export ingest made of the same packaged model, run by onnxruntime + tokenizers (it never imports "
            "torch). Cold starts alternate between the encoders run by run, and the warm rounds take turns in one "
            "process; each `glute serve --mcp` is its own process (`GLUTE_ENCODER`), asked the same 50 questions "
            "(then its resident memory is read), then 16 concurrent clients on each API in turn.", ""]


def markdown(r: Result, about: dict[str, Any], plot_name: str) -> str:
    lines = ["# glute bench", "",
             f"Run {about['when']} on {about['cpus']} CPU core(s), {'quick' if about['quick'] else 'full'} mode, "
             f"{about['questions']} questions x {about['rounds']} round(s) for the warm numbers, "
             f"{about['seconds']:.0f} s in all. Produced by `glute bench{' --quick' if about['quick'] else ''}`.", "",
             "## Targets", "", *_md_table(["target", "measured", "result"], [list(t) for t in targets(r)]), "",
             "## Numbers", "", *_md_table(["metric", "value"], [list(x) for x in _main_rows(r)]), "",
             "`encode` is one bare `embed_query` of the same question (the floor a warm answer cannot beat); "
             "`ask` is `Assistant.ask` end to end; stages are the p50 of `Answer.timings_ms` over the answers that "
             "reached the stage. `cold_floor_s` is a fresh Python that only loads the encoder and the model and "
             "encodes one query (torch: sentence-transformers; onnx: onnxruntime + tokenizers and the export). "
             "Ingest times are in-process with the model already loaded.", "",
             *_encoder_section(r),
             "## Scaling", "", *_md_table(SCALING_HEAD, _scaling_rows(r)), "",
             f"![ask latency vs corpus size]({plot_name})", "",
             "## Throughput of the UI's /ask API, /v1 and MCP", "",
             *_md_table(THROUGHPUT_HEAD, _throughput_rows(r)), "",
             "Each client is a thread with its own `gradio_client.Client(url, ssl_verify=False)` calling "
             "`predict(question, [], api_name=\"/ask\")`; the URL is plain http on loopback, so nothing is "
             "verified either way, but at the default `ssl_verify=True` gradio_client builds a CA-bundle SSL "
             "context (`ssl.create_default_context`) for every request, which takes the CPU the server needs "
             "when clients and server share two cores. The `http` columns send the same load through Gradio's "
             "plain REST route (`POST /gradio_api/call/ask`, then read the event stream). The `v1` columns send "
             "it to the OpenAI-compatible API on the same server (`POST /v1/chat/completions`, not streamed, one "
             "`httpx.Client` per thread); a reply counts only with its content and `citations`. The `mcp` columns "
             "call the MCP tool `ask` (`POST /mcp`, JSON-RPC `tools/call`; the server is stateless, so no session "
             "is opened first); a reply counts only when it is not an error and carries the answer JSON."
             + _default_client_note(r), ""]
    for note in about.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines) + "\n"


def plot_scaling(r: Result, path: Path) -> Path:
    """Left: ask and encode p50 per corpus size; right: their ratio, which machine load disturbs less."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [(k, v) for k, v in r["scaling"].items() if "ask_p50_ms" in v]
    xs = [v["chunks"] for _, v in sizes]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(xs, [v["ask_p50_ms"] for _, v in sizes], "o-", label="ask p50")
    left.plot(xs, [v["encode_p50_ms"] for _, v in sizes], "s--", label="encode p50 (floor)")
    for (name, v), x in zip(sizes, xs, strict=True):
        left.annotate(name, (x, v["ask_p50_ms"]), textcoords="offset points", xytext=(4, 6))
    left.set_ylabel("milliseconds")
    left.set_title("warm answer latency vs corpus size")
    ratios = [v["ask_p50_ms"] / v["encode_p50_ms"] for _, v in sizes]
    right.plot(xs, ratios, "o-", color="tab:purple", label="ask p50 / encode p50")
    right.axhline(SCALED_RATIO_MAX, color="tab:red", linestyle=":", label=f"target at 100x (<= {SCALED_RATIO_MAX:.0f})")
    right.axhline(RATIO_MAX, color="grey", linestyle=":", label=f"target at 1x (<= {RATIO_MAX:.0f})")
    right.set_title("ask / encode ratio")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("chunks in the index (log scale)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(r: Result, about: dict[str, Any], out_dir: Path) -> Path:
    """bench.md and bench_scaling.png in `out_dir`; returns the markdown path."""
    plot = plot_scaling(r, out_dir / "bench_scaling.png")
    path = out_dir / "bench.md"
    path.write_text(markdown(r, about, plot.name), encoding="utf-8")
    return path
