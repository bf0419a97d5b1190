"""Follow-ups -> standalone questions: "and how do I make it easier?" after a clamshell answer becomes
"and how do I make the clamshell easier?". Rule-based, so it is instant and predictable."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .intent import detect_intents
from .linking import Linker

MAX_TURNS = 20
PRONOUN = re.compile(r"\b(this exercise|that exercise|this one|that one|the exercise|it|this|that|them|these|"
                     r"those)\b", re.IGNORECASE)
FOLLOW_UP_START = re.compile(r"^\s*(and|but|also|so|ok(ay)?|what about|how about|then|now)\b", re.IGNORECASE)
FOLLOW_UP_WORDS = 10


def clean_history(history: object) -> list[dict[str, str]]:
    """Keep only well-formed user/assistant turns, the most recent MAX_TURNS of them; drop the rest."""
    if not isinstance(history, Sequence) or isinstance(history, str | bytes):
        return []
    turns = []
    for turn in history:
        if not isinstance(turn, Mapping):
            continue
        role, content = turn.get("role"), turn.get("content")
        if role in ("user", "assistant") and isinstance(content, str) and content.strip():
            turns.append({"role": role, "content": content[:4000]})
    return turns[-MAX_TURNS:]


def looks_like_follow_up(question: str) -> bool:
    words = question.split()
    return bool(
        FOLLOW_UP_START.match(question)
        or PRONOUN.search(question)
        or (detect_intents(question) and len(words) <= FOLLOW_UP_WORDS)
    )


def last_subject(history: list[dict[str, str]], linker: Linker) -> str | None:
    """The entry most recently discussed: the first one named in the latest turn that names any."""
    for turn in reversed(history):
        ids = linker.doc_ids(turn["content"].split("\n", 1)[0] if turn["role"] == "assistant" else turn["content"])
        if not ids and turn["role"] == "assistant":
            ids = linker.doc_ids(turn["content"])
        if ids:
            return ids[0]
    return None


INTENT_QUESTIONS = {
    "harder": "how do I make the {name} harder?",
    "easier": "how do I make the {name} easier?",
    "howto": "how do I do the {name}?",
    "mistakes": "what are common mistakes with the {name}?",
    "tips": "what are tips for the {name}?",
    "cautions": "is the {name} safe?",
    "muscles": "what muscles does the {name} work?",
    "equipment": "what equipment do I need for the {name}?",
    "dosage": "how long or how many for the {name}?",
    "measure": "how high or far for the {name}?",
}


def _carry_intent(question: str, history: list[dict[str, str]], name: str) -> str:
    """ "what about side-lying leg raises?" after "how do I make clamshells harder?" asks the same of the new one."""
    previous = next((t["content"] for t in reversed(history) if t["role"] == "user"), "")
    intents = [i for i in detect_intents(previous) if i in INTENT_QUESTIONS]
    return INTENT_QUESTIONS[intents[0]].format(name=name) if intents else question


def condense(question: str, history: list[dict[str, str]], linker: Linker, titles: Mapping[str, str]) -> str:
    """A question that can be answered on its own."""
    if not history:
        return question
    named = linker.doc_ids(question)
    if named:
        if FOLLOW_UP_START.match(question) and not detect_intents(question):
            return _carry_intent(question, history, titles.get(named[0], named[0]).lower())
        return question
    if not looks_like_follow_up(question):
        return question
    subject = last_subject(history, linker)
    if subject is None:
        return question
    name = titles.get(subject, subject).lower()
    replaced, count = PRONOUN.subn(f"the {name}", question, count=1)
    if count:
        return replaced
    return f"{question.rstrip(' ?.!')} ({name})?"
