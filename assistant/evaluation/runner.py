"""`glute eval`: run the question sets through the public Assistant API (or a baseline), score each answer,
and compare configurations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ..answer import Answer, Citation
from .questions import CATEGORIES, EVAL_DIR, EvalError, Question
from .scoring import DEPTH, Result, recall_curve, score, share, summarize

THRESHOLDS_PATH = EVAL_DIR / "thresholds.yaml"
REPORT_DIR = EVAL_DIR / "reports" / "latest"


System = Callable[[Question], tuple[Answer, list[tuple[str, str]]]]


def assistant_system(bot) -> System:
    """The real pipeline: `ask` for the answer, and the retriever's ranking of the standalone question."""
    def run(q: Question) -> tuple[Answer, list[tuple[str, str]]]:
        answer = bot.ask(q.question, q.history)
        ranked: list[tuple[str, str]] = []
        if q.answerable and answer.standalone_question.strip():
            _, hits = bot.search(answer.standalone_question, DEPTH)
            ranked = [(h.chunk_id, h.chunk.doc_id) for h in hits]
        return answer, ranked
    return run


def naive_system(bot) -> System:
    """The baseline: plain Chroma similarity on the raw question; the answer is the top passage, cited [1].
    The ranking is the same query taken ten deep, so its top 3 are the baseline's passages."""
    import time

    def run(q: Question) -> tuple[Answer, list[tuple[str, str]]]:
        started = time.perf_counter()
        vector = bot.embeddings.embed_query(q.question)
        results = bot.store.similarity_search_by_vector_with_relevance_scores(vector, k=DEPTH)
        meta = results[0][0].metadata
        citation = Citation(1, meta["chunk_id"], meta["doc_id"], meta["title"], meta["section"], meta["text"],
                            meta["source"])
        total = (time.perf_counter() - started) * 1000
        answer = Answer(q.question, q.question, f"{meta['text']} [1]", [citation], timings_ms={"total": total})
        return answer, [(doc.metadata["chunk_id"], doc.metadata["doc_id"]) for doc, _ in results]
    return run


def run_system(system: System, questions: list[Question], warm_up: bool = True) -> list[Result]:
    if warm_up and questions:
        system(questions[0])  # the first call pays for lazy loading; keep it out of the latency figures
    return [score(q, *system(q)) for q in questions]


# ---------------------------------------------------------------- thresholds and reports


def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict[str, dict[str, float]]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise EvalError(f"cannot read the thresholds {path}: {exc}") from exc
    if not all(isinstance(v, dict) for v in data.values()):
        raise EvalError(f"{path} must map groups (retrieval, answers...) to {{metric: floor}}")
    return data


def misses(metrics: dict[str, Any], floors: dict[str, dict[str, float]]) -> list[str]:
    """Each floor the metrics fall below, as 'group.metric value < floor'."""
    found = []
    for group, wanted in floors.items():
        for name, floor in wanted.items():
            value = metrics.get(group, {}).get(name)
            if value is None or value < floor:
                found.append(f"{group}.{name} {value} < {floor}")
    return found


def config_name(retriever: str, linking: bool) -> str:
    return retriever + ("" if linking else ", no linking")


def evaluate(bot, questions: list[Question], split: str) -> tuple[dict, list[Result]]:
    """Run one configuration; report.json's content and the per-question results."""
    results = run_system(assistant_system(bot), questions)
    report = summarize(results)
    report["by_category"] = {cat: summarize([r for r in results if r.question.category == cat])
                             for cat in CATEGORIES if any(r.question.category == cat for r in results)}
    report["split"] = split
    report["config"] = {"name": config_name(bot.retriever.name, bot.retriever.linking), "retriever": bot.retriever.name,
                        "linking": bot.retriever.linking, "top_k": bot.settings.top_k,
                        "candidates": bot.settings.candidates, "max_points": bot.settings.max_points,
                        "mode": "generative" if bot.settings.llm else "extractive"}
    if bot.settings.llm:
        report["config"]["llm"] = bot.settings.llm
        written = [r.answer for r in results if not r.answer.refused and r.answer.safety is None]
        report["generative"] = {
            "share": share([a.mode == "generative" for a in written]),
            "fallbacks": dict(Counter(a.fallback_reason.split(":")[0] for a in written if a.fallback_reason)),
        }
    report["recall_curve"] = [round(x, 4) for x in recall_curve(results)]
    report["failures"] = [{"id": r.question.id, "category": r.question.category, "question": r.question.question,
                           "problems": r.problems} for r in results if r.problems]
    return report, results


COMPARED = (("dense", {"retriever": "dense"}), ("bm25", {"retriever": "bm25"}), ("hybrid", {"retriever": "hybrid"}),
            ("hybrid, no linking", {"retriever": "hybrid", "linking": False}), ("naive top-3", None))


def compare(settings, questions: list[Question], done: dict[str, list[Result]] | None = None) -> list[dict]:
    """The same questions through dense, BM25, hybrid, hybrid without linking and the naive baseline, one row
    each; `done` holds results already run for a configuration name, so they are not run twice."""
    from ..pipeline import Assistant

    rows = []
    for name, options in COMPARED:
        results = (done or {}).get(name)
        if results is None:
            bot = Assistant.load(settings=settings, build_if_missing=False, **(options or {"retriever": "dense"}))
            results = run_system(naive_system(bot) if options is None else assistant_system(bot), questions)
        rows.append(compare_row(name, results))
    return rows


def compare_row(name: str, results: list[Result]) -> dict:
    metrics = summarize(results)
    return {"name": name, "recall@5": metrics["retrieval"]["recall@5"], "mrr": metrics["retrieval"]["mrr"],
            "key_fact_recall": metrics["answers"]["key_fact_recall"],
            "refusal_accuracy": metrics["refusal"]["accuracy"], "p50_ms": metrics["latency_ms"]["p50"],
            "citation_precision": metrics["answers"]["citation_precision"],
            "recall_curve": [round(x, 4) for x in recall_curve(results)]}


def compare_modes(bot, questions: list[Question], generative: list[Result]) -> list[dict]:
    """With an LLM configured: the same questions answered extractively too, one row per answering mode."""
    import dataclasses

    from ..pipeline import Assistant

    plain = Assistant(bot.chunks, bot.store, bot.embeddings, dataclasses.replace(bot.settings, llm=None),
                      bot.retriever)
    return [compare_row("extractive", run_system(assistant_system(plain), questions)),
            compare_row(f"generative ({bot.settings.llm})", generative)]
