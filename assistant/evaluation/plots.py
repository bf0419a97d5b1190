"""The eval report's pictures: scores per category, recall@k for k = 1..10, and the latency histogram.

matplotlib runs on the Agg backend, so plots render on a machine with no display.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CATEGORY_METRICS = (("recall@5", "retrieval"), ("key_fact_recall", "answers"), ("accuracy", "refusal"),
                    ("passed", None))
LABELS = {"recall@5": "recall@5", "key_fact_recall": "key-fact recall", "accuracy": "refusal accuracy",
          "passed": "questions passed"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_categories(report: dict[str, Any], path: Path) -> Path:
    """Grouped bars: for each category, the scores that apply to it (a missing bar means not applicable)."""
    plt = _pyplot()
    categories = list(report["by_category"])
    fig, ax = plt.subplots(figsize=(max(8, 0.75 * len(categories)), 4.5))
    width = 0.8 / len(CATEGORY_METRICS)
    for i, (name, group) in enumerate(CATEGORY_METRICS):
        values = []
        for cat in categories:
            block = report["by_category"][cat]
            value = block[group][name] if group else block[name]
            values.append(float("nan") if value is None else value)
        ax.bar([x + (i - 1.5) * width for x in range(len(categories))], values, width, label=LABELS[name])
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels([f"{c}\n(n={report['by_category'][c]['n_questions']})" for c in categories], rotation=45,
                       ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(f"Scores by category ({report['split']} split, {report['n_questions']} questions)")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_recall_curve(report: dict[str, Any], comparison: list[dict] | None, path: Path) -> Path:
    """recall@k of the gold passage for k = 1..10: this run, and every compared configuration."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    curves = [(row["name"], row["recall_curve"]) for row in comparison or []] or [
        (report["config"].get("name", "this run"), report["recall_curve"])]
    for name, curve in curves:
        ax.plot(range(1, len(curve) + 1), curve, marker="o", markersize=3, label=name)
    ax.set_xticks(range(1, 11))
    ax.set_xlabel("k (passages retrieved)")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("Gold passage within the top k")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_latency(totals_ms: list[float], report: dict[str, Any], path: Path) -> Path:
    """How long whole answers took (Answer.timings_ms["total"]), with the median and 95th percentile marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.hist(totals_ms, bins=30, color="#4c72b0")
    for name, style in (("p50", "-"), ("p95", "--")):
        value = report["latency_ms"][name]
        if value is not None:
            ax.axvline(value, color="black", linestyle=style, label=f"{name} {value:.1f} ms")
            ax.legend(fontsize=8)
    ax.set_xlabel("total time per answer (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Answer latency")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
