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


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def _verdict(ok: bool | None) -> str:
    return "skipped" if ok is None else "PASS" if ok else "FAIL"


def targets(r: Result) -> list[tuple[str, str, str]]:
    """(target, measured, PASS | FAIL | skipped) for every target of the bench."""
    ratio = r["ratio_ask_to_encode"]
    cold = r["cold_ask_s"] / r["cold_floor_s"]
    big = r["scaling"].get("100x", {})
    big_ratio = big["ask_p50_ms"] / big["encode_p50_ms"] if "ask_p50_ms" in big else None
    busy = r["throughput"].get("16", {})
    rows = [
        (f"warm ask p50 <= {RATIO_MAX} x encode p50 (goal {RATIO_GOAL})",
         f"{ratio:.2f}x ({r['ask_p50_ms']:.1f} / {r['encode_p50_ms']:.1f} ms)"
         + ("; goal met" if ratio <= RATIO_GOAL else ""), ratio <= RATIO_MAX),
        (f"cold `glute ask` <= {COLD_FACTOR} x cold model floor",
         f"{cold:.2f}x ({r['cold_ask_s']:.2f} / {r['cold_floor_s']:.2f} s)", cold <= COLD_FACTOR),
        ("unchanged re-ingest embeds 0 chunks", str(r["reingest_unchanged_embedded"]),
         r["reingest_unchanged_embedded"] == 0),
        (f"unchanged re-ingest < {REINGEST_MAX_S:.0f} s (model loaded)", f"{r['reingest_unchanged_s']:.2f} s",
         r["reingest_unchanged_s"] < REINGEST_MAX_S),
        ("one edited line re-embeds only its chunk (informational)", str(r["reingest_one_changed_embedded"]),
         r["reingest_one_changed_embedded"] == 1),
        (f"`glute serve` RSS after 50 questions < {RSS_MAX_MB} MB", f"{r['serve_rss_mb']:.0f} MB",
         r["serve_rss_mb"] < RSS_MAX_MB),
        (f"100x corpus: ask p50 <= {SCALED_RATIO_MAX:.0f} x encode p50",
         f"{big_ratio:.2f}x ({big['ask_p50_ms']:.1f} / {big['encode_p50_ms']:.1f} ms)" if big_ratio else "not run",
         big_ratio <= SCALED_RATIO_MAX if big_ratio else None),
        (f"16 concurrent clients: p95 < {P95_MAX_MS / 1000:.0f} s, 0 errors",
         f"p95 {busy['p95_ms']:.0f} ms, {busy['errors']} errors (plain HTTP p95 "
         f"{busy.get('raw_http', {}).get('p95_ms', float('nan')):.0f} ms; default-ssl client p95 "
         f"{busy.get('default_ssl_client', {}).get('p95_ms', float('nan')):.0f} ms)" if busy else "not run",
         busy["p95_ms"] < P95_MAX_MS and busy["errors"] == 0 if busy else None),
    ]
    return [(name, measured, _verdict(ok)) for name, measured, ok in rows]


def _main_rows(r: Result) -> list[tuple[str, str]]:
    rows = [
        ("encode_p50_ms", f"{r['encode_p50_ms']:.1f}"),
        ("ask_p50_ms", f"{r['ask_p50_ms']:.1f}"),
        ("ask_p95_ms", f"{r['ask_p95_ms']:.1f}"),
        ("ratio_ask_to_encode", f"{r['ratio_ask_to_encode']:.2f}"),
    ]
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
        rows.append([n, str(t["requests"]), f"{t['rps']:.1f}", f"{t['p50_ms']:.0f}", f"{t['p95_ms']:.0f}",
                     str(t["errors"]), f"{raw.get('rps', 0):.1f}", f"{raw.get('p95_ms', 0):.0f}",
                     str(raw.get("errors", "-"))])
    return rows


SCALING_HEAD = ["size", "chunks", "ingest_s", "ask_p50_ms", "encode_p50_ms", "how"]
THROUGHPUT_HEAD = ["clients", "requests", "req/s", "p50_ms", "p95_ms", "errors", "http req/s", "http p95_ms",
                   "http errors"]


def _grid(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    return ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip() for row in [head, *rows]]


def text_table(r: Result) -> str:
    """The readable console table: numbers, then scaling, throughput and targets."""
    width = max(len(k) for k, _ in _main_rows(r))
    lines = [f"{k:<{width}}  {v:>10}" for k, v in _main_rows(r)]
    lines += ["", "scaling", *("  " + x for x in _grid(SCALING_HEAD, _scaling_rows(r)))]
    lines += ["", "throughput (UI /ask API, loopback)"]
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


def markdown(r: Result, about: dict[str, Any], plot_name: str) -> str:
    lines = ["# glute bench", "",
             f"Run {about['when']} on {about['cpus']} CPU core(s), {'quick' if about['quick'] else 'full'} mode, "
             f"{about['questions']} questions x {about['rounds']} round(s) for the warm numbers, "
             f"{about['seconds']:.0f} s in all. Produced by `glute bench{' --quick' if about['quick'] else ''}`.", "",
             "## Targets", "", *_md_table(["target", "measured", "result"], [list(t) for t in targets(r)]), "",
             "## Numbers", "", *_md_table(["metric", "value"], [list(x) for x in _main_rows(r)]), "",
             "`encode` is one bare `embed_query` of the same question (the floor a warm answer cannot beat); "
             "`ask` is `Assistant.ask` end to end; stages are the p50 of `Answer.timings_ms` over the answers that "
             "reached the stage. `cold_floor_s` is a fresh Python that only loads sentence-transformers and the "
             "model and encodes one query. Ingest times are in-process with the model already loaded.", "",
             "## Scaling", "", *_md_table(SCALING_HEAD, _scaling_rows(r)), "",
             f"![ask latency vs corpus size]({plot_name})", "",
             "## Throughput of the UI's /ask API", "", *_md_table(THROUGHPUT_HEAD, _throughput_rows(r)), "",
             "Each client is a thread with its own `gradio_client.Client(url, ssl_verify=False)` calling "
             "`predict(question, [], api_name=\"/ask\")`; the URL is plain http on loopback, so nothing is "
             "verified either way, but at the default `ssl_verify=True` gradio_client builds a CA-bundle SSL "
             "context (`ssl.create_default_context`) for every request, which takes the CPU the server needs "
             "when clients and server share two cores. The `http` columns send the same load through Gradio's "
             "plain REST route (`POST /gradio_api/call/ask`, then read the event stream)."
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
