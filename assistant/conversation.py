"""What a conversation leaves for its next turn, read from the turns' text alone.

A user turn leaves its subject, its ask (as a frame with a slot for the entry), the exercises it listed and the
problem it told; an answer of glute's leaves the exercises it cited. The UI sends back no citations, so an answer's
points are looked up among the passages (`Catalog.quoting`): the exercises it cited are known exactly. condense.py
reads a history turn by turn into a `State` with `after_question` and `after_answer`, and remembers each one."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .catalog import Entity, doc_ids, doc_of
from .intent import detect_intents
from .linking import normalize
from .phrasing import FIRST_PERSON, PRONOUN, QUESTION_WORDS, TOKEN, original_span, put_in
from .text import ASK_PHRASE, sentences

if TYPE_CHECKING:
    from .answer import Answer
    from .catalog import Catalog
    from .compose import Draft

RECENT_EXERCISES = 6  # exercises talked about that a "which of those" can still mean
SITUATION_TURNS = 3  # a problem is referred back to for this many user turns after it was told
KIT_TURNS = 3  # "which exercise is a tube band for?" is referred back to for this many user turns
# A message that says it starts afresh carries nothing, whatever it contains.
NEW_TOPIC = re.compile(r"\b(new (topic|question|problem|thing)|separate (thing|question|issue|topic)|something else|"
                       r"different (question|topic|thing|issue)|unrelated|another (question|thing|issue)|"
                       r"change of (topic|subject)|changing the subject|on another note)\b", re.IGNORECASE)
# A turn that asks about exercising in general, in so many words, leans on nothing.
GENERAL = re.compile(r"\b(the exercises|exercises|an exercise|any exercise|in general|generally|every exercise|"
                     r"each exercise|all (the|these|of the) exercises|exercising|(?<!the )(?<!this )(?<!that )exercise|"
                     r"workouts?|training|train|warm(ing)?[- ]up|cool(ing)?[- ]down|rest days?|"
                     r"my (program|programme|routine))\b", re.IGNORECASE)
# A first-person problem: what "what should I do instead?" or "should I push through it?" is about.
PROBLEM = re.compile(r"\b(hurts?|hurting|hurt|pain\w*|aches?|aching|achy|sore\w*|sharp|"
                     r"feel (it|this|that)( \w+)? (in|at|on)|(hard|difficult|tough|tricky) to (do|keep|get|hold|stay)|"
                     r"(can'?t|cannot|unable to|can only|struggle to) (do|manage|keep|hold|get|feel|lift|balance|last|"
                     r"finish)|struggl\w*|keeps? \w+ing|drop\w*|wobbl\w*|shak\w*|click\w*|pinch\w*|burn\w*|numb\w*|"
                     r"tight|cramp\w*|sag\w*|rock\w*|roll\w*|twist\w*|tilt\w*|cav\w+ in|collaps\w*|twinge\w*|"
                     r"too (hard|difficult))\b", re.IGNORECASE)
VARIANT = re.compile(r"\b(version|variation|instead|alternative|swap|replace)\b", re.IGNORECASE)


@dataclass(frozen=True)
class State:
    """What a conversation so far leaves for the next turn to lean on."""

    subject: Entity | None = None
    frame: str | None = None  # the last ask, its entity a slot: "where does the band go for {}?"
    frame_kind: str | None = None
    listed: tuple[str, ...] = ()  # exercises the latest user turn naming several named, in order
    listed_age: int = 0  # user turns since `listed` was given
    shown: tuple[str, ...] = ()  # exercises the last answer cited
    named: tuple[str, ...] = ()  # exercises named in what the last answer quoted (a list in a topic's passage)
    last_question: str = ""  # the latest user turn, as written
    last_standalone: str = ""  # and as it was read, standing alone
    answered: bool = False  # glute answered the latest turn (it was not refused)
    heading: str = ""  # the section the last answer first cited, in words ("outer hip pain and gluteal ...")
    recent: tuple[str, ...] = ()  # exercises talked about, oldest first
    situation: str | None = None  # the problem the person described, in their words
    situation_subject: Entity | None = None
    situation_age: int = 0
    variant: str | None = None  # another exercise the last answer offered as a version of the subject
    asked_variant: bool = False  # the last ask was for a version (easier, harder, instead)
    kit_age: int | None = None  # user turns since "which exercise is this kit for?" was asked

    @property
    def kit_fresh(self) -> bool:
        """Kit was asked about recently enough for "and a looped band?" to ask the same of other kit."""
        return self.kit_age is not None and self.kit_age < KIT_TURNS

    @property
    def situation_fresh(self) -> bool:
        """A problem was told recently enough for a follow-up to mean it."""
        return bool(self.situation) and self.situation_age < SITUATION_TURNS


@dataclass(frozen=True)
class Resolution:
    """A turn read with what it leans on: the standalone question, what was carried, and for a choice among a
    set or an alternative to a painful exercise, the answer drawn from the entries referred back to."""

    question: str
    carry: str = "none"  # none | entity | ask | set | situation
    subjects: tuple[str, ...] = ()
    frame: str | None = None
    frame_kind: str | None = None
    draft: Draft | None = None
    refusal: str | None = None  # read with what it refers to, the turn asks for something glute declines

    def answer(self, question: str, timings: dict[str, float], started: float) -> Answer:
        """The drafted answer as `Assistant.ask` returns it."""
        from .answer import Answer
        from .compose import render

        clock = time.perf_counter()
        text, citations = render(self.draft)
        timings["compose"] = timings.get("compose", 0.0) + (time.perf_counter() - clock) * 1000
        timings.setdefault("retrieve", 0.0)
        timings["total"] = (time.perf_counter() - started) * 1000
        return Answer(question, self.question, text, citations, timings_ms=timings)


def after_question(catalog: Catalog, state: State, text: str, resolution: Resolution) -> State:
    """What a user turn leaves, given how it was resolved: its subject and ask, the exercises it listed, the
    problem it told (about the exercise when the sentences telling it name it, or say "do it")."""
    said = [link.doc_id for link in catalog.links(text)]
    exercises = [d for d in dict.fromkeys(resolution.subjects) if catalog.kind[d] == "exercise"]
    subject = state.subject
    if resolution.subjects:
        chosen = exercises[0] if exercises else resolution.subjects[0]
        if chosen in said:
            subject = entity_in(catalog, text, chosen)
        elif subject is None or subject.doc_id != chosen:
            subject = catalog.entity(chosen, said=True)
    elif NEW_TOPIC.search(text) or (resolution.carry == "none" and GENERAL.search(text)):
        subject = None
    situation, situation_subject, age = state.situation, state.situation_subject, state.situation_age + 1
    told = _problem_told(text)
    if told:
        exercise = subject if subject is not None and subject.kind == "exercise" else None
        situation = _resolve_pronouns(catalog, told, exercise) if exercise else told
        about = exercise if exercise and exercise.doc_id in {link.doc_id for link in catalog.links(situation)} \
            else None
        situation_subject, age = about, 0
    elif NEW_TOPIC.search(text):
        situation, situation_subject = None, None
    recent = tuple(d for d in state.recent if d not in exercises) + tuple(exercises)
    listed = [d for d in dict.fromkeys(said) if catalog.kind[d] == "exercise"]
    intents = set(detect_intents(resolution.question))
    return replace(state, subject=subject, frame=resolution.frame or state.frame,
                   frame_kind=resolution.frame_kind or state.frame_kind,
                   listed=tuple(listed) if len(listed) >= 2 else state.listed,
                   listed_age=0 if len(listed) >= 2 else state.listed_age + 1, last_question=text,
                   last_standalone=resolution.question,
                   recent=recent[-RECENT_EXERCISES:], situation=situation, situation_subject=situation_subject,
                   situation_age=age, variant=None,
                   kit_age=0 if resolution.frame_kind == "kit" else _older(state.kit_age),
                   asked_variant=bool({"easier", "harder"} & intents) or bool(VARIANT.search(text)))


def _older(age: int | None) -> int | None:
    """An age one user turn older; None (never asked) stays None."""
    return None if age is None else age + 1


def after_answer(catalog: Catalog, state: State, text: str) -> State:
    """What an answer of glute's leaves: the passages its points quote (looked up), their exercises."""
    cited = _cited(catalog, text)
    if not cited:  # a refusal, or an answer in other words than the passages': names are all there is
        if "[1]" not in text:
            return replace(state, shown=(), named=(), variant=None, answered=False)
        docs = doc_ids(catalog.links(text))
    else:
        docs = list(dict.fromkeys(doc_of(c) for c in cited))
    exercises = [d for d in docs if catalog.kind.get(d) == "exercise"]
    quoted = [line for line in text.splitlines()[1:] if line.startswith("- ")]
    named = [d for line in quoted for d in catalog.exercises_in(line)]
    offered = [link.doc_id for line in quoted for link in catalog.links(line)
               if " " in link.alias and catalog.kind[link.doc_id] == "exercise" and link.doc_id not in exercises]
    subject = state.subject
    if exercises and (subject is None or subject.doc_id not in exercises):
        subject = catalog.entity(exercises[0], said=True)
    elif not exercises and len(docs) > 1 and (subject is None or not subject.said):
        subject = None  # an answer drawn from several entries (a story's): no one of them is the subject
    elif not exercises and docs and (subject is None or (subject.kind != "exercise" and subject.doc_id != docs[0]
                                                         and not subject.said)):
        subject = _topic_in(catalog, state.last_question, docs[0])
    others = list(dict.fromkeys(offered))
    variant = others[0] if state.asked_variant and len(others) == 1 else None
    recent = tuple(d for d in state.recent if d not in exercises[:1]) + tuple(exercises[:1])
    first = catalog.retriever.by_id.get(cited[0]) if cited and len(docs) == 1 else None
    heading = first.section[0].lower() + first.section[1:] if first and first.section not in (
        "Summary", "At a glance") else ""
    return replace(state, subject=subject, shown=tuple(exercises), named=tuple(dict.fromkeys(named)),
                   variant=variant, recent=recent[-RECENT_EXERCISES:], heading=heading, answered=True)


