"""Turns that refer back to a set of exercises or to a problem, answered from the entries themselves.

"The first one I listed", "the wall one", "do both ..." name members of the set the conversation is about (a choice
among that set is choices.py's); "What should I do instead?" after "my knee hurts when I do it" is answered with
that exercise's easier version and its cautions, and other asks about the problem are read with it. No search is
needed for an alternative: the exercise is known, and what to say of it is in named sections."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .catalog import Entity, doc_ids, singular, word_set
from .conversation import Resolution, State
from .linking import Link, normalize
from .phrasing import LEADING_FILLER, attach, lower_first, pronoun, put_in, sentence

if TYPE_CHECKING:
    from .catalog import Catalog
    from .chunking import Chunk
    from .compose import Draft

# "which of those ...", "which one ...": a choice among the exercises being discussed.
SET_PICK = re.compile(r"\b(which|what)( one| ones)?( of)? (those|these|them|the (two|three|four|five|\w+ ones?))"
                      r"( (two|three|four|five)( ones)?)?\b|\bwhich (one|ones)\b|\bwhich (two|three|four)\b|"
                      r"\bwhich (is|are|would|should|could|can|do|does|needs?|works?)\b|"
                      r"\b(\w+est|most \w+|least \w+) of (those|these|them|the (two|three|four|five))\b",
                      re.IGNORECASE)
OTHER_ONES = re.compile(r"\b(any|some) other (ones|exercises?)\b|\bother ones\b|\banything else\b", re.IGNORECASE)
GAVE = r"(listed|mentioned|named|said|gave|wrote|asked about)"  # "the one I listed": the person's own list
I_GAVE = re.compile(rf"\bi {GAVE}\b", re.IGNORECASE)
ORDINAL = re.compile(r"\bthe (first|second|third|fourth|last|middle|other|final)(?: (?:one|exercise)s?\b|"
                     r"(?=\s*[?.!]*\s*$)|(?= (?:i|you) ))"
                     rf"( (i|you) {GAVE})?", re.IGNORECASE)
DESCRIPTOR = re.compile(r"\bthe ((?:[a-z][a-z-]* ){0,3}?[a-z][a-z-]*) (one|version|variation)\b(?! of\b)",
                        re.IGNORECASE)
NOT_DESCRIPTIONS = frozenset("first other same easier harder easy hard easiest hardest right best next last".split())
BOTH = re.compile(r"\b(both|either|neither)( of (them|those|these))?\b", re.IGNORECASE)
COUNTS = {2: "two", 3: "three", 4: "four", 5: "five"}
NUMBERS = {"both": 2, "either": 2, "neither": 2, **{word: n for n, word in COUNTS.items()}}
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1, "final": -1}

# What a turn after a problem asks of it.
INSTEAD = re.compile(r"\b(instead|gentler|alternatives?|something (else|easier|gentler))\b", re.IGNORECASE)
ABOUT_SITUATION = re.compile(
    r"\b(change|wrong|normal|stop|push(ing)? (through|on)|worse|better|worr(y|ied)|concern\w*|okay to|ok to|"
    r"keep (going|doing)|carry on|still|persist\w*|ongoing|for (a |\w+ )?(days?|weeks?|months?)|too long|"
    r"help(s|ed|ful)?|evidence|proven|research|studies|"
    r"see (someone|somebody|a doctor|a physio|about)|(is|could) (that|this|it) (be )?(the|a|an|what|normal|bad|ok)|"
    r"fix|should i (rest|stop|continue|keep))\b", re.IGNORECASE)

# A turn going on from the last ask: a joining word first, or asking for an example of what was said.
EXAMPLE = re.compile(r"\b(?:an?|some|for) (?:example|instance)s?\b", re.IGNORECASE)
CONTINUES = re.compile(rf"^\W*(?:(?:and|but|or|also|plus)\b|what if\b)|{EXAMPLE.pattern}", re.IGNORECASE)
CONDITION = re.compile(r"^\W*(?:(?:and|but|so)\s+)?(?:what\s+)?if\b", re.IGNORECASE)  # "and if it's still there?"

Renamed = tuple[str, list[Link], list[str]]  # the question with a member named, its links, the entries named


def the_set(question: str, state: State) -> tuple[str, ...]:
    """The exercises "those", "the two", "them" mean: the person's own list when they say so ("I listed"), else
    what the last answer cited, a list just given, what it quoted; with a number, the set of that size."""
    number = next((n for w, n in NUMBERS.items() if re.search(rf"\b{w}\b", question, re.IGNORECASE)), None)
    fresh = state.listed if state.listed_age == 0 else ()
    sources = [state.listed, state.shown, state.named] if I_GAVE.search(question) else \
        [state.shown, fresh, state.named, state.listed]
    if number:
        for source in sources:
            if len(source) == number:
                return source
        return state.recent[-number:] if len(state.recent) >= number else ()
    return next((source for source in [*sources, state.recent] if len(source) >= 2), ())


def set_member(catalog: Catalog, question: str, state: State) -> Renamed | None:
    """ "the first one I listed", "the middle one", "the wall one": that exercise, named."""
    members = the_set(question, state)
    match, doc = ORDINAL.search(question), None
    if match and members:
        which = match.group(1).lower()
        if which == "middle" and len(members) % 2 == 1:
            doc = members[len(members) // 2]
        elif which == "other":
            current = state.subject.doc_id if state.subject else None
            others = [d for d in members if d != current]
            doc = others[0] if len(others) == 1 else None
        elif which in ORDINALS and abs(ORDINALS[which]) <= len(members) - (ORDINALS[which] >= 0):
            doc = members[ORDINALS[which]]
    if doc is None and not match:
        match = DESCRIPTOR.search(question)
        if match and match.group(1).lower() not in NOT_DESCRIPTIONS:
            doc = _described(catalog, match.group(1), members, state.subject,
                             other=match.group(2).lower() != "one")  # "the single leg version": another
    if doc is None or match is None:
        return None
    return _renamed(catalog, put_in(question, match, catalog.phrase(doc)), [doc])


def both(catalog: Catalog, question: str, state: State) -> Renamed | None:
    """ "do both need something to hold on to?": both of the two being discussed, named."""
    match = BOTH.search(question)
    members = the_set(question, state) if match else ()
    if not match or len(members) != 2:
        return None
    word = match.group(1).lower()
    joined = f" {'or' if word == 'either' else 'nor' if word == 'neither' else 'and'} ".join(
        catalog.phrase(d) for d in members)
    return _renamed(catalog, put_in(question, match, f"{match.group(1)} {joined}"), list(members))


def _renamed(catalog: Catalog, rewritten: str, members: list[str]) -> Renamed:
    """The rewritten question read again, so it is resolved as if the person had named the entries."""
    links = catalog.links(rewritten)
    return rewritten, links, doc_ids(links) or members


def _described(catalog: Catalog, words: str, members: Sequence[str], subject: Entity | None,
               other: bool) -> str | None:
    """The exercise a few words describe ("wall", "hands and knees", "single leg"), among the set first; for a
    version, another than the subject, of its family ("bridge")."""
    wanted = {singular(w) for w in normalize(words).split() if w not in ("and", "with", "the", "a", "on")}
    if not wanted:
        return None
    family = (word_set(catalog.title[subject.doc_id]) - wanted
              if subject and subject.kind == "exercise" else set())

    def score(doc: str) -> float:
        name = len(wanted & catalog.words[doc])
        return (3 * name + 2 * len(wanted & catalog.described[doc]) + len(wanted & catalog.text_words[doc])
                + (1.5 if family & catalog.words[doc] and name else 0))

    skip = subject.doc_id if subject and other else None
    for pool in (members, catalog.exercises):
        scored = sorted(((score(d), d) for d in pool if d != skip), reverse=True)
        if scored and scored[0][0] >= 3 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
            return scored[0][1]
    return None


def about_situation(catalog: Catalog, question: str, state: State, draft: bool) -> Resolution | None:
    """ "what should I do instead?" after a painful exercise: its easier version and its cautions; other asks
    about the problem ("should I push through it?") are read together with it."""
    subject = state.situation_subject
    situation = state.situation or ""
    if (INSTEAD.search(question) or OTHER_ONES.search(question)) and subject is not None:
        standalone = f"{situation.rstrip('.!?')}, {lower_first(question)}"
        return Resolution(sentence(standalone), "situation", (subject.doc_id,),
                          draft=_instead_draft(catalog, subject.doc_id, situation) if draft else None)
    if INSTEAD.search(question) or ABOUT_SITUATION.search(question):
        topic = state.subject if subject is None and state.subject and state.subject.kind == "topic" else None
        if topic is not None and not topic.said:
            topic = replace(topic, phrase=state.heading) if state.heading else None  # a title is no noun phrase
        if topic is not None:  # a problem told with no exercise: the passage the answer drew on names it
            match = pronoun(question)
            standalone = put_in(question, match, topic.phrase) if match else attach(question, topic.phrase)
            return Resolution(sentence(standalone, question), "situation", (topic.doc_id,))
        asked = lower_first(LEADING_FILLER.sub("", question).strip() or question)
        standalone = f"{situation.rstrip('.!? ')}, {asked}"
        return Resolution(sentence(standalone), "situation", (subject.doc_id,) if subject else ())
    return None


def _instead_draft(catalog: Catalog, doc: str, situation: str) -> Draft:
    """The exercise's first "Make it easier" lines, the cautions closest to the problem, the easier exercise it
    names, and the general advice on making an exercise easier."""
    from .compose import Draft, best_lines, passage_lines

    sections = catalog.sections[doc]
    points: list[tuple[str, Chunk]] = []
    easier = sections.get("Make it easier")
    if easier:
        points += [(line, easier) for line in passage_lines(easier)[:3]]
    cautions = sections.get("Cautions")
    if cautions:
        points += [(line, cautions) for line in best_lines(cautions, situation, 2)]
    for other in catalog.exercises_in(easier.text if easier else "", exclude=doc)[:1]:
        summary = catalog.sections[other].get("Summary")
        if summary:
            points += [(line, summary) for line in passage_lines(summary)[:1]]
    general = catalog.sections.get("safe-progression", {}).get("Making an exercise easier")
    if general and len(points) < 6:
        points += [(line, general) for line in best_lines(general, situation + " too hard easier", 1)]
    return Draft(f"An easier version of {catalog.phrase(doc)}, and its cautions:", points[:7])


def continued(question: str, state: State) -> Resolution | None:
    """ "and if it hurts in my joints?", "give me an example with a band": a turn that goes on from the last ask,
    with nothing of its own to put the subject into, read joined to that ask (as it was read, standing alone)
    when glute answered it."""
    if not (state.answered and state.last_standalone and CONTINUES.search(question)):
        return None
    before = LEADING_FILLER.sub("", state.last_standalone).strip().rstrip("?.!, ")
    return Resolution(sentence(f"{before}, {lower_first(question)}", question), "ask")
