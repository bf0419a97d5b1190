"""Turns that refer back to a set of exercises or to a problem, answered from the entries themselves.

"Which one is the easiest?", "which can I do lying down?" choose among the exercises the conversation named, by
each entry's own facts (level, position, equipment, easier/harder notes), and cite them; "the first one I listed",
"the wall one", "do both ..." name members of that set. "What should I do instead?" after "my knee hurts when I do
it" is answered with that exercise's easier version and its cautions. No search is needed: the set or the
exercise is known, and what to say of it is in named sections."""

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

# What a choice among exercises is about.
EASE = re.compile(r"\b(easiest|easier|gentle(r|st)?|simplest|start with|begin with|beginners?|least (hard|demanding|"
                  r"difficult|challenging)|lowest load|safest|least load)\b", re.IGNORECASE)
HARDNESS = re.compile(r"\b(hardest|most (challenging|difficult|demanding|intense)|toughest|advanced)\b", re.IGNORECASE)
POSITIONS = {
    "lying": (re.compile(r"\b(lying|lie down|lay down|laying|on the floor|on my back|on my side|in bed)\b", re.I),
              ("side-lying", "supine", "prone"), "done lying down"),
    "standing": (re.compile(r"\b(standing|stand up|on my feet|upright)\b", re.I), ("standing",), "done standing"),
    "quadruped": (re.compile(r"\b(hands and knees|all fours|kneeling)\b", re.I), ("quadruped",),
                  "done on hands and knees"),
}
NOT_FLOOR = re.compile(r"\b(can'?t|cannot|can not|unable to|struggle to|hard to|difficult to|don'?t want to) "
                       r"(get|go|kneel|lie) (down )?(on|onto|to) (the )?(floor|ground|mat)\b|\b(not|off) (on )?the "
                       r"(floor|ground)\b", re.IGNORECASE)  # so: standing
NO_KIT = re.compile(r"\b(nothing|no (extra |other )?(kit|equipment|gear|bands?|weights?)|without (any )?(extra )?(kit|"
                    r"equipment|gear|bands?|weights?)|body ?weight only|just my (own )?body|travel\w*|away from home|"
                    r"at home)\b", re.IGNORECASE)
PROGRESS = re.compile(r"\b(progress\w*|harder|advance|level up)\b", re.IGNORECASE)

# What a turn after a problem asks of it.
INSTEAD = re.compile(r"\b(instead|gentler|alternatives?|something (else|easier|gentler))\b", re.IGNORECASE)
ABOUT_SITUATION = re.compile(
    r"\b(change|wrong|normal|stop|push(ing)? (through|on)|worse|better|worr(y|ied)|concern\w*|okay to|ok to|"
    r"keep (going|doing)|carry on|still|persist\w*|ongoing|for (a |\w+ )?(days?|weeks?|months?)|too long|"
    r"help(s|ed|ful)?|evidence|proven|research|studies|"
    r"see (someone|somebody|a doctor|a physio|about)|(is|could) (that|this|it) (be )?(the|a|an|what|normal|bad|ok)|"
    r"fix|should i (rest|stop|continue|keep))\b", re.IGNORECASE)

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


def choice(catalog: Catalog, question: str, state: State, draft: bool) -> Resolution | None:
    """ "which of those is the easiest?", "which can I do lying down?", "any other ones I could do?": chosen
    from the set by the entries' own facts, each cited."""
    other = bool(OTHER_ONES.search(question)) and not SET_PICK.search(question)
    members = the_set(question, state) if not other else tuple(
        d for d in catalog.exercises if d not in (*state.listed, *state.shown))
    if not members:
        return None
    said = NOT_FLOOR.sub(" standing ", " ".join(filter(None, (question, state.situation if other else None))))
    positions = [p for p, (pattern, _, _) in POSITIONS.items() if pattern.search(said)]
    kit = bool(NO_KIT.search(question))
    ease, hard = bool(EASE.search(question)), bool(HARDNESS.search(question))
    if not (positions or kit or ease or hard):
        if other:
            return None
        return Resolution(sentence(_name_the_set(question, catalog.listing(members))), "set", tuple(members))
    chosen = list(members)
    if positions:
        allowed = {p for name in positions for p in POSITIONS[name][1]}
        chosen = [d for d in chosen if catalog.facts[d].get("position") in allowed]
    progressing = bool(PROGRESS.search(question))
    if kit:
        chosen = [d for d in chosen if not catalog.needs_kit(d, progressing)]
    if ease or hard or other:  # other ones: the easiest first
        chosen.sort(key=catalog.ease, reverse=hard)
    if other:
        standalone = f"{state.situation.rstrip('.!?')}: what other exercises could I do?" if state.situation \
            else "what other exercises could I do?"
    else:
        standalone = _name_the_set(question, catalog.listing(members))
    set_draft = _set_draft(catalog, chosen[:4] if other else chosen, members, positions, kit, progressing, ease,
                           hard, other) if draft else None
    return Resolution(sentence(standalone), "situation" if other else "set", tuple(chosen or members)[:1],
                      draft=set_draft)


