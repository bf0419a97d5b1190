"""What the assistant must not answer, or must answer with care, decided before and after retrieval.

Question text is data: nothing in it is followed as an instruction; it is only matched against patterns.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from .answer import RefusalReason
from .config import MAX_QUESTION_CHARS
from .errors import InvalidQuestion

# A question naming no entry whose best passage is weaker than this has no evidence here (cosine similarity).
NO_EVIDENCE_SIMILARITY = 0.42


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


RED_FLAGS: dict[str, re.Pattern[str]] = {
    "trauma": _any(
        r"\b(fell|fall(en)?|accident|crash(ed)?|hit by|collision|tripped|slipped)\b.{0,80}"
        r"\b(can'?t|cannot|unable to|not able to|couldn'?t)\b.{0,30}\b(walk|stand|bear|put (any )?weight|move)",
        r"\b(can'?t|cannot|unable to|not able to)\b.{0,15}\b(bear|put (any )?weight|take (any )?weight)\b",
    ),
    "infection": _any(r"\b(fever|feverish|chills|high temperature|night sweats)\b"),
    "nerves": _any(
        r"\bnumb(ness)?\b.{0,40}\b(groin|saddle|genitals?|private|inner thighs?|between (my|the) legs)\b",
        r"\b(groin|saddle|genitals?)\b.{0,40}\b(numb(ness)?|no feeling|can'?t feel)\b",
        r"\b(los[st]|losing|loss of|no|can'?t|cannot|trouble) (control (of|over) )?(my )?(bladder|bowels?)\b",
        r"\b(bladder|bowel)\b.{0,30}\b(control|accident|incontinen\w*)\b",
        r"\b(wet|soil(ed)?) (my ?self|the bed)\b",
        r"\bpins and needles\b.{0,60}\b(groin|saddle|genitals?|inner thighs?|between (my|the) (legs|thighs))\b",
        r"\b(trouble|difficulty|problems?|can'?t|cannot) (peeing|urinating|passing urine|controlling my bladder)\b",
    ),
    "sudden_severe": _any(
        r"\b(sudden(ly)?|out of nowhere|all of a sudden)\b.{0,40}\b(severe|intense|excruciating|unbearable|"
        r"terrible|extreme|worst|agoni[sz]ing)\b",
        r"\b(severe|intense|excruciating|unbearable|terrible|extreme|worst|agoni[sz]ing)\b.{0,40}"
        r"\b(sudden(ly)?|out of nowhere|all of a sudden)\b",
    ),
    "clot": _any(
        r"\bcalf\b.{0,60}\b(swell\w*|swollen|red|warm|hot|tender)\b",
        r"\b(swell\w*|swollen|red|warm|hot|tender)\b.{0,40}\bcalf\b",
        r"\b(chest pain|short(ness)? of breath|can'?t breathe)\b",
    ),
}

MEDICAL = _any(
    r"\b(ibuprofen|advil|motrin|nurofen|naproxen|aleve|acetaminophen|paracetamol|tylenol|aspirin|nsaids?|"
    r"painkillers?|pain ?killers?|pain relievers?|medications?|medicines?|meds|drugs?|pills?|tablets?|"
    r"opioids?|tramadol|codeine|oxycodone|muscle relaxants?|prednisone|diclofenac|voltaren|gabapentin|"
    r"celecoxib|celebrex|cbd|mg)\b",
    r"\b(injections?|injected|cortisone|steroids?|prp|platelet[- ]rich)\b",
    r"\b(diagnos\w*|do i have|have i got|is it (a |an )?(tear|torn|bursitis|tendinopathy|tendinitis|tendonitis|"
    r"arthritis|fracture|sciatica|cancer)|what'?s wrong with (me|my)|what is wrong with (me|my))\b",
    r"\b(prescri\w*|mri|x-?rays?|ct scan|ultrasound scan|need (an? )?(surgery|operation|scan))\b",
    # "is my tendon torn?" asks for a diagnosis; "what are the signs of a broken hip?" asks for facts
    r"\b(is|are) (my|it|this|that|the)\b(?:(?! of\b)[^?.!]){0,30}\b(torn|tear|ruptured|broken|fractured|damaged|"
    r"inflamed)\b",
)

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

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Verdict:
    action: Literal["refuse", "escalate"]
    reason: RefusalReason | None = None
    flag: str | None = None


def clean_question(question: object) -> str:
    """The question as text fit to process; InvalidQuestion says what is wrong with it otherwise."""
    if not isinstance(question, str):
        raise InvalidQuestion("The question must be text.")
    text = unicodedata.normalize("NFC", CONTROL.sub(" ", question)).strip()
    if not text or not any(ch.isalnum() for ch in text):
        raise InvalidQuestion("Please type a question, for example: how do I make clamshells harder?")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"That question is {len(text):,} characters long; please keep it under "
                              f"{MAX_QUESTION_CHARS:,}.")
    return text


def screen(question: str) -> Verdict | None:
    """Red flags first (they are urgent), then medical questions outside what glute may answer."""
    for flag, pattern in RED_FLAGS.items():
        if pattern.search(question):
            return Verdict("escalate", flag=flag)
    if MEDICAL.search(question):
        return Verdict("refuse", reason="out_of_scope_medical")
    return None


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
