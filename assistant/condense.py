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
carries nothing. The history is read from text only (the UI sends no citations back): the points of glute's own
answers are looked up among the passages, so the exercises an answer cited are known exactly.

Everything is rules, dictionaries and one BM25 lookup at most, so a follow-up costs well under a millisecond; the
state read from a history is remembered, so a growing conversation is read once."""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .guard import medical_scopes
from .intent import INTENT_PATTERNS, detect_intents
from .linking import Link, Linker, normalize
from .text import ASK_PHRASE, sentences

if TYPE_CHECKING:
    from .answer import Answer
    from .chunking import Chunk
    from .compose import Draft
    from .retrieve import Retriever

MAX_TURNS = 20
STATES_REMEMBERED = 512  # histories whose reading is kept (a server sees many conversations)

PRONOUN = re.compile(r"\b(this exercise|that exercise|the exercise|this one|that one|it|them|these|those|this|that)\b"
                     r"(?! (is|are|was) (the )?(first|second|third|last|middle)\b)", re.IGNORECASE)
EXERCISE_PRONOUN = re.compile(r"\b(this|that|the) exercise\b", re.IGNORECASE)
QUESTION_WORDS = re.compile(r"\b(how|what|when|why|where|which|should|can|could|do|does|is|are)\b", re.IGNORECASE)
# Before "that", a word that makes it a pronoun ("is that", "for that"); after a noun it joins a clause
# ("something easier that still trains balance").
BEFORE_PRONOUN = frozenset("""is are was were for about with do does did of on to in at like after before from how why
what than try doing make makes made be been explain repeat show describe mean clarify say said""".split())
FEEL = frozenset("feel feels felt feeling".split())  # "feel it burning": the sensation, not the exercise
EXERCISE_VERBS = frozenset("do doing did does try trying tried perform performing with during after from on start "
                           "started".split())
SINGULAR = frozenset({"it", "this one", "that one", "this exercise", "that exercise", "the exercise"})
PLURAL = frozenset({"them", "these", "those"})
# Words that carry no ask of their own: with them removed, "and for side steps?" is only an exercise.
FILLER = frozenset("""and but also so ok okay what about how for the a an same question then now with on of one ones
version variation exercise please too as well again instead do you same thing hmm right alright cool thanks""".split())
BARE_WORDS = FILLER | frozenset("is it its are what whats how do does i make can could should would there way any to "
                                "get about".split())
LEADING_FILLER = re.compile(r"^\s*((and|but|also|so|ok(ay)?|then|now|actually|fine|right|well|alright|cool|great|"
                            r"thanks)\b[\s,.!-]*)+", re.IGNORECASE)
# A message that says it starts afresh carries nothing, whatever it contains.
NEW_TOPIC = re.compile(r"\b(new (topic|question|problem|thing)|separate (thing|question|issue|topic)|something else|"
                       r"different (question|topic|thing|issue)|unrelated|another (question|thing|issue)|"
                       r"change of (topic|subject)|changing the subject|on another note)\b", re.IGNORECASE)
# "which of those ...", "which one ...": a choice among the exercises being discussed.
SET_PICK = re.compile(r"\b(which|what)( one| ones)?( of)? (those|these|them|the (two|three|four|five|\w+ ones?))"
                      r"( (two|three|four|five)( ones)?)?\b|\bwhich (one|ones)\b|\bwhich (two|three|four)\b|"
                      r"\bwhich (is|are|would|should|could|can|do|does|needs?|works?)\b|"
                      r"\b(\w+est|most \w+|least \w+) of (those|these|them|the (two|three|four|five))\b",
                      re.IGNORECASE)
OTHER_ONES = re.compile(r"\b(any|some) other (ones|exercises?)\b|\bother ones\b|\banything else\b", re.IGNORECASE)
ORDINAL = re.compile(r"\bthe (first|second|third|fourth|last|middle|other|final)(?: (?:one|exercise)s?\b|"
                     r"(?=\s*[?.!]*\s*$)|(?= (?:i|you) ))"
                     r"( (i|you) (listed|mentioned|named|said|gave|wrote|asked about))?", re.IGNORECASE)
DESCRIPTOR = re.compile(r"\bthe ((?:[a-z][a-z-]* ){0,3}?[a-z][a-z-]*) (one|version|variation)\b(?! of\b)",
                        re.IGNORECASE)
# "and the minimus?", "what about a looped band?": a few words after a joining word, nothing else.
ELLIPSIS = re.compile(r"^\s*(?:(?:ok(?:ay)?|so|but)\s+)?(?P<join>(?:and\s+|or\s+)?(?:(?:for|with|on|what about|"
                      r"how about|same (?:question|thing) for)\s+)?)"
                      r"(?P<x>(?:(?:the|a|an|my)\s+)?[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})\s*[?.!]*\s*$", re.IGNORECASE)
# "is it normal to ...": an "it" that stands for nothing
EXPLETIVE = re.compile(r"^\s+(?:really\s+|still\s+|even\s+)?(normal|ok|okay|safe|fine|bad|good|possible|worth|better|"
                       r"best|common|necessary|important|wise|advisable|alright|true|too \w+)\s+(to|if|that|when)\b",
                       re.IGNORECASE)
BOTH = re.compile(r"\b(both|either|neither)( of (them|those|these))?\b", re.IGNORECASE)
COUNTS = {2: "two", 3: "three", 4: "four", 5: "five"}
NUMBERS = {"both": 2, "two": 2, "either": 2, "neither": 2, "three": 3, "four": 4, "five": 5}
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
KIT_WORDS = re.compile(r"\b(bands?|weights?|dumbbells?|barbells?|step|box|cuffs?|tub(e|ing)|bench|kettlebells?)\b",
                       re.IGNORECASE)
EVERYWHERE = re.compile(r"\b(mat|floor|wall|towel|worktop|railing|table|optional)\b", re.IGNORECASE)  # to hand
LEVELS = ("beginner", "intermediate", "advanced")
LOWER_LOAD = re.compile(r"\balready (one of |among )?(the )?lower[- ]load\b", re.IGNORECASE)

# A first-person problem: what "what should I do instead?" or "should I push through it?" is about.
PROBLEM = re.compile(r"\b(hurts?|hurting|hurt|pain\w*|aches?|aching|achy|sore\w*|sharp|feel (it|this|that) (in|at|on)|"
                     r"(can'?t|cannot|unable to|can only|struggle to) (do|manage|keep|hold|get|feel|lift|balance|last|"
                     r"finish)|struggl\w*|keeps? \w+ing|drop\w*|wobbl\w*|shak\w*|click\w*|pinch\w*|burn\w*|numb\w*|"
                     r"tight|cramp\w*|rock\w*|roll\w*|twist\w*|tilt\w*|cav\w+ in|collaps\w*|twinge\w*|"
                     r"too (hard|difficult))\b", re.IGNORECASE)
FIRST_PERSON = re.compile(r"\b(i|i'm|i've|my|me|im)\b", re.IGNORECASE)
INSTEAD = re.compile(r"\b(instead|gentler|alternatives?|something (else|easier|gentler))\b", re.IGNORECASE)
ABOUT_SITUATION = re.compile(
    r"\b(change|wrong|normal|stop|push(ing)? (through|on)|worse|better|worr(y|ied)|concern\w*|okay to|ok to|"
    r"keep (going|doing)|carry on|still|persist\w*|ongoing|for (a |\w+ )?(days?|weeks?|months?)|too long|"
    r"help(s|ed|ful)?|evidence|proven|research|studies|"
    r"see (someone|somebody|a doctor|a physio|about)|(is|could) (that|this|it) (be )?(the|a|an|what|normal|bad|ok)|"
    r"fix|should i (rest|stop|continue|keep))\b", re.IGNORECASE)
VARIANT = re.compile(r"\b(version|variation|instead|alternative|swap|replace)\b", re.IGNORECASE)
SITUATION_TURNS = 3  # a problem is referred back to for this many user turns after it was told
# An ask about doing the exercise ("where should I be looking?") rather than about the person's body in general.
DURING = re.compile(r"\bmy (knees?|hips?|back|pelvis|feet|foot|legs?|ankles?|toes|body|butt|bum|glutes?|thighs?|eyes|"
                    r"head|arms?|hands?|core|stomach|balance)\b|"
                    r"\bi('m| am| be)? (feel|look|breath|hold|keep|lean|wobbl|shak|lose|mov|lift|lower|push|squeez|"
                    r"balanc)\w*", re.IGNORECASE)
# A turn that asks about exercising in general, in so many words, leans on nothing.
GENERAL = re.compile(r"\b(the exercises|exercises|an exercise|any exercise|in general|generally|every exercise|"
                     r"each exercise|all (the|these|of the) exercises|exercising|(?<!the )(?<!this )(?<!that )exercise|"
                     r"workouts?|training|train|warm(ing)?[- ]up|cool(ing)?[- ]down|rest days?|"
                     r"my (program|programme|routine))\b", re.IGNORECASE)
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


@dataclass(frozen=True)
class Entity:
    """An entry being talked about, and the words a sentence names it by ("the clamshell", "my outer hip pain")."""

    doc_id: str
    phrase: str
    kind: str
    said: bool = True  # the person named it (a topic only an answer cited has no words of theirs to reuse)


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
    heading: str = ""  # the section the last answer first cited, in words ("outer hip pain and gluteal ...")
    recent: tuple[str, ...] = ()  # exercises talked about, oldest first
    situation: str | None = None  # the problem the person described, in their words
    situation_subject: Entity | None = None
    situation_age: int = 0
    variant: str | None = None  # another exercise the last answer offered as a version of the subject
    asked_variant: bool = False  # the last ask was for a version (easier, harder, instead)


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


def resolve(question: str, history: list[dict[str, str]], source: Retriever | Catalog) -> Resolution:
    """The turn as a standalone question (and, for a set or an alternative, its answer's passages)."""
    catalog = source if isinstance(source, Catalog) else Catalog.of(source)
    if not history:
        return Resolution(question)
    return catalog.resolve(question, catalog.state(history), draft=True)


def condense(question: str, history: list[dict[str, str]], source: Retriever | Catalog) -> str:
    """A question that can be answered on its own."""
    return resolve(question, history, source).question


_CATALOGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Catalog:
    """What condensing needs to know of the corpus, prepared once per retriever: the entries' names and kinds,
    each exercise's level, position, equipment and easier/harder neighbours, and every quoted line's passage."""

    @classmethod
    def of(cls, retriever: Retriever) -> Catalog:
        catalog = _CATALOGS.get(retriever)
        if catalog is None:
            catalog = _CATALOGS[retriever] = cls(retriever)
        return catalog

    def __init__(self, retriever: Retriever):
        from .compose import passage_lines

        self.retriever = retriever
        self.linker: Linker = retriever.linker
        self.sections: dict[str, dict[str, Chunk]] = {}
        self.kind: dict[str, str] = {}
        self.title: dict[str, str] = {}
        self.lines: dict[str, list[str]] = {}  # a quoted statement -> the passages holding it
        for chunk in retriever.chunks:
            if chunk.kind == "article":
                continue
            self.sections.setdefault(chunk.doc_id, {})[chunk.section] = chunk
            self.kind[chunk.doc_id], self.title[chunk.doc_id] = chunk.kind, chunk.title
            for line in passage_lines(chunk):
                for key in {_key(line), *(_key(s) for s in _sentences(line))}:
                    self.lines.setdefault(key, []).append(chunk.chunk_id)
        self.exercises = sorted(d for d, k in self.kind.items() if k == "exercise")
        self.facts = {d: self._facts(d) for d in self.exercises}
        self.words = {d: self._name_words(d) for d in self.exercises}
        self.described = {d: {_singular(w) for w in normalize(" ".join(
            (self.facts[d].get("position", ""), self.facts[d].get("equipment", "")))).split()} for d in self.exercises}
        self.text_words = {d: {_singular(w) for c in self.sections[d].values() for w in normalize(c.text).split()}
                           for d in self.exercises}
        self._links: dict[str, list[Link]] = {}
        self._states: dict[tuple[tuple[str, str], ...], State] = {}
        self._resolved: dict[tuple[str, State], Resolution] = {}
        # doc -> the exercises easier than it: those its "Make it easier" names, and those whose "Make it harder"
        # names it ("start with a bridge on both legs", "move on to the single-leg bridge")
        self.easier_than: dict[str, set[str]] = {d: set() for d in self.exercises}
        for doc in self.exercises:
            for section in ("Make it easier", "Make it harder"):
                chunk = self.sections[doc].get(section)
                for other in self._exercises_in(chunk.text if chunk else "", exclude=doc):
                    if section == "Make it easier":
                        self.easier_than[doc].add(other)
                    else:
                        self.easier_than[other].add(doc)

    # ------------------------------------------------------------------ corpus facts

    def _facts(self, doc: str) -> dict[str, str]:
        glance = self.sections[doc].get("At a glance")
        facts = {}
        for line in (glance.text.splitlines() if glance else []):
            name, _, value = line.lstrip("- ").partition(":")
            facts[name.strip().lower()] = value.strip().rstrip(".")
        easier = self.sections[doc].get("Make it easier")
        facts["lower_load"] = "yes" if easier and LOWER_LOAD.search(easier.text) else ""
        return facts

    def _name_words(self, doc: str) -> set[str]:
        chunk = next(iter(self.sections[doc].values()))
        names = " ".join((chunk.title, *chunk.aliases))
        return {_singular(w) for w in normalize(names).split()}

    def _exercises_in(self, text: str, exclude: str | None = None) -> list[str]:
        return [d for d in dict.fromkeys(link.doc_id for link in self.links(text))
                if self.kind.get(d) == "exercise" and d != exclude]

    def links(self, text: str) -> list[Link]:
        """The entries a text names (remembered: a conversation's turns are read again at every turn)."""
        found = self._links.get(text)
        if found is None:
            if len(self._links) > 4 * STATES_REMEMBERED:
                self._links.clear()
            found = self._links[text] = [link for link in self.linker.links(text) if link.doc_id in self.kind]
        return found

    def level(self, doc: str) -> int:
        value = self.facts.get(doc, {}).get("level", "")
        return LEVELS.index(value) if value in LEVELS else len(LEVELS)

    def ease(self, doc: str) -> tuple[int, int, int]:
        """Lower is easier: the level, then an entry noting it is already among the lower-load options, then how
        many of the others' easier/harder notes place it below them."""
        above = sum(doc in self.easier_than.get(other, ()) for other in self.exercises)
        below = len(self.easier_than.get(doc, ()))
        return self.level(doc), 0 if self.facts[doc].get("lower_load") else 1, below - above

    def needs_kit(self, doc: str, progressing: bool = False) -> bool:
        if progressing:
            chunk = self.sections[doc].get("Make it harder")
            return bool(chunk and KIT_WORDS.search(chunk.text))
        items = [i.strip() for i in re.split(r",(?![^()]*\))", self.facts[doc].get("equipment", "")) if i.strip()]
        return any(not EVERYWHERE.search(item) for item in items if item != "none")

    def phrase(self, doc: str) -> str:
        title = re.sub(r"\s*\([^)]*\)", "", self.title[doc])
        return f"the {title.lower()}" if self.kind[doc] == "exercise" else title[0].lower() + title[1:]

    def entity(self, doc: str, said: bool = False) -> Entity:
        return Entity(doc, self.phrase(doc), self.kind[doc], said)

    def listing(self, docs: Sequence[str]) -> str:
        names = [self.phrase(d) for d in docs]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    # ------------------------------------------------------------------ reading the history

    def state(self, history: list[dict[str, str]]) -> State:
        """The conversation's state after these turns; remembered per history, so each turn is read once."""
        key = tuple((t["role"], t["content"]) for t in history)
        return self._state(key)

    def _state(self, key: tuple[tuple[str, str], ...]) -> State:
        state = self._states.get(key)
        if state is not None:
            return state
        before = self._state(key[:-1]) if key else State()
        if not key:
            return before
        role, content = key[-1]
        state = self._after_answer(before, content) if role == "assistant" else self._after_question(before, content)
        if len(self._states) >= STATES_REMEMBERED:
            self._states.clear()
        self._states[key] = state
        return state

    def _after_question(self, state: State, text: str) -> State:
        resolution = self.resolve(text, state, draft=False)
        said = [link.doc_id for link in self.links(text)]
        exercises = [d for d in dict.fromkeys(resolution.subjects) if self.kind[d] == "exercise"]
        subject = state.subject
        if resolution.subjects:
            chosen = exercises[0] if exercises else resolution.subjects[0]
            if chosen in said:
                subject = self._entity_in(text, chosen)
            elif subject is None or subject.doc_id != chosen:
                subject = self.entity(chosen, said=True)
        elif NEW_TOPIC.search(text) or (resolution.carry == "none" and GENERAL.search(text)):
            subject = None
        situation, situation_subject, age = state.situation, state.situation_subject, state.situation_age + 1
        told = _problem_told(text)
        if told:  # the problem is about the exercise when the sentences telling it name it (or "do it")
            exercise = subject if subject is not None and subject.kind == "exercise" else None
            situation = self._resolve_pronouns(told, exercise) if exercise else told
            about = exercise if exercise and exercise.doc_id in {link.doc_id for link in self.links(situation)} \
                else None
            situation_subject, age = about, 0
        elif NEW_TOPIC.search(text):
            situation, situation_subject = None, None
        recent = tuple(d for d in state.recent if d not in exercises) + tuple(exercises)
        listed = [d for d in dict.fromkeys(said) if self.kind[d] == "exercise"]
        intents = set(detect_intents(resolution.question))
        return replace(state, subject=subject, frame=resolution.frame or state.frame,
                       frame_kind=resolution.frame_kind or state.frame_kind,
                       listed=tuple(listed) if len(listed) >= 2 else state.listed,
                       listed_age=0 if len(listed) >= 2 else state.listed_age + 1, last_question=text,
                       recent=recent[-6:], situation=situation, situation_subject=situation_subject,
                       situation_age=age, variant=None,
                       asked_variant=bool({"easier", "harder"} & intents) or bool(VARIANT.search(text)))

    def _after_answer(self, state: State, text: str) -> State:
        """What an answer of glute's leaves: the passages its points quote (looked up), their exercises."""
        cited = self._cited(text)
        if not cited:  # a refusal, or an answer in other words than the passages': names are all there is
            if "[1]" not in text:
                return replace(state, shown=(), named=(), variant=None)
            docs = [d for d in dict.fromkeys(link.doc_id for link in self.links(text))]
        else:
            docs = list(dict.fromkeys(c.split("#", 1)[0] for c in cited))
        exercises = [d for d in docs if self.kind.get(d) == "exercise"]
        quoted = [line for line in text.splitlines()[1:] if line.startswith("- ")]
        named = [d for line in quoted for d in self._exercises_in(line)]
        offered = [link.doc_id for line in quoted for link in self.links(line)
                   if " " in link.alias and self.kind[link.doc_id] == "exercise" and link.doc_id not in exercises]
        shown = tuple(exercises)
        subject = state.subject
        if exercises and (subject is None or subject.doc_id not in exercises):
            subject = self.entity(exercises[0], said=True)
        elif not exercises and len(docs) > 1 and (subject is None or not subject.said):
            subject = None  # an answer drawn from several entries (a story's): no one of them is the subject
        elif not exercises and docs and (subject is None or (subject.kind != "exercise" and subject.doc_id != docs[0]
                                                             and not subject.said)):
            subject = self._topic_in(state.last_question, docs[0])
        others = list(dict.fromkeys(offered))
        variant = others[0] if state.asked_variant and len(others) == 1 else None
        recent = tuple(d for d in state.recent if d not in exercises[:1]) + tuple(exercises[:1])
        first = self.retriever.by_id.get(cited[0]) if cited and len(docs) == 1 else None
        heading = first.section[0].lower() + first.section[1:] if first and first.section not in (
            "Summary", "At a glance") else ""
        return replace(state, subject=subject, shown=shown, named=tuple(dict.fromkeys(named)), variant=variant,
                       recent=recent[-6:], heading=heading)

    def _topic_in(self, question: str, doc: str) -> Entity:
        """A topic an answer cited, in the person's words when their question used its name's words ("where is
        the gluteus medius" -> "the gluteus medius" for the anatomy entry)."""
        title = normalize(self.title[doc]).split()
        words = TOKEN.findall(question.lower())
        best: tuple[int, int] = (0, 0)
        for start in range(len(words)):
            end = start
            while end < len(words) and words[end] in title:
                end += 1
            if end - start > best[1] - best[0]:
                best = (start, end)
        if best[1] - best[0] < 2:  # a general question about exercising: "it" is exercise
            return Entity(doc, "exercise", "topic", True) if GENERAL.search(question) else self.entity(doc, False)
        phrase = " ".join(words[best[0]:best[1]])
        if best[0] and words[best[0] - 1] in ("the", "my"):
            phrase = f"{words[best[0] - 1]} {phrase}"
        return Entity(doc, phrase, "topic", True)

    def _cited(self, text: str) -> list[str]:
        """The chunk ids an answer's points were quoted from, in the order of their markers."""
        by_marker: dict[str, set[str]] = {}
        for line in text.splitlines():
            markers = re.findall(r"\[(\d+)\]", line)
            if not markers or not line.startswith("- "):
                continue
            body = re.sub(r"\s*\[\d+\]", "", line[2:]).strip()
            found: set[str] = set()
            for key in (_key(body), *(_key(s) for s in _sentences(body))):
                found.update(self.lines.get(key, ()))
            if found:
                for marker in markers:
                    by_marker[marker] = by_marker[marker] & found if by_marker.get(marker) else set(found)
        lead = text.split("\n", 1)[0]
        led = list(dict.fromkeys(link.doc_id for link in self.links(lead))) if by_marker else []
        cited: list[str] = []
        for marker in sorted(by_marker, key=int):
            options = sorted(by_marker[marker])
            if len(options) > 1:  # "Level: beginner." is in many passages: the lead names them in marker order
                used = {c.split("#", 1)[0] for c in cited}
                named = [c for doc in led for c in options if c.split("#", 1)[0] == doc]
                options = [c for c in named if c.split("#", 1)[0] not in used] or named or options
            cited.append(options[0])
        return cited

    # ------------------------------------------------------------------ one turn

    def resolve(self, question: str, state: State, draft: bool) -> Resolution:
        """One turn read against the state before it (remembered: the next turn reads this one again)."""
        key = (question, state)
        done = self._resolved.get(key)
        if done is not None and (done.draft is not None or not draft or done.carry not in ("set", "situation")):
            return done
        if len(self._resolved) >= STATES_REMEMBERED:
            self._resolved.clear()
        done = self._resolved[key] = self._resolve(question, state, draft)
        return done

    def _resolve(self, question: str, state: State, draft: bool) -> Resolution:
        links = self.links(question)
        named = list(dict.fromkeys(link.doc_id for link in links))
        if NEW_TOPIC.search(question):
            return Resolution(question, subjects=tuple(named), **self._frame(question, links))
        picked = (self._set_member(question, state) or self._both(question, state)) if not named else None
        if picked is not None:
            question, links, named = picked
        if named:
            return self._named(question, links, named, state, picked is not None)
        painful = state.situation and state.situation_age < SITUATION_TURNS and state.situation_subject
        if SET_PICK.search(question) or (OTHER_ONES.search(question) and not painful):
            return self._choice(question, state, draft) or Resolution(question)  # no set to choose from
        ellipsis = ELLIPSIS.match(question)
        if (ellipsis and ellipsis.group("join").strip() and state.frame and not detect_intents(ellipsis.group("x"))
                and not PRONOUN.search(ellipsis.group("x")) and not QUESTION_WORDS.search(ellipsis.group("x"))
                and _fits_any(state.frame, state.frame_kind)):
            # "and the minimus?": a thing glute has no name for, asked what was asked of the topic before
            return Resolution(_sentence(state.frame.format(ellipsis.group("x").strip()), question), "ask",
                              frame=state.frame, frame_kind=state.frame_kind)
        if state.situation and state.situation_age < SITUATION_TURNS:
            about = self._about_situation(question, state, draft)
            if about is not None:
                return about
        return self._entity(question, state)

    def _named(self, question: str, links: list[Link], named: list[str], state: State, picked: bool) -> Resolution:
        """A turn naming an entry: self-contained, unless naming it is all it does ("and for the clamshell?")."""
        frame = self._frame(question, links)
        rest = _without(normalize(question), links)
        elliptical = not [w for w in rest.split() if w not in FILLER]
        carry = "set" if picked else "none"
        subject = state.subject
        pronoun = _pronoun(question)
        if (not elliptical and pronoun and subject is not None and subject.kind == "exercise"
                and all(self.kind[d] == "topic" for d in named) and pronoun.group(1).lower() in SINGULAR):
            # "what if my hip drops when I do it?": a topic named in passing, the exercise still the subject
            replaced = _sentence(question[:pronoun.start()] + subject.phrase + question[pronoun.end():], question)
            return Resolution(replaced, "entity", (subject.doc_id, *named), **self._frame_for(replaced, subject))
        if not elliptical or not state.frame:
            return Resolution(question, carry, tuple(named), **frame)
        entity = self._entity_in(question, named[0])
        kind = self.kind[named[0]]
        frame_intents = set(detect_intents(state.frame.replace("{}", " ")))
        if kind != state.frame_kind and (kind == "topic" or not frame_intents or frame_intents - GENERIC_INTENTS):
            return Resolution(question, carry, tuple(named), **frame)  # "what about running?" after a how-to
        standalone = _sentence(state.frame.format(entity.phrase if kind != "exercise" else self.phrase(named[0])))
        return Resolution(standalone, "set" if picked else "ask", tuple(named), state.frame, kind)

    def _frame(self, question: str, links: list[Link]) -> dict:
        """The question's ask with its (first) entry as a slot, to carry to the next entry named alone."""
        if not links:
            return {}
        start, end = _original_span(question, links[0].start, links[0].end)
        before = re.search(r"\b(the|a|an|my|your|those|these|this|that)\s+$", question[:start], re.IGNORECASE)
        if before:
            start = before.start()
        body = LEADING_FILLER.sub("", question[:start]) + "{}" + question[end:]
        words = [w for w in normalize(body.replace("{}", " ")).split() if w not in FILLER]
        if not words or body.count("{}") != 1 or "{" in body.replace("{}", "") or "}" in body.replace("{}", ""):
            return {}
        return {"frame": body.strip(), "frame_kind": self.kind[links[0].doc_id]}

    def _entity_in(self, question: str, doc: str) -> Entity:
        """The entity as the person named it: the title for an exercise, their own words for a topic."""
        if self.kind[doc] == "exercise":
            return self.entity(doc, said=True)
        link = next(link for link in self.links(question) if link.doc_id == doc)
        start, end = _original_span(question, link.start, link.end)
        before = re.search(r"\b(the|my|your)\s+$", question[:start], re.IGNORECASE)
        phrase = (before.group(0) if before else "") + question[start:end]
        if QUESTION_WORDS.search(phrase):  # an alias that is itself a question ("how hard should exercise feel")
            return self.entity(doc, said=False)
        return Entity(doc, phrase.strip(), "topic", True)

    # ------------------------------------------------------------------ sets

    def _the_set(self, question: str, state: State) -> tuple[str, ...]:
        number = next((n for w, n in NUMBERS.items() if re.search(rf"\b{w}\b", question, re.IGNORECASE)), None)
        listed_first = re.search(r"\bi (listed|mentioned|named|said|gave|wrote|asked about)\b", question, re.I)
        fresh = state.listed if state.listed_age == 0 else ()
        sources = [state.listed, state.shown, state.named] if listed_first else \
            [state.shown, fresh, state.named, state.listed]
        if number:
            for source in sources:
                if len(source) == number:
                    return source
            return state.recent[-number:] if len(state.recent) >= number else ()
        return next((source for source in [*sources, state.recent] if len(source) >= 2), ())

    def _set_member(self, question: str, state: State) -> tuple[str, list[Link], list[str]] | None:
        """ "the first one I listed", "the middle one", "the wall one": that exercise, named."""
        members = self._the_set(question, state)
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
            if match and match.group(1).lower() not in ("first", "other", "same", "easier", "harder", "easy", "hard",
                                                         "easiest", "hardest", "right", "best", "next", "last"):
                doc = self._described(match.group(1), members, state.subject,
                                      other=match.group(2).lower() != "one")  # "the single leg version": another
        if doc is None:
            return None
        rewritten = question[:match.start()] + self.phrase(doc) + question[match.end():]
        links = self.links(rewritten)
        return rewritten, links, list(dict.fromkeys(link.doc_id for link in links)) or [doc]

    def _both(self, question: str, state: State) -> tuple[str, list[Link], list[str]] | None:
        """ "do both need something to hold on to?": both of the two being discussed, named."""
        match = BOTH.search(question)
        members = self._the_set(question, state) if match else ()
        if not match or len(members) != 2:
            return None
        word = match.group(1).lower()
        joined = f" {'or' if word == 'either' else 'nor' if word == 'neither' else 'and'} ".join(
            self.phrase(d) for d in members)
        rewritten = question[:match.start()] + f"{match.group(1)} {joined}" + question[match.end():]
        links = self.links(rewritten)
        return rewritten, links, list(dict.fromkeys(link.doc_id for link in links)) or list(members)

    def _described(self, words: str, members: Sequence[str], subject: Entity | None, other: bool) -> str | None:
        """The exercise a few words describe ("wall", "hands and knees", "single leg"), among the set first; for a
        version, another than the subject, of its family ("bridge")."""
        wanted = {_singular(w) for w in normalize(words).split() if w not in ("and", "with", "the", "a", "on")}
        if not wanted:
            return None
        family = ({_singular(w) for w in normalize(self.title[subject.doc_id]).split()} - wanted
                  if subject and subject.kind == "exercise" else set())

        def score(doc: str) -> float:
            name = len(wanted & self.words[doc])
            return (3 * name + 2 * len(wanted & self.described[doc]) + len(wanted & self.text_words[doc])
                    + (1.5 if family & self.words[doc] and name else 0))

        skip = subject.doc_id if subject and other else None
        for pool in (members, self.exercises):
            scored = sorted(((score(d), d) for d in pool if d != skip), reverse=True)
            if scored and scored[0][0] >= 3 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
                return scored[0][1]
        return None

    def _choice(self, question: str, state: State, draft: bool) -> Resolution | None:
        """ "which of those is the easiest?", "which can I do lying down?", "any other ones I could do?": chosen
        from the set by the entries' own facts, each cited."""
        other = bool(OTHER_ONES.search(question)) and not SET_PICK.search(question)
        members = self._the_set(question, state) if not other else tuple(
            d for d in self.exercises if d not in (*state.listed, *state.shown))
        if not members:
            return None
        said = NOT_FLOOR.sub(" standing ", " ".join(filter(None, (question, state.situation if other else None))))
        positions = [p for p, (pattern, _, _) in POSITIONS.items() if pattern.search(said)]
        kit = bool(NO_KIT.search(question))
        ease, hard = bool(EASE.search(question)), bool(HARDNESS.search(question))
        if not (positions or kit or ease or hard):
            if other:
                return None
            listing = self.listing(members)
            rest = _name_the_set(question, listing)
            return Resolution(_sentence(rest), "set", tuple(members))
        chosen = list(members)
        if positions:
            allowed = {p for name in positions for p in POSITIONS[name][1]}
            chosen = [d for d in chosen if self.facts[d].get("position") in allowed]
        progressing = bool(PROGRESS.search(question))
        if kit:
            chosen = [d for d in chosen if not self.needs_kit(d, progressing)]
        if ease or hard or other:  # other ones: the easiest first
            chosen.sort(key=self.ease, reverse=hard)
        carry = "situation" if other else "set"
        listing = self.listing(members) if not other else "the other exercises"
        if other:
            standalone = f"{state.situation.rstrip('.!?')}: what other exercises could I do?" if state.situation \
                else "what other exercises could I do?"
        else:
            standalone = _name_the_set(question, listing)
        set_draft = self._set_draft(chosen[:4] if other else chosen, members, positions, kit, progressing, ease, hard,
                                    other) if draft else None
        return Resolution(_sentence(standalone), carry, tuple(chosen or members)[:1], draft=set_draft)

    def _set_draft(self, docs: list[str], members: Sequence[str], positions: list[str], kit: bool,
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
        if not docs:
            docs = list(members)
            lead = f"None of {group} {one}; what my sources say about each:"
        elif ease or hard:
            pick, rest = docs[0], docs[1:]
            word = "easiest to start with" if ease else "hardest"
            level = self.facts[pick].get("level", "")
            if predicates:
                lead = (f"Of {group}, {self.listing(docs)} {one if len(docs) == 1 else many}; the {word} is "
                        f"{self.phrase(pick)} ({level}):")
            else:
                levels = [(lv, [d for d in rest if self.facts[d].get("level") == lv])
                          for lv in dict.fromkeys(self.facts[d].get("level", "") for d in rest)]
                rest = [d for _, ds in levels for d in ds]
                docs = [pick, *rest]
                said = ", and ".join(f"{self.listing(ds)} {'is' if len(ds) == 1 else 'are'} {lv} level"
                                     for lv, ds in levels)
                lead = f"Of {group}, the {word} is {self.phrase(pick)} ({level})" + (f"; {said}:" if said else ":")
        else:
            lead = f"Of {group}, {self.listing(docs)} {one if len(docs) == 1 else many}:"
        points: list[tuple[str, Chunk]] = []
        for index, doc in enumerate(docs):
            glance = self.sections[doc].get("At a glance")
            if glance:
                points += [(line, glance) for line in passage_lines(glance)
                           if line.split(":", 1)[0].strip().lower() in wanted]
            harder = self.sections[doc].get("Make it harder")
            if progressing and kit and harder:
                points += [(line, harder) for line in passage_lines(harder)[:1]]
            easier = self.sections[doc].get("Make it easier")
            if ease and index == 0 and easier:
                points += [(line, easier) for line in passage_lines(easier)[:2]]
        return Draft(lead, points[:8])

    # ------------------------------------------------------------------ situations

    def _about_situation(self, question: str, state: State, draft: bool) -> Resolution | None:
        """ "what should I do instead?" after a painful exercise: its easier version and its cautions; other asks
        about the problem ("should I push through it?") are read together with it."""
        subject = state.situation_subject
        if (INSTEAD.search(question) or OTHER_ONES.search(question)) and subject is not None:
            standalone = f"{state.situation.rstrip('.!?')}, {_lower_first(question)}"
            return Resolution(_sentence(standalone), "situation", (subject.doc_id,),
                              draft=self._instead_draft(subject.doc_id, state.situation) if draft else None)
        if INSTEAD.search(question) or ABOUT_SITUATION.search(question):
            topic = state.subject if subject is None and state.subject and state.subject.kind == "topic" else None
            if topic is not None and not topic.said:
                topic = replace(topic, phrase=state.heading) if state.heading else None  # a title is no noun phrase
            if topic is not None:  # a problem told with no exercise: the passage the answer drew on names it
                pronoun = _pronoun(question)
                standalone = (question[:pronoun.start()] + topic.phrase + question[pronoun.end():] if pronoun
                              else _attach(question, topic.phrase))
                return Resolution(_sentence(standalone, question), "situation", (topic.doc_id,))
            situation = state.situation.rstrip(".!? ")
            asked = _lower_first(LEADING_FILLER.sub("", question).strip() or question)
            standalone = f"{situation}, {asked}"
            return Resolution(_sentence(standalone), "situation", (subject.doc_id,) if subject else ())
        return None

    def _instead_draft(self, doc: str, situation: str) -> Draft:
        from .compose import Draft, best_lines, passage_lines

        sections = self.sections[doc]
        points: list[tuple[str, Chunk]] = []
        easier = sections.get("Make it easier")
        if easier:
            points += [(line, easier) for line in passage_lines(easier)[:3]]
        cautions = sections.get("Cautions")
        if cautions:
            points += [(line, cautions) for line in best_lines(cautions, situation, 2)]
        for other in self._exercises_in(easier.text if easier else "", exclude=doc)[:1]:
            summary = self.sections[other].get("Summary")
            if summary:
                points += [(line, summary) for line in passage_lines(summary)[:1]]
        general = self.sections.get("safe-progression", {}).get("Making an exercise easier")
        if general and len(points) < 6:
            points += [(line, general) for line in best_lines(general, situation + " too hard easier", 1)]
        return Draft(f"An easier version of {self.phrase(doc)}, and its cautions:", points[:7])

    # ------------------------------------------------------------------ the entity

    def _entity(self, question: str, state: State) -> Resolution:
        """A turn naming no entry: the subject put in where a pronoun stands, or where the ask lacks it."""
        subject = state.subject
        if subject is None:
            return Resolution(question)
        pronoun = _pronoun(question)
        word = pronoun.group(1).lower() if pronoun else ""
        if pronoun and subject.kind == "topic" and word not in ("it", "this", "that"):  # "that one", "them": exercises
            return Resolution(question, **_pronoun_frame(question, pronoun))
        if pronoun and state.variant and state.asked_variant and word in ("it", "that one", "this one"):
            subject = self.entity(state.variant, said=True)  # "how do I do that one?" after an easier version
        if EXERCISE_PRONOUN.search(question) and subject.kind != "exercise" and state.recent:
            subject = self.entity(state.recent[-1], said=True)  # "back to the exercise"
        if subject.kind == "topic" and not subject.said:
            return Resolution(question)  # a topic only an answer named: no words of the person's to put back
        intents = detect_intents(question)
        if pronoun:
            after = question[pronoun.end():]
            if re.match(r"'s\b", after):  # "it's too hard" -> "the single-leg bridge is too hard"
                after = (" has" if re.match(r"'s (been|got)\b", after) else " is") + after[2:]
            group = self._the_set(question, state) if word in PLURAL else ()
            phrase = self.listing(group) if subject.doc_id in group else subject.phrase  # "them": the set
            replaced = question[:pronoun.start()] + phrase + after
            refusal = "out_of_scope_medical" if medical_scopes(replaced) and not medical_scopes(question) else None
            return Resolution(_sentence(replaced, question), "entity", (subject.doc_id,), refusal=refusal,
                              **self._frame_for(replaced, subject))
        content = [w for w in normalize(question).split() if w not in FILLER]
        if GENERAL.search(question):
            return Resolution(question)  # "how often should I exercise?": about exercising, not one exercise
        if intents and _bare(question) and intents[0] in INTENT_QUESTIONS:
            if subject.kind == "topic" and intents[0] in EXERCISE_INTENTS:
                return Resolution(question)
            standalone = INTENT_QUESTIONS[intents[0]].format(name=subject.phrase)
            return Resolution(standalone, "entity", (subject.doc_id,), **self._frame_for(standalone, subject))
        if not content or subject.kind == "topic" or not self._leans_on(question, subject):
            return Resolution(question)  # a topic is general: an ask naming nothing leans on it only by pronoun
        standalone = _attach(question, subject.phrase)
        return Resolution(standalone, "entity", (subject.doc_id,), **self._frame_for(standalone, subject))

    def _frame_for(self, standalone: str, subject: Entity) -> dict:
        at = standalone.find(subject.phrase)
        if at < 0:
            return {}
        body = LEADING_FILLER.sub("", standalone[:at]) + "{}" + standalone[at + len(subject.phrase):]
        if "{" in body.replace("{}", "") or "}" in body.replace("{}", ""):
            return {}
        return {"frame": body.strip(), "frame_kind": subject.kind}

    def _resolve_pronouns(self, text: str, subject: Entity) -> str:
        match = PRONOUN.search(text)
        if not match or self.links(text):
            return text
        return text[:match.start()] + subject.phrase + text[match.end():]

    def _leans_on(self, question: str, subject: Entity) -> bool:
        """Whether an ask naming nothing is about the subject: its words find the subject's passages about as
        well as any (BM25), rather than a general entry's."""
        terms = self.retriever.vocabulary.in_corpus_terms(question)
        ranked = [(c, s) for c, s in self.retriever.bm25_ranking(terms, 12) if not c.startswith("source#")]
        if not ranked:
            return subject.kind == "exercise"
        own = max((s for c, s in ranked if c.split("#", 1)[0] == subject.doc_id), default=0.0)
        return own >= SUBJECT_SHARE * ranked[0][1] or self.kind.get(ranked[0][0].split("#", 1)[0]) == "exercise"


# ---------------------------------------------------------------------- text helpers


TOKEN = re.compile(r"[a-z0-9]+(?:['\u2019][a-z0-9]+)*")


def _original_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The characters of `text` that normalize() turned into normalized[start:end]."""
    position, first, last = 0, None, None
    for match in TOKEN.finditer(text.lower()):
        token = re.sub(r"['\u2019]", "", match.group(0))
        token_start, token_end = position, position + len(token)
        if first is None and token_end > start:
            first = match.start()
        if token_start < end:
            last = match.end()
        position = token_end + 1
    return (first or 0, last if last is not None else len(text))


def _without(normalized: str, links: list[Link]) -> str:
    """The text with the names cut out, each to the end of its last word ("extension" of "extensions")."""
    for link in sorted(links, key=lambda link: -link.start):
        end = normalized.find(" ", link.end)
        normalized = normalized[: link.start] + " " + normalized[end if end >= 0 else len(normalized):]
    return normalized


def _key(line: str) -> str:
    return " ".join(normalize(line).split())


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _bare(question: str) -> bool:
    """Nothing but an intent and words that frame it: "and easier?", "whats the harder version?"."""
    text = question.lower()
    for pattern in INTENT_PATTERNS.values():
        text = pattern.sub(" ", text)
    return all(w in BARE_WORDS for w in normalize(text).split())


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


def _fits_any(frame: str, kind: str | None) -> bool:
    """A frame that can take an entry of any kind: a topic's ask, or a generic one ("what is {}?")."""
    intents = set(detect_intents(frame.replace("{}", " ")))
    return kind == "topic" or (bool(intents) and intents <= GENERIC_INTENTS)


def _pronoun_frame(question: str, pronoun: re.Match[str]) -> dict:
    """The ask around a pronoun glute could not resolve ("ok how do I do that one?" -> "how do I do {}?"), so the
    next turn naming an exercise alone can still take it."""
    body = LEADING_FILLER.sub("", question[:pronoun.start()]) + "{}" + question[pronoun.end():]
    if "{" in body.replace("{}", "") or "}" in body.replace("{}", "") or not detect_intents(body):
        return {}
    return {"frame": body.strip(), "frame_kind": "exercise"}


def _pronoun(question: str) -> re.Match[str] | None:
    """The pronoun that stands for the subject. "That" or "this" after the person's own statement in the same
    message ("I had a hip replacement - does that rule it out?") stands for the statement."""
    for match in PRONOUN.finditer(question):
        word = match.group(1).lower()
        if word in ("that", "this") and FIRST_PERSON.search(question[:match.start()]):
            continue
        if word == "it" and EXPLETIVE.match(question[match.end():]):
            continue
        previous = normalize(question[:match.start()]).split()[-1:]
        if word == "that" and previous and previous[0] not in BEFORE_PRONOUN:
            continue
        if word == "it" and previous and previous[0] in FEEL:
            continue
        told = re.search(r"\b(pain\w*|hurts?|aches?|aching|sore\w*|injur\w*)\b", question[:match.start()], re.I)
        if told and word in ("it", "that", "this") and previous and previous[0] not in EXERCISE_VERBS:
            continue  # "my sister's hip aches, what could it be?": the message's own story
        return match
    return None


def _lower_first(text: str) -> str:
    text = text.strip()
    return text if re.match(r"^I\b", text) or len(text) < 2 or text[1].isupper() else text[0].lower() + text[1:]


def _sentence(text: str, original: str | None = None) -> str:
    """Spaces tidied, the ending of the question kept: "and for side steps?" stays a question."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([?.!,:;])", r"\1", text)
    if original is not None and original.rstrip()[-1:] in "?.!" and text[-1:] not in "?.!":
        text += original.rstrip()[-1]
    return text


def _attach(question: str, phrase: str) -> str:
    """ "how high should my hips go then?" + the double-leg bridge -> "how high should my hips go during the
    double-leg bridge?" """
    end = re.search(r"[\s?.!]*$", question)
    body, ending = question[:end.start()], question[end.start():].strip() or ""
    body = re.sub(r"[\s,]+(then|now|too|as well|though)$", "", body, flags=re.IGNORECASE)
    comparative = re.search(r"\b(something|anything|one|an? \w+|exercises?)\s+(easier|harder|gentler|simpler)\b",
                            body, re.IGNORECASE)
    if comparative:  # "something easier that still trains balance" -> "something easier than the ... that ..."
        return f"{body[:comparative.end()]} than {phrase}{body[comparative.end():]}{ending[:1] if ending else ''}"
    if re.search(r"\b(version|variation|level|purpose|benefits?)$", body, re.IGNORECASE):
        preposition = "of"
    elif re.search(r"\badd\b", body, re.IGNORECASE):
        preposition = "to"
    elif re.search(r"\bhelp(s|ed)?$", body, re.IGNORECASE):
        preposition = "with"
    elif DURING.search(body):
        preposition = "during"
    else:
        preposition = "for"
    return f"{body} {preposition} {phrase}{ending[:1] if ending else ''}"


def _problem_told(text: str) -> str | None:
    """The sentences of a turn that tell a first-person problem ("my knee hurts when I do it"), else None."""
    told = [s for s in sentences(text) if not s.rstrip().endswith("?") and not ASK_PHRASE.search(s)
            and PROBLEM.search(s) and FIRST_PERSON.search(s)]
    if not told:
        return None
    joined = " ".join(NEW_TOPIC.sub("", s).strip(" -,:;") for s in told)
    words = joined.split()
    return " ".join(words[:30]) if words else None