def _set_draft(catalog: Catalog, docs: list[str], members: Sequence[str], positions: list[str], kit: bool,
               progressing: bool, ease: bool, hard: bool, other: bool) -> Draft:
    """The choice, said in a lead that names the chosen entries in the order their points cite them, then
    each one's deciding facts: its level, position or equipment (At a glance), and for the easiest its
    "Make it easier" notes, or for progressing without kit its first "Make it harder" step."""
    from .compose import Draft, passage_lines

    wanted = (["position"] if positions else []) + (["equipment"] if kit and not progressing else [])
    if ease or hard or not wanted:
        wanted.append("level")
    predicates = [(f"is {POSITIONS[p][2]}", f"are {POSITIONS[p][2]}") for p in positions]
    if kit:
        predicates.append(("can be made harder without extra equipment",) * 2 if progressing else
                          ("needs nothing more than a mat or a wall", "need nothing more than a mat or a wall"))
    one, many = " and ".join(p[0] for p in predicates), " and ".join(p[1] for p in predicates)
    group = "the other exercises" if other else f"these {COUNTS.get(len(members), '')}".rstrip()
    facts = catalog.facts
    if not docs:
        docs = list(members)
        lead = f"None of {group} {one}; what my sources say about each:"
    elif ease or hard:
        pick, rest = docs[0], docs[1:]
        word = "easiest to start with" if ease else "hardest"
        level = facts[pick].get("level", "")
        if predicates:
            lead = (f"Of {group}, {catalog.listing(docs)} {one if len(docs) == 1 else many}; the {word} is "
                    f"{catalog.phrase(pick)} ({level}):")
        else:
            levels = [(lv, [d for d in rest if facts[d].get("level") == lv])
                      for lv in dict.fromkeys(facts[d].get("level", "") for d in rest)]
            rest = [d for _, ds in levels for d in ds]
            docs = [pick, *rest]
            said = ", and ".join(f"{catalog.listing(ds)} {'is' if len(ds) == 1 else 'are'} {lv} level"
                                 for lv, ds in levels)
            lead = f"Of {group}, the {word} is {catalog.phrase(pick)} ({level})" + (f"; {said}:" if said else ":")
    else:
        lead = f"Of {group}, {catalog.listing(docs)} {one if len(docs) == 1 else many}:"
    points: list[tuple[str, Chunk]] = []
    for index, doc in enumerate(docs):
        glance = catalog.sections[doc].get("At a glance")
        if glance:
            points += [(line, glance) for line in passage_lines(glance)
                       if line.split(":", 1)[0].strip().lower() in wanted]
        harder = catalog.sections[doc].get("Make it harder")
        if progressing and kit and harder:
            points += [(line, harder) for line in passage_lines(harder)[:1]]
        easier = catalog.sections[doc].get("Make it easier")
        if ease and index == 0 and easier:
            points += [(line, easier) for line in passage_lines(easier)[:2]]
    return Draft(lead, points[:8])


def _name_the_set(question: str, listing: str) -> str:
    """ "which of those is the easiest?" -> "which of the clamshell and the hip hitch is the easiest?"; "which can
    I do?" -> "which of ... can I do?"; "the hardest of those" -> "the hardest of ..."."""
    match = SET_PICK.search(question)
    if not match:
        return question
    text = match.group(0)
    named = re.sub(r"\b(those|these|them|the (two|three|four|five|\w+ ones?))( (two|three|four|five)( ones)?)?$",
                   listing, text, count=1, flags=re.IGNORECASE)
    if named == text:  # "which one", "which two", "which can"
        words = text.split(" ", 1)
        tail = words[1] if len(words) > 1 and not re.fullmatch(r"(one|ones|two|three|four)", words[1], re.I) else ""
        named = f"{words[0]} of {listing}" + (f" {tail}" if tail else "")
    return question[:match.start()] + named + question[match.end():]


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
