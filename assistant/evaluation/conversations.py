"""The `conversations` split: multi-turn dialogues played through the real `Assistant.ask`, with glute's own
previous answers fed back as the assistant turns, each turn scored on what a reader sees.

`eval/conversations.yaml` holds the dev half (tune on it); `eval/heldout/conversations-test.yaml` is sealed (run
once, for final numbers). Only the user turns are written; each has gold passages (chunk ids, or entry ids: any
one cited counts), or a gold refusal (`refusal_reason`), or `safety: red_flag`, and a `carry` kind saying what
it needs from earlier turns: none (self-contained, new story, topic change), entity, ask, set or situation.

A turn is right when the answer cites a gold passage (or refuses for the gold reason, or escalates a red flag).
Carry accuracy is over the turns that need something from before, no-carry accuracy over those that need
nothing: a new question must never inherit the last exercise."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..answer import Answer
from .questions import EVAL_DIR, FLAGS, HELDOUT_DIR, LEVELS, REFUSAL_REASONS, EvalError, file_hashes
from .report import floor_row, fmt, md_table
from .scoring import matches, share

CONVERSATION_FILES = {"conversations-dev": EVAL_DIR / "conversations.yaml",
                      "conversations-test": HELDOUT_DIR / "conversations-test.yaml",
                      "conversations-test-2": HELDOUT_DIR / "conversations-test-2.yaml"}
SEALED = frozenset({"conversations-test", "conversations-test-2"})  # held out: run once at the end, never tuned on
CARRIES = ("none", "entity", "ask", "set", "situation")
# The "done when", used when the thresholds file has no `conversations` group.
DEFAULT_FLOORS = {"conversations": {"turn_accuracy": 0.9, "no_carry_accuracy": 0.95}}


@dataclass(frozen=True)
class Turn:
    """One user turn of a scripted dialogue and what a right answer to it looks like."""

    text: str
    carry: str
    gold: tuple[str, ...] = ()
    refusal_reason: str | None = None
    safety: str | None = None
    flag: str | None = None
    level: str | None = None

    def expected(self) -> str:
        if self.safety:
            return self.safety
        if self.refusal_reason:
            return f"refusal {self.refusal_reason}"
        return ", ".join(self.gold)


@dataclass(frozen=True)
class Dialogue:
    """A scripted conversation from eval/conversations*.yaml."""

    id: str
    split: str
    turns: tuple[Turn, ...]


@dataclass
class TurnResult:
    """How one turn was answered, and whether that was right."""

    dialogue: Dialogue
    index: int
    turn: Turn
    answer: Answer
    correct: bool
    problem: str = ""
    cited: list[str] = field(default_factory=list)


def load_dialogues(path: Path) -> list[Dialogue]:
    """The dialogues of one file, every field checked; EvalError names the dialogue and turn at fault."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvalError(f"cannot read the conversations {path}: {exc}") from exc
    dialogues, seen = [], set()
    for raw in (data or {}).get("dialogues") or []:
        if not isinstance(raw, dict):
            raise EvalError(f"{path}: every dialogue must be a mapping with id, split and turns")
        where = f"{path}: dialogue {raw.get('id', '?')!r}"
        if not raw.get("id") or raw["id"] in seen:
            raise EvalError(f"{where} needs an id of its own")
        seen.add(raw["id"])
        if not isinstance(raw.get("split"), str) or not raw["split"]:
            raise EvalError(f"{where} has no split (dev or test)")
        turns_raw = raw.get("turns")
        if not isinstance(turns_raw, list) or not turns_raw:
            raise EvalError(f"{where} has no turns")
        dialogues.append(Dialogue(str(raw["id"]), raw["split"],
                                  tuple(_turn(t, f"{where} turn {i}") for i, t in enumerate(turns_raw, 1))))
    if not dialogues:
        raise EvalError(f"{path} has no dialogues")
    return dialogues