def entity_in(catalog: Catalog, question: str, doc: str) -> Entity:
    """The entity as the person named it: the title for an exercise, their own words for a topic."""
    if catalog.kind[doc] == "exercise":
        return catalog.entity(doc, said=True)
    link = next(link for link in catalog.links(question) if link.doc_id == doc)
    start, end = original_span(question, link.start, link.end)
    before = re.search(r"\b(the|my|your|an?)\s+$", question[:start], re.IGNORECASE)
    phrase = (before.group(0) if before else "") + question[start:end]
    if QUESTION_WORDS.search(phrase):  # an alias that is itself a question ("how hard should exercise feel")
        return catalog.entity(doc, said=False)
    return Entity(doc, phrase.strip(), "topic", True)


def _topic_in(catalog: Catalog, question: str, doc: str) -> Entity:
    """A topic an answer cited, in the person's words when their question used its name's words ("where is
    the gluteus medius" -> "the gluteus medius" for the anatomy entry)."""
    title = normalize(catalog.title[doc]).split()
    words = TOKEN.findall(question.lower())
    best: tuple[int, int] = (0, 0)
    for start in range(len(words)):
        end = start
        while end < len(words) and words[end] in title:
            end += 1
        if end - start > best[1] - best[0]:
            best = (start, end)
    if best[1] - best[0] < 2:  # a general question about exercising: "it" is exercise
        return Entity(doc, "exercise", "topic", True) if GENERAL.search(question) else catalog.entity(doc, False)
    phrase = " ".join(words[best[0]:best[1]])
    if best[0] and words[best[0] - 1] in ("the", "my"):
        phrase = f"{words[best[0] - 1]} {phrase}"
    return Entity(doc, phrase, "topic", True)


