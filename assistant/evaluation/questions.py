"""The eval question set (eval/questions.yaml): each question, what a correct answer must hold, and checks that
every gold id and key fact still matches the corpus."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..config import REPO_ROOT
from ..errors import GluteError

EVAL_DIR = REPO_ROOT / "eval"
QUESTIONS_PATH = EVAL_DIR / "questions.yaml"
CATEGORIES = ("how-to", "harder", "easier", "mistakes", "form", "equipment", "dosage", "anatomy", "pain", "running",
              "physical therapy", "safety", "follow-up", "typo", "off-topic", "medication", "red flag", "injection")
REFUSAL_REASONS = ("off_topic", "no_evidence", "out_of_scope_medical", "invalid_input")
SPLITS = ("dev", "test")


class EvalError(GluteError):
    """The question set or the thresholds file is malformed; the message names the entry."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    category: str
    split: str
    history: list[dict] = field(default_factory=list)
    gold: list[str] = field(default_factory=list)
    key_facts: list[list[str]] = field(default_factory=list)
    refusal_reason: str | None = None
    safety: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


def load_questions(path: Path = QUESTIONS_PATH) -> list[Question]:
    """The question set, with every field checked; EvalError names the first bad entry."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvalError(f"cannot read the question set {path}: {exc}") from exc
    questions, seen = [], set()
    for raw in (data or {}).get("questions") or []:
        if not isinstance(raw, dict):
            raise EvalError(f"{path}: every question must be a mapping with id, question, category...")
        where = f"{path}: question {raw.get('id', '?')!r}"
        if raw.get("id") in seen:
            raise EvalError(f"{where} appears twice; ids must be unique")
        seen.add(raw.get("id"))
        q = Question(id=str(raw.get("id", "")), question=str(raw.get("question", "")),
                     category=raw.get("category"), split=raw.get("split"), history=raw.get("history") or [],
                     gold=list(raw.get("gold") or []), key_facts=[[str(p).lower() for p in f]
                                                                  for f in raw.get("key_facts") or []],
                     refusal_reason=raw.get("refusal_reason"), safety=raw.get("safety"))
        checks = [
            (q.id != "", "has no id"),
            (q.category in CATEGORIES, f"has category {q.category!r}; use one of {', '.join(CATEGORIES)}"),
            (q.split in SPLITS, f"has split {q.split!r}; use dev or test"),
            (q.refusal_reason in (None, *REFUSAL_REASONS), f"has refusal_reason {q.refusal_reason!r}"),
            (q.safety in (None, "red_flag"), f"has safety {q.safety!r}; use red_flag"),
            (bool(q.gold) == (q.refusal_reason is None and q.safety is None),
             "needs gold (and key_facts) unless it has refusal_reason or safety, and only then"),
            (bool(q.key_facts) == bool(q.gold), "needs key_facts exactly when it has gold"),
            (all(isinstance(f, list) and f for f in raw.get("key_facts") or []),
             "key_facts must be lists of phrasings"),
            (all(isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
                 for t in q.history), "history must be a list of {role: user|assistant, content: text}"),
        ]
        for ok, message in checks:
            if not ok:
                raise EvalError(f"{where} {message}")
        questions.append(q)
    if not questions:
        raise EvalError(f"{path} has no questions")
    return questions


def check_questions(questions: list[Question], chunks: Iterable) -> list[str]:
    """Gold ids that name no chunk, and key-fact phrasings that no gold passage contains."""
    by_id = {c.chunk_id: c for c in chunks}
    doc_ids = {c.doc_id for c in by_id.values()}
    problems = []
    for q in questions:
        texts = []
        for gold in q.gold:
            if gold in by_id:
                texts.append(by_id[gold].text)
            elif "#" not in gold and gold in doc_ids:
                texts += [c.text for c in by_id.values() if c.doc_id == gold]
            else:
                problems.append(f"{q.id}: gold {gold!r} is no chunk id or entry id")
        passage = norm(" ".join(texts))
        for fact in q.key_facts:
            if not any(norm(p) in passage for p in fact):
                problems.append(f"{q.id}: no gold passage contains any of {fact}")
    return problems


def norm(text: str) -> str:
    """Lower case, curly quotes straightened, list markers dropped: how answers and passages are compared."""
    text = text.lower().replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"(?m)^\s*(\d+\.|-)\s+", "", text)
    return " ".join(text.split())


def select(questions: list[Question], split: str) -> list[Question]:
    return [q for q in questions if split == "all" or q.split == split]