def _turn(raw: object, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise EvalError(f"{where} must be a mapping with text, carry and gold (or a refusal)")
    gold = raw.get("gold") or []
    turn = Turn(text=raw.get("text") if isinstance(raw.get("text"), str) else "", carry=raw.get("carry"),
                gold=tuple(str(g) for g in gold) if isinstance(gold, list) else (),
                refusal_reason=raw.get("refusal_reason"), safety=raw.get("safety"), flag=raw.get("flag"),
                level=raw.get("level"))
    checks = [
        (bool(turn.text.strip()), "has no text"),
        (turn.carry in CARRIES, f"has carry {turn.carry!r}; use one of {', '.join(CARRIES)}"),
        (isinstance(gold, list), "gold must be a list of chunk or entry ids"),
        (turn.refusal_reason in (None, *REFUSAL_REASONS), f"has refusal_reason {turn.refusal_reason!r}"),
        (turn.safety in (None, "red_flag"), f"has safety {turn.safety!r}; use red_flag"),
        (turn.flag in (None, *FLAGS) and turn.level in (None, *LEVELS), f"has flag {turn.flag!r} / level "
                                                                         f"{turn.level!r}"),
        ((turn.flag is not None) <= (turn.safety == "red_flag"), "has a flag but no safety: red_flag"),
        (sum((bool(turn.gold), turn.refusal_reason is not None, turn.safety is not None)) == 1,
         "needs exactly one of gold, refusal_reason or safety"),
    ]
    for ok, message in checks:
        if not ok:
            raise EvalError(f"{where} {message}")
    return turn


def check_dialogues(dialogues: list[Dialogue], chunks) -> list[str]:
    """Gold ids that name no chunk and no entry of the corpus."""
    chunk_ids = {c.chunk_id for c in chunks}
    doc_ids = {c.doc_id for c in chunks}
    return [f"{d.id} turn {i}: gold {g!r} is no chunk id or entry id"
            for d in dialogues for i, t in enumerate(d.turns, 1) for g in t.gold
            if g not in chunk_ids and ("#" in g or g not in doc_ids)]


def score_turn(dialogue: Dialogue, index: int, turn: Turn, answer: Answer) -> TurnResult:
    """Right when a citation's chunk or entry is a gold id; for a refusal turn, refused for the gold reason; for
    a red-flag turn, escalated."""
    cited = [c.chunk_id for c in answer.citations]
    if turn.safety == "red_flag":
        ok = answer.safety == "red_flag"
    elif turn.refusal_reason:
        ok = answer.refused and answer.refusal_reason == turn.refusal_reason
    else:
        ok = not answer.refused and any(matches(g, c.chunk_id, c.doc_id) for g in turn.gold for c in answer.citations)
    got = (f"refused ({answer.refusal_reason})" if answer.refused else
           "red flag" if answer.safety == "red_flag" else "cited " + (", ".join(cited) or "nothing"))
    problem = "" if ok else f"expected {turn.expected()}; {got}"
    return TurnResult(dialogue, index, turn, answer, ok, problem, cited)


def play(bot, dialogue: Dialogue) -> list[TurnResult]:
    """The dialogue through `bot.ask`, each turn with the history so far: the user's turns and glute's own
    answers (the answer text only, as the UI sends it back)."""
    history: list[dict[str, str]] = []
    results = []
    for index, turn in enumerate(dialogue.turns):
        answer = bot.ask(turn.text, list(history))
        results.append(score_turn(dialogue, index, turn, answer))
        history += [{"role": "user", "content": turn.text}, {"role": "assistant", "content": answer.answer}]
    return results


def run_dialogues(bot, dialogues: list[Dialogue], warm_up: bool = True) -> list[TurnResult]:
    if warm_up and dialogues:
        bot.ask(dialogues[0].turns[0].text)  # the first call pays for lazy loading; keep it out of the timings
    return [r for d in dialogues for r in play(bot, d)]


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))], 3)


def summarize(results: list[TurnResult]) -> dict[str, Any]:
    """The headline metrics: per-turn gold-entry accuracy, carry and no-carry accuracy, and per carry kind."""
    by_dialogue: dict[str, list[bool]] = {}
    for r in results:
        by_dialogue.setdefault(r.dialogue.id, []).append(r.correct)
    followed = [r for r in results if r.index > 0]  # turns with history: what condensing costs
    return {
        "n_dialogues": len(by_dialogue),
        "n_turns": len(results),
        "conversations": {
            "turn_accuracy": share([r.correct for r in results]),
            "carry_accuracy": share([r.correct for r in results if r.turn.carry != "none"]),
            "no_carry_accuracy": share([r.correct for r in results if r.turn.carry == "none"]),
            "no_carry_after_first_accuracy": share([r.correct for r in followed if r.turn.carry == "none"]),
            "dialogue_accuracy": share([all(v) for v in by_dialogue.values()]),
        },
        "by_carry": {kind: {"n": len(rs), "accuracy": share([r.correct for r in rs])}
                     for kind in CARRIES if (rs := [r for r in results if r.turn.carry == kind])},
        "latency_ms": {
            "p50": _percentile([r.answer.timings_ms.get("total", 0.0) for r in results], 50),
            "p95": _percentile([r.answer.timings_ms.get("total", 0.0) for r in results], 95),
            "condense_p50": _percentile([r.answer.timings_ms.get("condense", 0.0) for r in followed], 50),
            "condense_p95": _percentile([r.answer.timings_ms.get("condense", 0.0) for r in followed], 95),
        },
    }


