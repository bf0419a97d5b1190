"""The person's own sentence, edited: which pronoun stands for the subject, and how a name is put into the question.

Condensing keeps the words the person typed and changes as few as it can ("it" replaced, "for the clamshell"
attached, the question mark kept), so the standalone question still reads as theirs. These helpers are the cutting
and joining that condense.py, conversation.py and followups.py share."""

from __future__ import annotations

import re

from .linking import normalize

PRONOUN = re.compile(r"\b(this exercise|that exercise|the exercise|this one|that one|it|them|these|those|this|that)\b"
                     r"(?! (is|are|was) (the )?(first|second|third|last|middle)\b)", re.IGNORECASE)
BARE_PRONOUNS = frozenset({"it", "this", "that"})  # pronouns that need not mean an exercise ("that one" does)
# Before "that", a word that makes it a pronoun ("is that", "for that"); after a noun it joins a clause
# ("something easier that still trains balance").
BEFORE_PRONOUN = frozenset("""is are was were for about with do does did of on to in at like after before from how why
what than try doing make makes made be been explain repeat show describe mean clarify say said""".split())
FEEL = frozenset("feel feels felt feeling".split())  # "feel it burning": the sensation, not the exercise
EXERCISE_VERBS = frozenset("do doing did does try trying tried perform performing with during after from on start "
                           "started".split())
# "is it normal to ...": an "it" that stands for nothing
EXPLETIVE = re.compile(r"^\s+(?:really\s+|still\s+|even\s+)?(normal|ok|okay|safe|fine|bad|good|possible|worth|better|"
                       r"best|common|necessary|important|wise|advisable|alright|true|too \w+)\s+(to|if|that|when)\b",
                       re.IGNORECASE)
QUESTION_WORDS = re.compile(r"\b(how|what|when|why|where|which|should|can|could|do|does|is|are)\b", re.IGNORECASE)
FIRST_PERSON = re.compile(r"\b(i|i'm|i've|my|me|im)\b", re.IGNORECASE)
TOLD_PAIN = re.compile(r"\b(pain\w*|hurts?|aches?|aching|sore\w*|injur\w*)\b", re.IGNORECASE)
LEADING_FILLER = re.compile(r"^\s*((and|but|also|so|ok(ay)?|then|now|actually|fine|right|well|alright|cool|great|"
                            r"thanks)\b[\s,.!-]*)+", re.IGNORECASE)
# An ask about doing the exercise ("where should I be looking?") rather than about the person's body in general.
DURING = re.compile(r"\bmy (knees?|hips?|back|pelvis|feet|foot|legs?|ankles?|toes|body|butt|bum|glutes?|thighs?|eyes|"
                    r"head|arms?|hands?|core|stomach|balance)\b|"
                    r"\bi('m| am| be)? (feel|look|breath|hold|keep|lean|wobbl|shak|lose|mov|lift|lower|push|squeez|"
                    r"balanc)\w*", re.IGNORECASE)
TOKEN = re.compile(r"[a-z0-9]+(?:['\u2019][a-z0-9]+)*")


def pronoun(question: str) -> re.Match[str] | None:
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
        told = TOLD_PAIN.search(question[:match.start()])
        if told and word in BARE_PRONOUNS and previous and previous[0] not in EXERCISE_VERBS:
            continue  # "my sister's hip aches, what could it be?": the message's own story
        return match
    return None


def put_in(text: str, match: re.Match[str], phrase: str) -> str:
    """The text with the matched words (a pronoun, "the second one") replaced by a phrase."""
    return text[:match.start()] + phrase + text[match.end():]


def put_for_pronoun(text: str, match: re.Match[str], phrase: str) -> str:
    """The text with the pronoun replaced by a phrase, its "'s" spelt out: "it's too hard" -> "the single-leg
    bridge is too hard", "it's been sore" -> "... has been sore"."""
    after = text[match.end():]
    if re.match(r"'s\b", after):
        after = (" has" if re.match(r"'s (been|got)\b", after) else " is") + after[2:]
    return text[:match.start()] + phrase + after


def slotted(text: str, start: int, end: int) -> str | None:
    """The text as an ask to carry, text[start:end] its slot ("how do I do {}?") and leading filler dropped; None
    where the person's own braces would break `str.format`."""
    body = LEADING_FILLER.sub("", text[:start]) + "{}" + text[end:]
    rest = body.replace("{}", "")
    return None if body.count("{}") != 1 or "{" in rest or "}" in rest else body


def original_span(text: str, start: int, end: int) -> tuple[int, int]:
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


def sentence(text: str, original: str | None = None) -> str:
    """Spaces tidied, the ending of the question kept: "and for side steps?" stays a question."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([?.!,:;])", r"\1", text)
    if original is not None and original.rstrip()[-1:] in "?.!" and text[-1:] not in "?.!":
        text += original.rstrip()[-1]
    return text


def lower_first(text: str) -> str:
    """The text lower-cased at its start, to follow a comma; "I" and an acronym ("ITB") keep their capitals."""
    text = text.strip()
    return text if re.match(r"^I\b", text) or len(text) < 2 or text[1].isupper() else text[0].lower() + text[1:]


def attach(question: str, phrase: str) -> str:
    """ "how high should my hips go then?" + the double-leg bridge -> "how high should my hips go during the
    double-leg bridge?" """
    end = re.search(r"[\s?.!]*$", question)
    assert end is not None  # the pattern matches the empty string at the end of any text
    body, ending = question[:end.start()], question[end.start():].strip()
    body = re.sub(r"[\s,]+(then|now|too|as well|though)$", "", body, flags=re.IGNORECASE)
    comparative = re.search(r"\b(something|anything|one|an? \w+|exercises?)\s+(easier|harder|gentler|simpler)\b",
                            body, re.IGNORECASE)
    if comparative:  # "something easier that still trains balance" -> "something easier than the ... that ..."
        return f"{body[:comparative.end()]} than {phrase}{body[comparative.end():]}{ending[:1]}"
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
    return f"{body} {preposition} {phrase}{ending[:1]}"
