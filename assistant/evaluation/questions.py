"""The eval question sets: each question, what a correct answer must hold, and checks that every gold id and key
fact still matches the corpus.

`eval/questions.yaml` holds `dev` (tune on it) and `seen` (the old test split, seen during earlier tuning);
`eval/real.yaml` holds `real-dev`, questions people posted publicly. The sealed splits live in `eval/heldout/`
(`test`, `real-test`), each file's sha256 recorded in the report so a reader can tell it was not changed.
Run `python -m assistant.evaluation.questions FILE...` to check files against the corpus."""

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
HELDOUT_DIR = EVAL_DIR / "heldout"
QUESTION_FILES = (QUESTIONS_PATH, EVAL_DIR / "real.yaml", HELDOUT_DIR / "test.yaml", HELDOUT_DIR / "real-test.yaml",
                  HELDOUT_DIR / "real-test-2.yaml", HELDOUT_DIR / "real-test-3.yaml")
CATEGORIES = ("how-to", "harder", "easier", "mistakes", "form", "equipment", "dosage", "anatomy", "pain", "running",
              "physical therapy", "safety", "follow-up", "typo", "off-topic", "medication", "red flag", "injection",
              "narrative", "comparison", "condition", "diagnosis")
REFUSAL_REASONS = ("off_topic", "no_evidence", "out_of_scope_medical", "invalid_input")
SPLITS = ("dev", "seen", "test", "real-dev", "real-test", "real-test-2", "real-test-3")
# held out: run once at the end, never tuned on. real-test was run once, then its red-flag items were read and
# the red-flag rules changed: it is reported as seen, and real-test-2 was collected after that change. real-test-3
# (a second, larger collection, split with new real-dev items before anything ran) seals this round's changes.
SEALED = frozenset({"test", "real-test", "real-test-2", "real-test-3"})
FLAGS = ("trauma", "cauda_equina", "cardio", "infection", "sudden_severe", "clot", "child", "post_surgery",
         "serious_illness")
LEVELS = ("emergency", "soon")


class EvalError(GluteError):
    """The question set or the thresholds file is malformed; the message names the entry."""


@dataclass(frozen=True)
class Question:
    """One eval question with its gold passages and what a right answer holds."""

    id: str
    question: str
    category: str
    split: str
    history: list[dict] = field(default_factory=list)
    gold: list[str] = field(default_factory=list)
    key_facts: list[list[str]] = field(default_factory=list)
    refusal_reason: str | None = None
    safety: str | None = None
    flag: str | None = None
    level: str | None = None
    source_url: str | None = None
    partial: bool = False
    declines_part: bool = False

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


def load_all(paths: Iterable[Path] = QUESTION_FILES) -> list[Question]:
    """Every question of every eval file that exists, ids unique across files."""
    questions = [q for path in paths if Path(path).exists() for q in load_questions(path)]
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise EvalError(f"question {q.id!r} appears in two eval files; ids must be unique")
        seen.add(q.id)
    return questions


def file_hashes(paths: Iterable[Path] = QUESTION_FILES) -> dict[str, str]:
    """sha256 of each eval file, so a report shows which version of a sealed split it ran."""
    import hashlib

    def name(path: Path) -> str:
        path = Path(path).resolve()
        return path.relative_to(EVAL_DIR).as_posix() if path.is_relative_to(EVAL_DIR) else str(path)

    return {name(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths if Path(p).exists()}


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
                     refusal_reason=raw.get("refusal_reason"), safety=raw.get("safety"), flag=raw.get("flag"),
                     level=raw.get("level"), source_url=raw.get("source_url"), partial=bool(raw.get("partial")),
                     declines_part=bool(raw.get("declines_part")))
        checks = [
            (q.id != "", "has no id"),
            (q.category in CATEGORIES, f"has category {q.category!r}; use one of {', '.join(CATEGORIES)}"),
            (q.split in SPLITS, f"has split {q.split!r}; use one of {', '.join(SPLITS)}"),
            (q.flag in (None, *FLAGS) and q.level in (None, *LEVELS), f"has flag {q.flag!r} / level {q.level!r}"),
            ((q.flag is not None) <= (q.safety == "red_flag"), "has a flag but no safety: red_flag"),
            (bool(q.source_url) or not q.split.startswith("real"), "is a real question but has no source_url"),
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
    """One split; "all" means every split that is not sealed."""
    return [q for q in questions if q.split == split or (split == "all" and q.split not in SEALED)]


def main(argv: list[str]) -> int:
    """Check eval files against the real corpus; print each problem; exit 1 when there is any."""
    from ..chunking import chunk_corpus
    from ..config import REPO_ROOT
    from ..corpus import load_corpus

    chunks = chunk_corpus(load_corpus(REPO_ROOT / "corpus"))
    problems = []
    for name in argv or [str(p) for p in QUESTION_FILES if p.exists()]:
        try:
            problems += [f"{name}: {p}" for p in check_questions(load_questions(Path(name)), chunks)]
        except EvalError as exc:
            problems.append(str(exc))
    print("\n".join(problems) or "ok")
    return 1 if problems else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
