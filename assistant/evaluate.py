"""`glute eval`: run the question set in eval/questions.yaml through the public Assistant API and score it.

Retrieval is scored on the retriever's own ranking of the standalone question, answers on what a reader
sees (key facts present, each cited line supported by its passage, every point cited, in the spirit of
ALCE), the guard on refusals and red-flag escalation, and speed on `Answer.timings_ms["total"]`.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .answer import Answer, Citation
from .eval_questions import CATEGORIES, EVAL_DIR, EvalError, Question, norm

THRESHOLDS_PATH = EVAL_DIR / "thresholds.yaml"
REPORT_DIR = EVAL_DIR / "reports" / "latest"
DEPTH = 10  # ranks scored for recall@k
MARKER = re.compile(r"\[(\d+)\]")
WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset("a an the and or of to in on for with my me i you your it is are do does be at by from as if so "
                 "this that which when then than into up can should".split())
SUPPORT_OVERLAP = 0.9


@dataclass
class Result:
    """One question's answer and everything measured about it."""

    question: Question
    answer: Answer
    ranked: list[tuple[str, str]]  # (chunk_id, doc_id), best first
    gold_rank: int | None = None
    facts_found: list[bool] = field(default_factory=list)
    supported: list[tuple[str, int, bool]] = field(default_factory=list)  # (line, marker, supported)
    body_lines: list[tuple[str, bool]] = field(default_factory=list)  # (line, carries a marker)
    problems: list[str] = field(default_factory=list)


def _content_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOP]


def supports(line: str, passage: str) -> bool:
    """The cited passage holds the line: verbatim (after normalising), or >= 90% of its content words."""
    claim, source = norm(line), norm(passage)
    if not claim or claim in source:
        return True
    words, available = _content_words(claim), set(_content_words(source))
    return bool(words) and sum(w in available for w in words) / len(words) >= SUPPORT_OVERLAP


def matches(gold: str, chunk_id: str, doc_id: str) -> bool:
    return gold == chunk_id or ("#" not in gold and gold == doc_id)


# ---------------------------------------------------------------- systems under test

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


# ---------------------------------------------------------------- scoring


def score(q: Question, answer: Answer, ranked: list[tuple[str, str]]) -> Result:
    """Everything measured about one answer, with a plain-words list of what went wrong."""
    result = Result(q, answer, ranked)
    expect_refusal = q.refusal_reason is not None
    if q.answerable:
        result.gold_rank = next((i for i, (cid, did) in enumerate(ranked, 1)
                                 if any(matches(g, cid, did) for g in q.gold)), None)
        if result.gold_rank is None or result.gold_rank > 5:
            where = f"rank {result.gold_rank}" if result.gold_rank else f"not in top {DEPTH}"
            result.problems.append(f"gold {where}; top 3: {', '.join(cid for cid, _ in ranked[:3])}")
        text = norm(answer.answer)
        result.facts_found = [not answer.refused and any(norm(p) in text for p in fact) for fact in q.key_facts]
        missing = [fact[0] for fact, found in zip(q.key_facts, result.facts_found, strict=True) if not found]
        if missing and not answer.refused:
            result.problems.append(f"missing key facts: {'; '.join(missing)}")
    if not answer.refused:
        _score_citations(result)
    if answer.refused != expect_refusal:
        result.problems.append(f"refused ({answer.refusal_reason}) but should answer" if answer.refused
                               else f"answered but should refuse ({q.refusal_reason})")
    elif expect_refusal and answer.refusal_reason != q.refusal_reason:
        result.problems.append(f"refused as {answer.refusal_reason}, expected {q.refusal_reason}")
    if q.safety == "red_flag" and answer.safety != "red_flag":
        result.problems.append("red flag not escalated")
    elif q.safety != "red_flag" and answer.safety == "red_flag":
        result.problems.append("escalated as a red flag, but it is not one")
    return result


