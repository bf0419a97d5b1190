"""What kind of answer a question asks for, and which entry sections hold it."""

from __future__ import annotations

import re

# Checked in order; a question can carry several intents ("how do I do it and what should I avoid?"). "How soon"
# comes first: in "when can I make it harder?" the caution about pace matters more than the next step.
INTENT_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "compare": r"\b(which|what) (\w+ ){0,3}?(exercises?|ones?|moves?)\b[^?]{0,40}\b(most|hardest|easiest|"
                   r"highest|strongest|least|toughest)\b|\b(hardest|easiest|toughest|most (demanding|challenging|"
                   r"effective)) (\w+ ){0,3}?(exercises?|ones?|moves?)\b|\b(compare\w*|comparison|versus|vs)\b",
        "pace": r"\b(how (fast|quickly|soon)|when (can|should|do|will|could) (i|you)|too (soon|fast|quickly)|"
                r"rush\w*|ready to)\b",
        "placement": r"\bwhere\b[^?]{0,40}\b(put|place|go|goes|sits?|wear|wrap|loop|tie|hold|attach|fasten)\b|"
                     r"\bwhich (hand|side|leg|ankle)\b",
        "harder": r"\b(harder|hardr|more (challenging|difficult|intense|resistance)|progress\w*|advance\w*|"
                  r"too easy|level up|increase (the )?(challenge|difficulty|intensity)|"
                  r"add(ing)? (weights?|resistance|bands?)|heavier|stronger bands?|"
                  r"tougher|challenge)\b",
        "easier": r"\b(easier|easyer|eaiser|(?<!too )easy|less (difficult|challenging|hard)|too (hard|difficult)|"
                  r"regress\w*|modif\w*|simpler|beginner|can ?no?t (do|manage|finish)|struggl\w*|gentler|"
                  r"scale (it )?back)\b",
        "mistakes": r"\b(mistakes?|wrong|errors?|avoid|not to do|dont do|shouldn'?t|bad form|faults?|compensat\w*|"
                    r"never)\b",
        "howto": r"\b(how (do|to|should|can) (i |you )?(do|perform|start|execute)|how do i do|how to do|how to$|"
                 r"(right|correct|proper|best) way|"
                 r"step[- ]by[- ]step|(?<!many )steps|instructions?|technique|set ?up|how is it done|"
                 r"proper(ly)?|correctly|walk me through|explain how)\b",
        "tips": r"\b(tips?|cues?|form|focus(ing)? on|keep in mind|posture|positio\w*|align\w*|balance|mirror|"
                r"pointed|toes?)\b",
        "cautions": r"\b(safe(ly|ty)?|pain(ful)?|hurts?|hurting|cautions?|careful|risks?|injur\w*|dangerous|"
                    r"sore(ness)?|aches?|aching|discomfort|stop)\b",
        "muscles": r"\b(muscles?|targets?|work(s|ing)?|activat\w*|strengthen\w*|what does it)\b",
        "equipment": r"\b(equipment|need|gear|bands?|weights?|dumbbells?|barbell|mat|tube|handles?)\b",
        "measure": r"\b(how (high|tall|low|far|deep|wide|big)|height|hight|heigth|hieght|depth|distance|"
                   r"inch(es)?|cm)\b",
        "dosage": r"\b(how (long|many|often|much)|reps?|repetitions?|sets?|seconds?|"
                  r"hold(s|ing)?(?! (on|onto|my|your)\b)|"  # holding on to a support, or your breath, is no hold
                  r"duration|frequency|times)\b",
        "why": r"\b(why|benefits?|good for|help(s)? with|purpose|point of|what for)\b",
        "about": r"(\btell me about\b|\bwhat (is|are)( an?| the)?$|\bexplain\b|\bdescribe\b|\boverview\b|^about\b|"
                 r"\binfo\b|\binformation\b)",
    }.items()
}

