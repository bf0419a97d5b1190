"""Follow-ups -> standalone questions, decided by what the turn lacks.

A turn in a conversation may need nothing from before (a self-contained question, a new story: it is left as
written), or one of four things:

- the entity: "how do I make it easier?" after a clamshell answer -> "how do I make the clamshell easier?";
- the ask: "and for the clamshell?" after "where does the band go?" -> "where does the band go for the clamshell?";
- the set: "which one is the easiest?" after an answer listing exercises picks from those exercises by their level
  and "Make it easier" notes, and the answer cites them; "the first one I listed", "the wall one" name one of them;
- the situation: "what should I do instead?" after "my knee hurts when I do it" is answered with that exercise's
  easier version and cautions; "should I push through it?" is read with the problem it follows.

What the turn lacks is read from the turn itself (no exercise, no ask, a pronoun, an ellipsis); where rules cannot
tell whether an ask about doing something ("which leg should get tired first?") leans on the exercise just
discussed, the words are weighed against the passages (BM25): an ask whose words belong to the general entries
carries nothing. This module makes that decision; conversation.py reads the history into a `State`, followups.py
answers set and situation turns, catalog.py holds the corpus facts they use and phrasing.py edits the sentence.

Everything is rules, dictionaries and one BM25 lookup at most, so a follow-up costs well under a millisecond; the
state read from a history is remembered, so a growing conversation is read once."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypedDict

from .catalog import STATES_REMEMBERED, Catalog, Entity, doc_ids, doc_of
from .conversation import GENERAL, NEW_TOPIC, Resolution, State, after_answer, after_question, entity_in
from .followups import OTHER_ONES, SET_PICK, about_situation, both, choice, set_member, the_set
from .guard import medical_scopes
from .intent import INTENT_PATTERNS, detect_intents
from .linking import Link, normalize
from .phrasing import BARE_PRONOUNS, PRONOUN, QUESTION_WORDS, attach, original_span, pronoun, put_in, sentence, slotted

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


def resolve(question: str, history: list[dict[str, str]], source: Retriever | Catalog) -> Resolution:
    """The turn as a standalone question (and, for a set or an alternative, its answer's passages)."""
    catalog = source if isinstance(source, Catalog) else Catalog.of(source)
    if not history:
        return Resolution(question)
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
    """One turn read against the state before it (remembered: the next turn reads this one again). A set or
    situation turn remembered without its draft (read as history) is drafted again when it is the turn asked."""
    key = (question, state)
    done = catalog.resolutions.get(key)
    if done is not None and (done.draft is not None or not draft or done.carry not in ("set", "situation")):
        return done
    if len(catalog.resolutions) >= STATES_REMEMBERED:
        catalog.resolutions.clear()
    done = catalog.resolutions[key] = _decide(catalog, question, state, draft)
    return done


def _decide(catalog: Catalog, question: str, state: State, draft: bool) -> Resolution:
    """What the turn lacks, tried in order: nothing (a fresh start), a member of the set, an entry named alone,
    a choice among the set, the last ask, the problem told, the entity."""
    links = catalog.links(question)
    named = doc_ids(links)
    if NEW_TOPIC.search(question):
        return Resolution(question, subjects=tuple(named), **_frame(catalog, question, links))
    picked = (set_member(catalog, question, state) or both(catalog, question, state)) if not named else None
    if picked is not None:
        question, links, named = picked
    if named:
        return _named(catalog, question, links, named, state, picked is not None)
    painful = state.situation_fresh and state.situation_subject is not None
    if SET_PICK.search(question) or (OTHER_ONES.search(question) and not painful):
        return choice(catalog, question, state, draft) or Resolution(question)  # no set to choose from
    ellipsis = ELLIPSIS.match(question)
    if (ellipsis and ellipsis.group("join").strip() and state.frame and not detect_intents(ellipsis.group("x"))
            and not PRONOUN.search(ellipsis.group("x")) and not QUESTION_WORDS.search(ellipsis.group("x"))
            and _fits_any(state.frame, state.frame_kind)):
        # "and the minimus?": a thing glute has no name for, asked what was asked of the topic before
        return Resolution(sentence(state.frame.format(ellipsis.group("x").strip()), question), "ask",
                          frame=state.frame, frame_kind=state.frame_kind)
    if state.situation_fresh:
        about = about_situation(catalog, question, state, draft)
        if about is not None:
            return about
    return _entity(catalog, question, state)


def _named(catalog: Catalog, question: str, links: list[Link], named: list[str], state: State,
           picked: bool) -> Resolution:
    """A turn naming an entry: self-contained, unless naming it is all it does ("and for the clamshell?")."""
    frame = _frame(catalog, question, links)
    elliptical = not _content_words(_without(normalize(question), links))
    carry = "set" if picked else "none"
    subject = state.subject
    match = pronoun(question)
    if (not elliptical and match and subject is not None and subject.kind == "exercise"
            and all(catalog.kind[d] == "topic" for d in named) and match.group(1).lower() in SINGULAR):
        # "what if my hip drops when I do it?": a topic named in passing, the exercise still the subject
        replaced = sentence(put_in(question, match, subject.phrase), question)
        return Resolution(replaced, "entity", (subject.doc_id, *named), **_frame_for(replaced, subject))
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
        return Resolution(question)
    match = pronoun(question)
    word = match.group(1).lower() if match else ""
    if match and subject.kind == "topic" and word not in BARE_PRONOUNS:  # "that one", "them": exercises
        return Resolution(question, **_pronoun_frame(question, match))
    if match and state.variant and state.asked_variant and word in ("it", "that one", "this one"):
        subject = catalog.entity(state.variant, said=True)  # "how do I do that one?" after an easier version
    if EXERCISE_PRONOUN.search(question) and subject.kind != "exercise" and state.recent:
        subject = catalog.entity(state.recent[-1], said=True)  # "back to the exercise"
    if subject.kind == "topic" and not subject.said:
        return Resolution(question)  # a topic only an answer named: no words of the person's to put back
    if match:
        after = question[match.end():]
        if re.match(r"'s\b", after):  # "it's too hard" -> "the single-leg bridge is too hard"
            after = (" has" if re.match(r"'s (been|got)\b", after) else " is") + after[2:]
        group = the_set(question, state) if word in PLURAL else ()
        phrase = catalog.listing(group) if subject.doc_id in group else subject.phrase  # "them": the set
        replaced = question[:match.start()] + phrase + after
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
    if not _content_words(question) or subject.kind == "topic" or not _leans_on(catalog, question, subject):
        return Resolution(question)  # a topic is general: an ask naming nothing leans on it only by pronoun
    standalone = attach(question, subject.phrase)
    return Resolution(standalone, "entity", (subject.doc_id,), **_frame_for(standalone, subject))


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
