"""Follow-ups -> standalone questions, decided by what the turn lacks.

A turn in a conversation may need nothing from before (a self-contained question, a new story: it is left as
written), or one of four things:

- the entity: "how do I make it easier?" after a clamshell answer -> "how do I make the clamshell easier?"; "how
  high should my hips go?" (an ask only a movement answers) -> "... during the double-leg bridge?";
- the ask: "and for the clamshell?" after "where does the band go?" -> "where does the band go for the clamshell?";
  "and if it hurts in my joints?" or "give me an example" after a general answer is read joined to that ask;
- the set: "which one is the easiest?" after an answer listing exercises picks from those exercises by their level
  and "Make it easier" notes, and the answer cites them; "the first one I listed", "the wall one" name one of them;
  "do both need something to hold on to?" is answered for each of the two;
- the situation: "what should I do instead?" after "my knee hurts when I do it" is answered with that exercise's
  easier version and cautions; "my pelvis keeps rocking back", "and if I can't keep my balance?" or "what should I
  change?" after an exercise is a problem met doing it, answered from its own mistakes, easier version, tips and
  cautions (trouble.py); "should I push through it?" is read with the problem it follows.

Some turns carry nothing yet are answered from the entries' facts rather than by a search, with or without a
history: a message naming its own set ("out of clamshells, wall presses and bridges, which can I do?", "what's the
difference between them?": choices.py) and a question about kit ("which exercise is a tube band for?": kit.py).

What the turn lacks is read from the turn itself (no exercise, no ask, a pronoun, an ellipsis); where rules cannot
tell whether an ask about doing something leans on the exercise just discussed, the words are weighed against the
passages (BM25): an ask whose words belong to the general entries carries nothing. Which of an entry's lines answer
a problem or an ask put to each of a set is weighed by meaning: the turn's vector (one encoding, with the
assistant's encoder) against the statements', plus shared words. This module makes the decision; conversation.py
reads the history into a `State`, followups.py, choices.py, kit.py and trouble.py answer the turns that refer back,
catalog.py holds the corpus facts they use and phrasing.py edits the sentence.

Everything else is rules, dictionaries and one BM25 lookup at most, so most follow-ups cost about a millisecond
(a turn answered by meaning adds its one encoding, and skips the search); the state read from a history is
remembered, so a growing conversation is read once."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypedDict

from .catalog import STATES_REMEMBERED, Catalog, Encoder, Entity, doc_ids, doc_of
from .choices import choice, for_each, in_message_set
from .conversation import GENERAL, NEW_TOPIC, PROBLEM, Resolution, State, after_answer, after_question, entity_in
from .followups import CONDITION, EXAMPLE, OTHER_ONES, SET_PICK, about_situation, both, continued, set_member, the_set
from .guard import medical_scopes
from .intent import INTENT_PATTERNS, detect_intents
from .kit import KIT_FRAME, kit_choice
from .linking import Link, normalize
from .phrasing import (
    BARE_PRONOUNS,
    DURING,
    PRONOUN,
    QUESTION_WORDS,
    attach,
    original_span,
    pronoun,
    put_for_pronoun,
    put_in,
    sentence,
    slotted,
)
from .trouble import trouble

if TYPE_CHECKING:
    from .retrieve import Retriever

__all__ = ["Catalog", "Entity", "Resolution", "State", "clean_history", "condense", "resolve"]

MAX_TURNS = 20
EXERCISE_PRONOUN = re.compile(r"\b(this|that|the) exercise\b", re.IGNORECASE)
SINGULAR = frozenset({"it", "this one", "that one", "this exercise", "that exercise", "the exercise"})
PLURAL = frozenset({"them", "these", "those"})
# Words that carry no ask of their own: with them removed, "and for side steps?" is only an exercise.
FILLER = frozenset("""and but also so ok okay what about how for the a an same question then now with on of one ones
version variation exercise please too as well again instead do you thing hmm right alright cool thanks""".split())
BARE_WORDS = FILLER | frozenset("is it its are whats does i make can could should would there way any to get".split())
# "and the minimus?", "what about a looped band?": a few words after a joining word, nothing else.
ELLIPSIS = re.compile(r"^\s*(?:(?:ok(?:ay)?|so|but)\s+)?(?P<join>(?:and\s+|or\s+)?(?:(?:for|with|on|what about|"
                      r"how about|same (?:question|thing) for)\s+)?)"
                      r"(?P<x>(?:(?:the|a|an|my)\s+)?[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})\s*[?.!]*\s*$", re.IGNORECASE)
SUBJECT_SHARE = 0.6  # the subject's best BM25 score, as a share of the best overall, that keeps it as the subject

INTENT_QUESTIONS = {
    "harder": "how do I make {name} harder?",
    "easier": "how do I make {name} easier?",
    "howto": "how do I do {name}?",
    "mistakes": "what are common mistakes with {name}?",
    "tips": "what are tips for {name}?",
    "cautions": "is {name} safe?",
    "muscles": "what muscles does {name} work?",
    "equipment": "what equipment do I need for {name}?",
    "dosage": "how often and how many of {name} should I do?",
    "measure": "how high or how far should I go in {name}?",
    "placement": "where does the band go for {name}?",
    "pace": "how soon can I progress {name}?",
    "why": "what is {name} good for?",
    "about": "what is {name}?",
}
PERFORMING = frozenset({"howto", "mistakes", "tips", "dosage", "measure", "placement"})  # asks of a movement
GENERIC_INTENTS = frozenset({"about", "why", "muscles"})  # asks that fit an exercise and a topic alike
EXERCISE_INTENTS = frozenset({"harder", "easier", "howto", "mistakes", "tips", "equipment", "dosage", "measure",
                              "placement", "pace"})


class Frame(TypedDict, total=False):
    """A question's ask with a slot for the entry ("where does the band go for {}?"), and the entry's kind."""

    frame: str
    frame_kind: str


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


def resolve(question: str, history: list[dict[str, str]], source: Retriever | Catalog,
            encode: Encoder | None = None, story: bool = False) -> Resolution:
    """The turn as a standalone question (and, for a set, an alternative or a problem, its answer's passages);
    `encode`, the query encoder, lets a turn the rules cannot place be weighed by meaning. A `story` (a message
    with sentences of context around its asks) carries nothing."""
    catalog = source if isinstance(source, Catalog) else Catalog.of(source, encode)
    if not history or story:  # a story is read whole by the pipeline; only a set it lists is answered here
        return _from_entries(catalog, question, draft=True) or Resolution(question)
    return resolve_turn(catalog, question, read_history(catalog, history), draft=True)


def condense(question: str, history: list[dict[str, str]], source: Retriever | Catalog) -> str:
    """A question that can be answered on its own."""
    return resolve(question, history, source).question


def read_history(catalog: Catalog, history: list[dict[str, str]]) -> State:
    """The conversation's state after these turns; remembered per history, so each turn is read once."""
    return _state(catalog, tuple((t["role"], t["content"]) for t in history))


def _state(catalog: Catalog, key: tuple[tuple[str, str], ...]) -> State:
    """The state after the turns in `key`: the state before the last turn, remembered, moved on by that turn."""
    state = catalog.states.get(key)
    if state is not None:
        return state
    before = _state(catalog, key[:-1]) if key else State()
    if not key:
        return before
    role, content = key[-1]
    if role == "assistant":
        state = after_answer(catalog, before, content)
    else:  # a user turn leaves what it was resolved to: read it as it was read then
        state = after_question(catalog, before, content, resolve_turn(catalog, content, before, draft=False))
    if len(catalog.states) >= STATES_REMEMBERED:
        catalog.states.clear()
    catalog.states[key] = state
    return state


def resolve_turn(catalog: Catalog, question: str, state: State, draft: bool) -> Resolution:
    """One turn read against the state before it (remembered: the next turn reads this one again). A turn read
    as history is read without drafting its answer; asked, it is read again, so an answer drawn from the entries
    (a set, a problem, kit) is never lost to a reading that skipped it."""
    done = catalog.resolutions.get((question, state, True)) or (
        None if draft else catalog.resolutions.get((question, state, False)))
    if done is not None:
        return done
    if len(catalog.resolutions) >= STATES_REMEMBERED:
        catalog.resolutions.clear()
    done = catalog.resolutions[(question, state, draft)] = _decide(catalog, question, state, draft)
    return done


def _decide(catalog: Catalog, question: str, state: State, draft: bool) -> Resolution:
    """What the turn lacks, tried in order: nothing (a set or kit of its own, a fresh start), a member of the set
    or each of a pair, an entry named alone, a choice among the set, the last ask (of other kit, of a thing named
    alone), a problem with the exercise, the problem told, the entity."""
    links = catalog.links(question)
    named = doc_ids(links)
    fresh = _from_entries(catalog, question, draft, named)
    if fresh is not None:  # "out of clamshells and bridges, which can I do?": a set or kit of its own
        return fresh
    if NEW_TOPIC.search(question):
        return Resolution(question, subjects=tuple(named), **_frame(catalog, question, links))
    picked = set_member(catalog, question, state) if not named else None
    pair = both(catalog, question, state) if not named and picked is None else None
    if pair is not None:  # "do both need something to hold on to?": asked of each
        return for_each(catalog, question, sentence(pair[0], question), pair[2], draft)
    if picked is not None:
        question, links, named = picked
    if named:
        return _named(catalog, question, links, named, state, picked is not None, draft)
    painful = state.situation_fresh and state.situation_subject is not None
    if SET_PICK.search(question) or (OTHER_ONES.search(question) and not painful):
        return choice(catalog, question, state, draft) or Resolution(question)  # no set to choose from
    ellipsis = ELLIPSIS.match(question)
    if ellipsis and ellipsis.group("join").strip() and state.kit_fresh:  # "and a looped band?"
        kit = kit_choice(catalog, KIT_FRAME.format(ellipsis.group("x").strip()), draft, carry="ask")
        if kit is not None:
            return kit
    if (ellipsis and ellipsis.group("join").strip() and state.frame and not detect_intents(ellipsis.group("x"))
            and not PRONOUN.search(ellipsis.group("x")) and not QUESTION_WORDS.search(ellipsis.group("x"))
            and _fits_any(state.frame, state.frame_kind)):
        # "and the minimus?": a thing glute has no name for, asked what was asked of the topic before
        return Resolution(sentence(state.frame.format(ellipsis.group("x").strip()), question), "ask",
                          frame=state.frame, frame_kind=state.frame_kind)
    troubled = trouble(catalog, question, state, draft)
    if troubled is not None:  # "my pelvis keeps rocking back": the exercise's own mistakes, easier version
        return troubled
    if state.situation_fresh:
        about = about_situation(catalog, question, state, draft)
        if about is not None:
            return about
    return _entity(catalog, question, state)


def _from_entries(catalog: Catalog, question: str, draft: bool, named: list[str] | None = None) -> Resolution | None:
    """A turn that needs nothing from before but is answered from the entries' facts, not by a search: a set it
    names itself ("are these beginner exercises?" after naming three), or kit ("which exercise is a tube band
    for?")."""
    named = doc_ids(catalog.links(question)) if named is None else named
    if sum(catalog.kind[d] == "exercise" for d in named) >= 2:
        return in_message_set(catalog, question, draft)
    return kit_choice(catalog, question, draft) if not named else None


def _named(catalog: Catalog, question: str, links: list[Link], named: list[str], state: State,
           picked: bool, draft: bool) -> Resolution:
    """A turn naming an entry: self-contained, unless naming it is all it does ("and for the clamshell?") or the
    entries it names are topics named in passing while the exercise is still the subject."""
    frame = _frame(catalog, question, links)
    elliptical = not _content_words(_without(normalize(question), links))
    carry = "set" if picked else "none"
    subject = state.subject
    passing = (not elliptical and subject is not None and subject.kind == "exercise"
               and all(catalog.kind[d] == "topic" for d in named))
    troubled = trouble(catalog, question, state, draft) if passing and not picked else None
    if troubled is not None:  # "what if my hip drops when I do it?": a problem with the exercise
        return troubled
    match = pronoun(question)
    if passing and match and subject is not None and match.group(1).lower() in SINGULAR:
        # "what if my hip drops when I do it?": a topic named in passing, the exercise still the subject
        replaced = sentence(put_in(question, match, subject.phrase), question)
        return Resolution(replaced, "entity", (subject.doc_id, *named), **_frame_for(replaced, subject))
    if not elliptical and EXAMPLE.search(question) and not picked:  # "an example for squats?": the last ask, of it
        went_on = _continued(question, state)
        if went_on is not None:
            return replace(went_on, subjects=tuple(named))
    if not elliptical or not state.frame:
        return Resolution(question, carry, tuple(named), **frame)
    entity = entity_in(catalog, question, named[0])
    kind = catalog.kind[named[0]]
    frame_intents = set(detect_intents(state.frame.replace("{}", " ")))
    if kind != state.frame_kind and (kind == "topic" or not frame_intents or frame_intents - GENERIC_INTENTS):
        return Resolution(question, carry, tuple(named), **frame)  # "what about running?" after a how-to
    standalone = sentence(state.frame.format(entity.phrase if kind != "exercise" else catalog.phrase(named[0])))
    return Resolution(standalone, "set" if picked else "ask", tuple(named), state.frame, kind)


def _entity(catalog: Catalog, question: str, state: State) -> Resolution:
    """A turn naming no entry: the subject put in where a pronoun stands, or where the ask lacks it."""
    subject = state.subject
    if subject is None:
        return _continued(question, state) or Resolution(question)
    if subject.kind == "topic" and CONDITION.match(question):  # "and if it's still there after two days?": the
        went_on = _continued(question, state)                     # "it" is what the last ask was about
        if went_on is not None:
            return went_on
    match = pronoun(question)
    word = match.group(1).lower() if match else ""
    if match and subject.kind == "topic" and word not in BARE_PRONOUNS:  # "that one", "them": exercises
        return Resolution(question, **_pronoun_frame(question, match))
    if match and state.variant and state.asked_variant and word in ("it", "that one", "this one"):
        subject = catalog.entity(state.variant, said=True)  # "how do I do that one?" after an easier version
    if EXERCISE_PRONOUN.search(question) and subject.kind != "exercise" and state.recent:
        subject = catalog.entity(state.recent[-1], said=True)  # "back to the exercise"
    if subject.kind == "topic" and not subject.said:  # a topic only an answer named: no words of theirs to put
        return _continued(question, state) or Resolution(question)  # back, but "and if ..." goes on from the ask
    if match:
        group = the_set(question, state) if word in PLURAL else ()
        phrase = catalog.listing(group) if subject.doc_id in group else subject.phrase  # "them": the set
        replaced = put_for_pronoun(question, match, phrase)  # "it's too hard" -> "the ... bridge is too hard"
        refusal = "out_of_scope_medical" if medical_scopes(replaced) and not medical_scopes(question) else None
        return Resolution(sentence(replaced, question), "entity", (subject.doc_id,), refusal=refusal,
                          **_frame_for(replaced, subject))
    if GENERAL.search(question):
        return Resolution(question)  # "how often should I exercise?": about exercising, not one exercise
    intents = detect_intents(question)
    if intents and _bare(question) and intents[0] in INTENT_QUESTIONS:
        if subject.kind == "topic" and intents[0] in EXERCISE_INTENTS:
            return Resolution(question)
        standalone = INTENT_QUESTIONS[intents[0]].format(name=subject.phrase)
        return Resolution(standalone, "entity", (subject.doc_id,), **_frame_for(standalone, subject))
    if not _content_words(question) or subject.kind == "topic":  # a topic is general: an ask naming nothing leans
        return _continued(question, state) or Resolution(question)  # on it by a pronoun, or going on from the ask
    if not (_performing(question, intents) or _leans_on(catalog, question, subject)):
        return Resolution(question)
    standalone = attach(question, subject.phrase)
    return Resolution(standalone, "entity", (subject.doc_id,), **_frame_for(standalone, subject))


def _continued(question: str, state: State) -> Resolution | None:
    """A turn going on from the last ask ("and if it hurts in my joints?"); "and the minimus?" names a thing of its
    own, which is what it is about."""
    return None if ELLIPSIS.match(question) else continued(question, state)


def _performing(question: str, intents: list[str]) -> bool:
    """An ask about doing a movement ("how high should my hips go?", "where should I be looking?", "how many
    should I do?"): with no exercise of its own and nothing general in it, only the exercise being discussed can
    answer it. A problem told ("my knee hurts on stairs") is the person's own story, not such an ask."""
    return not PROBLEM.search(question) and (bool(DURING.search(question)) or bool(set(intents) & PERFORMING))


def _leans_on(catalog: Catalog, question: str, subject: Entity) -> bool:
    """Whether an ask naming nothing is about the subject: its words find the subject's passages about as
    well as any (BM25), rather than a general entry's."""
    terms = catalog.retriever.vocabulary.in_corpus_terms(question)
    ranked = [(c, s) for c, s in catalog.retriever.bm25_ranking(terms, 12) if not c.startswith("source#")]
    if not ranked:
        return subject.kind == "exercise"
    own = max((s for c, s in ranked if doc_of(c) == subject.doc_id), default=0.0)
    return own >= SUBJECT_SHARE * ranked[0][1] or catalog.kind.get(doc_of(ranked[0][0])) == "exercise"


# ---------------------------------------------------------------------- the ask, as a frame for the next turn


def _frame(catalog: Catalog, question: str, links: list[Link]) -> Frame:
    """The question's ask with its (first) entry as a slot, to carry to the next entry named alone."""
    if not links:
        return {}
    start, end = original_span(question, links[0].start, links[0].end)
    before = re.search(r"\b(the|a|an|my|your|those|these|this|that)\s+$", question[:start], re.IGNORECASE)
    if before:
        start = before.start()
    body = slotted(question, start, end)
    if body is None or body.count("{}") != 1 or not _content_words(body.replace("{}", " ")):
        return {}
    return {"frame": body.strip(), "frame_kind": catalog.kind[links[0].doc_id]}


def _frame_for(standalone: str, subject: Entity) -> Frame:
    """The ask of a question the subject was put into, so the next entry named alone can take it."""
    at = standalone.find(subject.phrase)
    body = slotted(standalone, at, at + len(subject.phrase)) if at >= 0 else None
    return {"frame": body.strip(), "frame_kind": subject.kind} if body is not None else {}


def _pronoun_frame(question: str, match: re.Match[str]) -> Frame:
    """The ask around a pronoun glute could not resolve ("ok how do I do that one?" -> "how do I do {}?"), so the
    next turn naming an exercise alone can still take it."""
    body = slotted(question, match.start(), match.end())
    if body is None or not detect_intents(body):
        return {}
    return {"frame": body.strip(), "frame_kind": "exercise"}


def _fits_any(frame: str, kind: str | None) -> bool:
    """A frame that can take an entry of any kind: a topic's ask, or a generic one ("what is {}?")."""
    intents = set(detect_intents(frame.replace("{}", " ")))
    return kind == "topic" or (bool(intents) and intents <= GENERIC_INTENTS)


# ---------------------------------------------------------------------- what is left of the turn's own words


def _content_words(text: str) -> list[str]:
    """The words that ask something: all but filler ("and for side steps?" has none besides the name)."""
    return [w for w in normalize(text).split() if w not in FILLER]


def _without(normalized: str, links: list[Link]) -> str:
    """The text with the names cut out, each to the end of its last word ("extension" of "extensions")."""
    for link in sorted(links, key=lambda link: -link.start):
        end = normalized.find(" ", link.end)
        normalized = normalized[: link.start] + " " + normalized[end if end >= 0 else len(normalized):]
    return normalized


def _bare(question: str) -> bool:
    """Nothing but an intent and words that frame it: "and easier?", "whats the harder version?"."""
    text = question.lower()
    for pattern in INTENT_PATTERNS.values():
        text = pattern.sub(" ", text)
    return all(w in BARE_WORDS for w in normalize(text).split())