INTENT_SECTIONS: dict[str, tuple[str, ...]] = {
    "placement": ("How to do it", "Make it harder", "Tips"),
    "harder": ("Make it harder",),
    "easier": ("Make it easier",),
    "mistakes": ("Common mistakes",),
    "howto": ("How to do it",),
    "tips": ("Tips",),
    "cautions": ("Cautions",),
    "muscles": ("Summary", "At a glance"),
    "equipment": ("At a glance", "Make it harder"),
    "measure": ("Tips", "At a glance", "Make it harder"),
    "dosage": ("At a glance", "Cautions", "Tips"),
    "pace": ("Cautions",),
    "why": ("Summary",),
    "compare": ("Summary", "At a glance"),
    "about": ("Summary",),
}


# Intents whose answer is a kind of statement spread over several sections of an entry (a dosage in the front
# matter, "your physical therapist should set your repetitions" under Cautions) rather than one section.
INTENT_LINES: dict[str, re.Pattern[str]] = {
    "dosage": re.compile(r"\b(dosage|repetitions?|repeat|how (often|long|many)|seconds?|times)\b", re.IGNORECASE),
    # where a band or weight goes: "around your ankles", "on your top leg", "in the hand on the side of ..."
    "placement": re.compile(r"^(?=.*\b(bands?|weights?|dumbbells?|tub(e|ing)|loop\w*|cuffs?)\b).*\b(around|above|below|"
                            r"between|in (each|one|the|your) hand|on (your|the) (\w+ )?(leg|ankle|thigh)s?)\b",
                            re.IGNORECASE),
}


# A question naming no exercise, about exercising, whose lead intent is how to progress, how much to do, how
# soon or what form to keep, is a general one: the entry and section that answer it.
GENERAL_ROUTES: dict[str, tuple[str, str]] = {
    "harder": ("safe-progression", "What changes how hard an exercise is"),
    "easier": ("safe-progression", "Making an exercise easier"),
    "dosage": ("safe-progression", "Who sets your program"),
    "pace": ("safe-progression", "Summary"),
    "tips": ("physical-therapy", "Positioning and body awareness"),
    "compare": ("safe-progression", "Ordering exercises by load"),  # "which exercise works it the most?"
}
EXERCISING = re.compile(r"\b(exercis\w*|workouts?|training|reps?|repetitions?|sets?|routine|program\w*|rehab\w*|"
                        r"bands?|weights?)\b", re.IGNORECASE)


def general_route(question: str, intents: list[str]) -> tuple[str, str] | None:
    """The (entry, section) answering a general question about exercising, by its lead intent."""
    if not intents or intents[0] not in GENERAL_ROUTES or not EXERCISING.search(question):
        return None
    return GENERAL_ROUTES[intents[0]]


# When a question says both harder and easier, what it finds too much or too little says which it wants.
TOO_MUCH_OR_LITTLE = (("easier", re.compile(r"\btoo (easy|simple)\b", re.IGNORECASE)),
                      ("harder", re.compile(r"\btoo (hard|difficult|tough|much)\b", re.IGNORECASE)))


def detect_intents(question: str) -> list[str]:
    """Intents in the order of INTENT_PATTERNS; harder/easier win over the generic how-to."""
    found = [name for name, pattern in INTENT_PATTERNS.items() if pattern.search(question)]
    if "harder" in found and "easier" in found:  # "too easy" wants it harder; "too hard after moving up", easier
        unwanted = next((drop for drop, too in TOO_MUCH_OR_LITTLE if too.search(question)), None)
        if unwanted:
            found.remove(unwanted)
    if "harder" in found or "easier" in found:
        found = [i for i in found if i not in ("howto", "equipment", "mistakes")]
    return found


def preferred_sections(intents: list[str]) -> list[str]:
    """Sections to pull forward, most wanted first."""
    sections: list[str] = []  # no intent: let the rankers choose among the named exercise's sections
    for intent in intents:
        for section in INTENT_SECTIONS[intent]:
            if section not in sections:
                sections.append(section)
    return sections
