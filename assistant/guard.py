"""What the assistant must not answer, or must answer with care, decided before and after retrieval.

Question text is data: nothing in it is followed as an instruction; it is only matched against patterns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .answer import RefusalReason
from .config import MAX_QUESTION_CHARS
from .errors import InvalidQuestion
from .redflags import Level, Sign, level_of, screen_signs
from .text import parts, sentences, split_asks

# A question naming no entry whose best passage is weaker than this has no evidence here (cosine similarity).
NO_EVIDENCE_SIMILARITY = 0.42


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


CONDITION = (r"(bursitis|tendin\w+|tendonitis|\w*arthritis|fracture\w*|break|broken|torn|tear|ruptured?|sciatica|"
             r"cancer|tumou?r|gtps|trochanteric\w*|labral|labrum|impingement|hernia|piriformis|pinched nerve|"
             r"slipped disc|herniat\w+|dislocat\w+|strain|sprain|syndrome|\w+itis|\w+opathy|infection|dvt|clot|"
             r"cauda equina|septic|perthes|something (wrong|serious|bad))")
MEDICAL_ASKS: dict[str, re.Pattern[str]] = {
    "diagnosis": _any(
        rf"\b(do|could|might|may|would) i (have|have got|be suffering from|be getting)\b(?! to\b)(?! enough)"
        rf"(\W+\w+){{0,3}}?\W+{CONDITION}\b",
        r"\bhave i (got|torn|damaged|broken|fractured|ruptured|pulled|strained|injured)\b",
        rf"\b(is|could|might|would|can) (it|this|that|mine) (be )?(just )?(a |an )?(\w+ ){{0,2}}{CONDITION}\b",
        r"\b(does|do) (it|this|that|mine) sound like\b", rf"\bsounds? like (a |an )?(\w+ )?{CONDITION}\b",
        r"\bwhat('?s| is) (wrong|going on) with (me|my)\b", r"\bwhat (do|could|might) i have\b",
        r"\bwhat (could|might|would|can) (this|it|that) be\b",
        r"\b(is|are) (he|she|they|my (doctor|gp|physio|pt)|the (doctor|physio)) missing (something|anything)\b",
        r"\b(can|could|will|would) you (please )?diagnos", r"\bdiagnos(e|is) (me|my|this|it)\b",
        r"\bwhat('?s| is) my diagnosis\b", r"\bwhat (have i|i'?ve|i have) (done|got)\b",
        rf"\bconfirm\b.{{0,30}}\b{CONDITION}", r"\bfrom what i'?ve (described|told you|said)\b",
        r"\b(is|are) (there|there's) (a |any )?(test|tests|way to (test|diagnose|tell|check))\b",
        r"\b(is|could|might) (it|this|that|the pain) (be )?(related to|from|caused by|because of|coming from|linked "
        r"to) (my|a|an|the)\b",
        rf"\b(is it|is this|is that|could it|could this|might it|might this|would it|could my|might my|is my|are my|"
        rf"have i got|do i have|did i get)\b(\W+\w+){{0,3}}?\W+(be\W+)?(a |an )?{CONDITION}\b",
        rf"\b(think|reckon|suspect|guess|wonder if|chance|likely|possible) (that )?(i'?ve got|i have|it'?s|it is|"
        rf"this is|i'?m getting|my \w+ (is|be|has))\b(\W+\w+){{0,4}}?\W+{CONDITION}\b",
        r"\b(which|what) (\w+ ){0,2}(disease|condition|illness|problem|injury|diagnosis)\b(\W+\w+){0,3}?\W+"
        r"(i|do i|have i|could i) (have|got|have got)\b",
        rf"\b(which|what) (one )?is it\b.{{0,40}}\b{CONDITION}\b|\b{CONDITION}\b.{{0,40}}\b(which|what) (one )?is it\b",
        r"\b(is|are) (my|it|this|that|the)\b(?:(?! of\b)[^?.!]){0,30}\b(torn|tear|ruptured|broken|fractured|damaged|"
        r"inflamed)\b"),
    "medicine": _any(
        r"\b(ibuprofen|advil|motrin|nurofen|naproxen|aleve|acetaminophen|paracetamol|tylenol|aspirin|nsaids?|"
        r"painkillers?|pain ?killers?|pain relievers?|pain relief (tablets|pills|gel|cream)|medications?|medicines?|"
        r"meds|pills?|tablets?|opioids?|tramadol|codeine|oxycodone|muscle relaxants?|prednisone|diclofenac|"
        r"voltaren|gabapentin|pregabalin|celecoxib|celebrex|cbd|antibiotics?|anti-?inflammator(y|ies) (tablets|"
        r"pills|drugs|meds|gel)|\d+ ?mg|supplements?|turmeric|glucosamine|chondroitin|fish oil|vitamin \w+|"
        r"magnesium|creatine|collagen)\b",
        r"\bprescri(be|ption)\b (me )?(something|anything|a drug|a medicine|drugs|pills|painkillers|for the pain)\b",
        r"\bhow (much|many|often) (should|do|can|could|must) i (be )?(take|taking)\b",
        r"\bshould i (be )?(take|taking) (more|less|it|them|this|that)\b",
        r"\bprescription (for|of|to)\b", r"\bside[- ]effects?\b(\W+\w+){0,6}?\W+(taking|take|took|on)\b",
        r"\b(while|since|when) (i'?m|i am|i was) (taking|on) (it|them|these|those|this|that)\b"),
    "injection": _any(r"\b(injections?|injected|inject|cortisone|steroid (shot|injection|jab)s?|steroid|prp|"
                      r"platelet[- ]rich|hyaluronic|prolotherapy|nerve block)\b",
                      r"\b(shot|jab)s? (in|into) (my|the|her|his|their) (hip|bursa|tendon|joint|bum|buttock)\b",
                      r"\b(steroid|cortisone) (shot|jab)s?\b"),
    "scan": _any(
        r"\b(need|get|have|getting|having|ask for|order|worth|book|push for|insist on|request|go for|send|sent|"
        r"refer\w*|time for|due|ready for|arrange|wait for|pay for)\b(\W+\w+){0,4}?\W+(mri|mris|x-?rays?|scans?|"
        r"ultrasound|imaging|ct)\b",
        r"\bwhat (does|do|did) (my|the|this) (mri|x-?ray|scan|ultrasound|report|results?)\w* (\w+ ){0,3}"
        r"(show|mean|say)",
        r"\b(explain|interpret|read) (my|the|this) (mri|x-?ray|scan|ultrasound|report|results?)\b",
        r"\b(mri|x-?ray|scan|ultrasound)s?\b\s+or\s+(an? )?(mri|x-?ray|scan|ultrasound)\b",
        r"\b(necessary|needed|essential|required|important) to (make|have|get|do) (the |an? )?(mri|x-?ray|scan|"
        r"ultrasound)",
        r"\b(would|will|can|could|does|do) (an?|the|my) (mri|x-?ray|ct|scan|ultrasound)( scan)? (\w+ ){0,2}(show|tell|"
        r"find|detect|pick up|see|prove)\b",
        r"\b(do i need|should i (have|get)|is it worth (having|getting)|will i need) (\w+ ){0,2}(surgery|an "
        r"operation|operated)\b"),
}
# Drug and procedure names a written answer may not introduce (verify.py checks LLM answers against it).
MEDICAL = _any(MEDICAL_ASKS["medicine"].pattern, MEDICAL_ASKS["injection"].pattern)
# A story sentence weighing a medical option is an ask about it, phrased as a thought.
CONSIDERS = re.compile(r"\b(thinking (about|of)|considering|wondering (about|whether|if)|debating|planning (to|on)|"
                       r"going to (get|have|ask)|tempted|offered me|talk(ing)? to (\w+ ){1,2}about (getting|having))\b",
                       re.IGNORECASE)
# A short ask that points back ("Should I say yes?", "Good idea?") asks about the sentences just before it.
REFERS_BACK = re.compile(r"\b(it|that|this|them|those|these|one|another|yes|idea|worth it|more|increase|double|"
                         r"go up|\d+)\b", re.IGNORECASE)
SCAN_NOUN = re.compile(r"\b(mri|x-?rays?|scans?|ultrasound|imaging)\b", re.IGNORECASE)

DOMAIN = _any(
    r"\b(hips?|glute\w*|gluteus|medius|minimus|maximus|pelvi\w*|buttocks?|butt|bum|thighs?|legs?|knees?|"
    r"trendelenburg|tendin\w*|tendon\w*|bursitis|trochanter\w*|ilium|abduct\w*|adduct\w*)\b",
    r"\b(exercis\w*|workouts?|rehab\w*|physio\w*|physical therap\w*|therapists?|pt|strength\w*|"
    r"resistance bands?|bands?|reps?|sets?|squats?|bridges?|clams?|lunges?|step[- ]?ups?|deadlifts?|"
    r"planks?|hitch\w*|hike|walks?|running|runners?|run|jog\w*|muscles?|stretch\w*|pain|sore\w*|injur\w*|"
    r"isometric|harder|easier|too (hard|easy)|levels?|dumbbells?|weights?|posture|balanc\w*|"
    r"fire hydrants?|donkey kicks?|monster walks?|crab walks?|hip thrusts?|kickbacks?|step[- ]?downs?)\b",
)
# Body parts outside glute's scope: a question about them, naming nothing of the hip, is off-topic.
ELSEWHERE = _any(r"\b(biceps?|triceps?|shoulders?|neck|wrists?|elbows?|chest|abs|arms?|hands?|fingers?|jaw|"
                 r"upper back|lower back pain|spine|eyes?|teeth|tooth)\b")
CORE_DOMAIN = _any(r"\b(hips?|glute\w*|gluteus|medius|minimus|pelvi\w*|buttocks?|butt|bum|thighs?|legs?|knees?|"
                   r"trendelenburg|trochanter\w*)\b")

LATIN_SHARE = 0.5  # fewer Latin letters than this share: another script, which no screen here can read
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Verdict:
    """What the guard decided before retrieval. `escalate`: red-flag signs (with the most urgent level);
    `refuse`: every ask is outside what glute may answer; `partial`: some asks are declined (`declined` names
    them) and `keep` is the rest of the message, which is answered."""

    action: Literal["refuse", "escalate", "partial"]
    reason: RefusalReason | None = None
    signs: tuple[Sign, ...] = ()
    declined: tuple[str, ...] = ()
    keep: str = ""

    @property
    def level(self) -> Level | None:
        return level_of([s.flag for s in self.signs]) if self.signs else None


def clean_question(question: object) -> str:
    """The question as text fit to process; InvalidQuestion says what is wrong with it otherwise."""
    if not isinstance(question, str):
        raise InvalidQuestion("The question must be text.")
    text = unicodedata.normalize("NFC", CONTROL.sub(" ", question)).strip()
    if not text or not any(ch.isalnum() for ch in text):
        raise InvalidQuestion("Please type a question, for example: how do I make clamshells harder?")
    letters = [ch for ch in text if ch.isalpha()]
    if letters and sum(ch.isascii() for ch in letters) < LATIN_SHARE * len(letters):
        raise InvalidQuestion("Sorry, I can only read questions written in English so far, so I cannot check what "
                              "you wrote for warning signs. If it might be urgent, contact a doctor or emergency "
                              "services now.")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"That question is {len(text):,} characters long; please keep it under "
                              f"{MAX_QUESTION_CHARS:,}.")
    return text


def medical_scopes(sentence: str) -> list[str]:
    """Which kinds of medical advice a sentence asks for: a diagnosis, a medicine, an injection, a scan."""
    return [scope for scope, pattern in MEDICAL_ASKS.items() if pattern.search(sentence)]


def screen(question: str, similar_signs: Callable[[str], list[Sign]] | None = None) -> Verdict | None:
    """Red flags first, anywhere in the message (they are urgent): the rules' signs or, when they see none, the
    semantic screen's (`similar_signs`, redflag_similarity.py); then each ask: a diagnosis, a
    medicine, an injection or a scan decision is declined, and the rest of the message goes on to be answered."""
    signs = screen_signs(question)
    if not signs and similar_signs is not None:  # the rules, where they see a sign, also know its level best
        signs = similar_signs(question)
    if signs:
        return Verdict("escalate", signs=tuple(signs))
    asks, context = split_asks(question)
    pieces = parts(question)
    declined: list[str] = []
    kept_asks = []
    considered = [c for c in context if CONSIDERS.search(c)]  # "I'm thinking of getting a cortisone shot"
    for ask in [*asks, *considered]:
        index = pieces.index(ask)
        told = [p for p in pieces[max(0, index - 2): index] if p not in asks]  # what it points back to: the story,
        before = " ".join(told) if len(ask.split()) <= 6 and REFERS_BACK.search(ask) else ""  # not another ask
        scopes = medical_scopes(ask) or medical_scopes(before) or (["scan"] if SCAN_NOUN.search(before) else [])
        declined += [s for s in scopes if s not in declined]
        if not scopes and ask in asks:
            kept_asks.append(ask)
    if not declined:
        return None
    if not kept_asks and asks:
        return Verdict("refuse", reason="out_of_scope_medical", declined=tuple(declined))
    keep = " ".join(s for s in pieces if s in kept_asks or (s in context and not medical_scopes(s)))
    return Verdict("partial", declined=tuple(declined), keep=keep)


# Times of life that change what exercise advice is safe; a source must speak of one for glute to answer a person
# in it ("six weeks after having a baby, is this normal?"). Matched in the message and in the corpus alike.
LIFE_STAGES = {
    "pregnancy": re.compile(r"\b(pregnan\w*|trimester|expecting (a|our|my) (baby|first|second)|baby bump)\b", re.I),
    "after giving birth": re.compile(r"\b(postpartum|post-partum|postnatal|gave birth|given birth|giving birth|"
                                     r"(had|having) (a|my|the|our) (baby|son|daughter)|c-section|caesarean|cesarean|"
                                     r"since the baby|after the baby)\b", re.I),
}
STAGE_LONG_PAST = re.compile(r"\b(years|decades) ago\b", re.I)  # "I had my kids decades ago"


def life_stages(text: str) -> set[str]:
    """The times of life (LIFE_STAGES) a text speaks of, not long past."""
    return {name for s in sentences(text) if not STAGE_LONG_PAST.search(s)
            for name, pattern in LIFE_STAGES.items() if pattern.search(s)}


def in_domain(question: str) -> bool:
    if ELSEWHERE.search(question) and not CORE_DOMAIN.search(question):
        return False
    return bool(DOMAIN.search(question))


def judge_evidence(question: str, linked: bool, targeted: bool, unknown: list[str],
                   best_similarity: float | None) -> RefusalReason | None:
    """After retrieval: off_topic when nothing in the question belongs to the domain (decided by fixed patterns,
    so no corpus text can widen the scope); no_evidence when it asks about something the corpus never mentions,
    or its best passage is too weak to answer from."""
    similarity = best_similarity if best_similarity is not None else 0.0
    if linked:
        return "no_evidence" if unknown and not targeted else None
    if not in_domain(question):
        return "off_topic"
    if unknown or similarity < NO_EVIDENCE_SIMILARITY:
        return "no_evidence"
    return None
