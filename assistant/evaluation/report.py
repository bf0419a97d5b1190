"""The eval report: report.json (the numbers outside checks read), report.md (for people), results.jsonl
(every answer, for tuning), the plots, and the plain-text tables `glute eval` prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .scoring import Result

GROUPS = ("retrieval", "answers", "refusal", "safety", "latency_ms")
COMPARE_COLUMNS = (("recall@5", "recall@5"), ("mrr", "mrr"), ("key_fact_recall", "key-fact recall"),
                   ("refusal_accuracy", "refusal accuracy"), ("p50_ms", "p50 ms"))


def fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def floor_row(name: str, value: Any, floor: float | None) -> list[str]:
    """[metric, value, floor, status]; status is MISSED below the floor, empty when there is none."""
    status = "" if floor is None else "ok" if value is not None and value >= floor else "MISSED"
    return [name, fmt(value), "" if floor is None else fmt(float(floor)), status]


def summary_rows(report: dict, floors: dict) -> list[list[str]]:
    """[metric, value, floor, status] for every headline metric; status is MISSED below a floor."""
    return [floor_row(f"{group}.{name}", value, floors.get(group, {}).get(name))
            for group in GROUPS for name, value in report[group].items()]


def compare_rows(comparison: list[dict]) -> list[list[str]]:
    return [[row["name"], *(fmt(row[key]) for key, _ in COMPARE_COLUMNS)] for row in comparison]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to width, for the terminal."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in [header, *rows])


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    cells = [[str(c).replace("|", "\\|").replace("\n", " ") for c in row] for row in rows]
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in cells)]


def render_markdown(report: dict, floors: dict, plots: list[str]) -> str:
    config = ", ".join(f"{k}={v}" for k, v in report["config"].items())
    lines = [f"# glute eval: {report['split']} split", "",
             f"{report['n_questions']} questions; {config}; {report['passed']:.0%} pass every check.", "",
             "## Metrics", "", *md_table(["metric", "value", "floor", ""], summary_rows(report, floors)), "",
             "Retrieval: rank of the first gold chunk in the retriever's top 10 for the standalone question "
             "(answerable questions only). Key facts: any listed phrasing in the answer. Citation precision: "
             "each cited line is in its passage (or shares >= 90% of its content words). Coverage: body lines "
             "that carry a marker."]
    if report.get("compare"):
        lines += ["", "## Retrieval configurations and the naive baseline", "",
                  *md_table(["configuration", *(label for _, label in COMPARE_COLUMNS)],
                             compare_rows(report["compare"])), "",
                  "The naive baseline is plain Chroma similarity on the raw question (no guard, no follow-up "
                  "handling); its answer is the top passage cited as [1]."]
    lines += ["", "## By category", "",
              *md_table(["category", "n", "passed", "recall@5", "mrr", "key-fact recall", "citation precision",
                          "refusal accuracy", "red-flag escalation"],
                         [[cat, str(m["n_questions"]), fmt(m["passed"]), fmt(m["retrieval"]["recall@5"]),
                           fmt(m["retrieval"]["mrr"]), fmt(m["answers"]["key_fact_recall"]),
                           fmt(m["answers"]["citation_precision"]), fmt(m["refusal"]["accuracy"]),
                           fmt(m["safety"]["red_flag_escalation"])] for cat, m in report["by_category"].items()])]
    lines += ["", f"## Failing questions ({len(report['failures'])})", "",
              *md_table(["id", "category", "question", "what went wrong"],
                         [[f["id"], f["category"], f["question"], "; ".join(f["problems"])]
                          for f in report["failures"]])]
    lines += ["", "## Plots", "", *(f"![{name}]({name})" for name in plots), ""]
    return "\n".join(lines)


def write_report(out: Path, report: dict, results: list[Result], floors: dict,
                 comparison: list[dict] | None = None) -> list[Path]:
    """report.json, report.md, results.jsonl (every answer) and the plots, in `out`."""
    from .plots import plot_categories, plot_latency, plot_recall_curve

    out.mkdir(parents=True, exist_ok=True)
    if comparison:
        report["compare"] = comparison
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps({"id": r.question.id, "category": r.question.category, "gold_rank": r.gold_rank,
                                 "ranked": [cid for cid, _ in r.ranked], "problems": r.problems,
                                 "answer": r.answer.to_dict()}, ensure_ascii=False) + "\n")
    plots = [plot_categories(report, out / "categories.png"),
             plot_recall_curve(report, comparison, out / "recall_at_k.png"),
             plot_latency([r.answer.timings_ms.get("total", 0.0) for r in results], report, out / "latency.png")]
    (out / "report.md").write_text(render_markdown(report, floors, [p.name for p in plots]), encoding="utf-8")
    return [out / "report.json", out / "report.md", out / "results.jsonl", *plots]