def evaluate(bot, dialogues: list[Dialogue], split: str) -> tuple[dict[str, Any], list[TurnResult]]:
    """Play every dialogue; report.json's content and the per-turn results."""
    results = run_dialogues(bot, dialogues)
    report = summarize(results)
    report["split"] = split
    report["config"] = {"retriever": bot.retriever.name, "linking": bot.retriever.linking,
                        "top_k": bot.settings.top_k, "mode": "generative" if bot.settings.llm else "extractive"}
    report["failures"] = [{"dialogue": r.dialogue.id, "turn": r.index + 1, "carry": r.turn.carry,
                           "text": r.turn.text, "standalone": r.answer.standalone_question, "problem": r.problem}
                          for r in results if not r.correct]
    return report, results


def misses(report: dict[str, Any], floors: dict[str, dict[str, float]]) -> list[str]:
    """Each conversations floor missed, as 'conversations.metric value < floor'."""
    wanted = floors.get("conversations") or DEFAULT_FLOORS["conversations"]
    return [f"conversations.{name} {report['conversations'].get(name)} < {floor}"
            for name, floor in wanted.items()
            if report["conversations"].get(name) is None or report["conversations"][name] < floor]


def summary_rows(report: dict[str, Any], floors: dict[str, dict[str, float]]) -> list[list[str]]:
    wanted = floors.get("conversations") or DEFAULT_FLOORS["conversations"]
    rows = [floor_row(f"conversations.{name}", value, wanted.get(name))
            for name, value in report["conversations"].items()]
    for kind, m in report["by_carry"].items():
        rows.append([f"carry={kind} (n={m['n']})", fmt(m["accuracy"]), "", ""])
    for name, value in report["latency_ms"].items():
        rows.append([f"latency_ms.{name}", fmt(value), "", ""])
    return rows


def render_markdown(report: dict[str, Any], floors: dict[str, dict[str, float]]) -> str:
    files = ", ".join(f"{name} (sha256 {digest[:12]})" for name, digest in report.get("question_files", {}).items())
    lines = [f"# glute eval: {report['split']} split", "",
             f"{report['n_dialogues']} dialogues, {report['n_turns']} turns; {files}.", "",
             "## Metrics", "", *md_table(["metric", "value", "floor", ""], summary_rows(report, floors)), "",
             "Each dialogue is played through `Assistant.ask`, glute's own answers fed back as the assistant turns. "
             "A turn is right when a citation's chunk or entry is one of its gold ids (for a refusal turn: refused "
             "for the gold reason; for a red-flag turn: escalated). Carry accuracy is over turns that need "
             "something from before (entity, ask, set, situation); no-carry over self-contained turns, new "
             "stories and topic changes included. Condense latency is over turns with history.", "",
             f"## Wrong turns ({len(report['failures'])})", "",
             *md_table(["dialogue", "turn", "carry", "text", "standalone", "what went wrong"],
                        [[f["dialogue"], str(f["turn"]), f["carry"], f["text"], f["standalone"], f["problem"]]
                         for f in report["failures"]]), ""]
    return "\n".join(lines)


def write_report(out: Path, report: dict[str, Any], results: list[TurnResult],
                 floors: dict[str, dict[str, float]]) -> list[Path]:
    """report.json, report.md and results.jsonl (every turn's answer), in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps({"dialogue": r.dialogue.id, "turn": r.index + 1, "carry": r.turn.carry,
                                 "correct": r.correct, "problem": r.problem, "answer": r.answer.to_dict()},
                                ensure_ascii=False) + "\n")
    (out / "report.md").write_text(render_markdown(report, floors), encoding="utf-8")
    return [out / "report.json", out / "report.md", out / "results.jsonl"]


def run(bot, path: Path, split: str) -> tuple[dict[str, Any], list[TurnResult], list[str]]:
    """Load, check against the corpus, play and score one conversations file: (report, results, problems)."""
    dialogues = load_dialogues(path)
    problems = check_dialogues(dialogues, bot.chunks)
    report, results = evaluate(bot, dialogues, split)
    report["question_files"] = file_hashes([path]) if Path(path).resolve().is_relative_to(EVAL_DIR) else {
        Path(path).name: _sha256(Path(path))}
    report["sealed"] = split in SEALED
    return report, results, problems


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