def _cited(catalog: Catalog, text: str) -> list[str]:
    """The chunk ids an answer's points were quoted from, in the order of their markers."""
    by_marker: dict[str, set[str]] = {}
    for line in text.splitlines():
        markers = re.findall(r"\[(\d+)\]", line)
        if not markers or not line.startswith("- "):
            continue
        found = catalog.quoting(re.sub(r"\s*\[\d+\]", "", line[2:]).strip())
        if found:
            for marker in markers:
                by_marker[marker] = by_marker[marker] & found if by_marker.get(marker) else set(found)
    lead = text.split("\n", 1)[0]
    led = doc_ids(catalog.links(lead)) if by_marker else []
    cited: list[str] = []
    for marker in sorted(by_marker, key=int):
        options = sorted(by_marker[marker])
        if len(options) > 1:  # "Level: beginner." is in many passages: the lead names them in marker order
            used = {doc_of(c) for c in cited}
            named = [c for doc in led for c in options if doc_of(c) == doc]
            options = [c for c in named if doc_of(c) not in used] or named or options
        cited.append(options[0])
    return cited


def _resolve_pronouns(catalog: Catalog, text: str, subject: Entity) -> str:
    """A problem told with "it" ("my knee hurts when I do it"), with the exercise put in for the pronoun."""
    match = PRONOUN.search(text)
    if not match or catalog.links(text):
        return text
    return put_in(text, match, subject.phrase)


def _problem_told(text: str) -> str | None:
    """The sentences of a turn that tell a first-person problem ("my knee hurts when I do it"), else None."""
    told = [s for s in sentences(text) if not s.rstrip().endswith("?") and not ASK_PHRASE.search(s)
            and PROBLEM.search(s) and FIRST_PERSON.search(s)]
    if not told:
        return None
    joined = " ".join(NEW_TOPIC.sub("", s).strip(" -,:;") for s in told)
    words = joined.split()
    return " ".join(words[:30]) if words else None