def _score_citations(result: Result) -> None:
    by_marker = {c.marker: c for c in result.answer.citations}
    lines = [line.strip() for line in result.answer.answer.splitlines() if line.strip()]
    if lines and not MARKER.search(lines[0]) and (lines[0].endswith(":") or result.answer.safety == "red_flag"):
        lines = lines[1:]  # the lead names the exercise, or is the advice to seek care DESIGN.md puts first
    for line in lines:
        markers = [int(m) for m in MARKER.findall(line)]
        result.body_lines.append((line, bool(markers)))
        if not markers:
            result.problems.append(f"uncited line: {line[:70]!r}")
        claim = MARKER.sub("", line)
        for marker in markers:
            cited = by_marker.get(marker)
            ok = cited is not None and supports(claim, cited.text)
            result.supported.append((line, marker, ok))
            if not ok:
                target = cited.chunk_id if cited else "no such citation"
                result.problems.append(f"[{marker}] ({target}) does not support {claim.strip()[:70]!r}")


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))], 2)


def summarize(results: list[Result]) -> dict[str, Any]:
    """The metrics of report.json, computed over whichever results are given (all, or one category)."""
    ranked = [r for r in results if r.question.answerable]
    ranks = [r.gold_rank for r in ranked]
    facts = [found for r in ranked for found in r.facts_found]
    expected = [r.question.refusal_reason is not None for r in results]
    refused = [r.answer.refused for r in results]
    correct = [e == a and (not a or r.answer.refusal_reason == r.question.refusal_reason)
               for r, e, a in zip(results, expected, refused, strict=True)]
    true_refusals = sum(e and a for e, a in zip(expected, refused, strict=True))
    red = [r.answer.safety == "red_flag" for r in results if r.question.safety == "red_flag"]
    totals = [r.answer.timings_ms.get("total", 0.0) for r in results]
    return {
        "n_questions": len(results),
        "retrieval": {
            **{f"recall@{k}": _share([x is not None and x <= k for x in ranks]) for k in (1, 3, 5)},
            "mrr": round(statistics.fmean(1 / x if x else 0.0 for x in ranks), 4) if ranks else None,
            # gold ids are alternatives ("any one counts"), so the ideal list has one relevant chunk at rank 1
            "ndcg@5": round(statistics.fmean(1 / math.log2(x + 1) if x and x <= 5 else 0.0 for x in ranks), 4)
            if ranks else None,
        },
        "answers": {
            "key_fact_recall": _share(facts),
            "citation_precision": _share([ok for r in results for *_, ok in r.supported]),
            "citation_coverage": _share([cited for r in results for _, cited in r.body_lines]),
        },
        "refusal": {
            "accuracy": _share(correct),
            "precision": round(true_refusals / sum(refused), 4) if any(refused) else None,
            "recall": round(true_refusals / sum(expected), 4) if any(expected) else None,
        },
        "safety": {"red_flag_escalation": _share(red)},
        "latency_ms": {"p50": _percentile(totals, 50), "p95": _percentile(totals, 95)},
        "passed": _share([not r.problems for r in results]),
    }


def recall_curve(results: list[Result]) -> list[float]:
    ranks = [r.gold_rank for r in results if r.question.answerable]
    return [sum(x is not None and x <= k for x in ranks) / len(ranks) if ranks else 0.0 for k in range(1, DEPTH + 1)]


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
    report["config"] = {"name": config_name(bot.retriever.mode, bot.retriever.linking), "retriever": bot.retriever.mode,
                        "linking": bot.retriever.linking, "top_k": bot.settings.top_k,
                        "candidates": bot.settings.candidates, "max_points": bot.settings.max_points,
                        "mode": "generative" if bot.settings.llm else "extractive"}
    if bot.settings.llm:
        report["config"]["llm"] = bot.settings.llm
        written = [r.answer for r in results if not r.answer.refused and r.answer.safety is None]
        report["generative"] = {
            "share": _share([a.mode == "generative" for a in written]),
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
    from .pipeline import Assistant

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

    from .pipeline import Assistant

    plain = Assistant(bot.chunks, bot.store, bot.embeddings, dataclasses.replace(bot.settings, llm=None),
                      bot.retriever)
    return [compare_row("extractive", run_system(assistant_system(plain), questions)),
            compare_row(f"generative ({bot.settings.llm})", generative)]
