"""A message as the screens and the asks need it: normalised wording, sentences, clauses, and negation.

People write on phones: curly apostrophes, dashes, zero-width spaces, "sooo", several sentences of story. Every
screen reads the normalised text, so "I can\u2019t walk" (curly) and "I can't walk" are the same sentence.
"""

from __future__ import annotations

import re
import unicodedata

QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
                        "`": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u2010": "-",
                        "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-"})
INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")
STRETCHED = re.compile(r"([a-z])\1{2,}", re.IGNORECASE)  # "sooo", "feeeever": three or more of one letter
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+|(?<=[a-z0-9])\s*;\s*", re.IGNORECASE)
# Where a negation stops reaching: a new clause ("no fever but I can't walk").
CLAUSE_BREAK = re.compile(r",|;|:|\s-\s|\b(but|however|although|though|yet|except|now|then|since|because|"
                          r"and (i|i'm|i've|my|it|it's|now|then|the|she|he|they))\b", re.IGNORECASE)
NEGATION = re.compile(
    r"\b(no|not|never|without|none|neither|nor|nothing|denies|free of|zero|"
    r"(do|does|did|have|has|had|is|are|was|were|ca|could|would|wo)n'?t|"
    r"(do|does|did|have|has|had|is|are|was|were) not|cannot)\b", re.IGNORECASE)
# "I'm not sure if it's a fever" or "I don't know why" hedges; it does not deny the sign.
HEDGE = re.compile(r"\b(not sure|unsure|don'?t know|do not know|no idea|not certain|wonder)\b", re.IGNORECASE)


def normalise(text: str) -> str:
    """NFKC, plain quotes and dashes, no invisible characters, stretched letters shrunk, spaces collapsed."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(QUOTES)
    text = STRETCHED.sub(r"\1", text)
    return re.sub(r"[ \t\f\v]+", " ", text).strip()


def sentences(text: str) -> list[str]:
    """The message cut into sentences (and lines); an unpunctuated message is one sentence."""
    return [s.strip() for s in SENTENCE_END.split(normalise(text)) if s and s.strip() and any(c.isalnum() for c in s)]


def negated(sentence: str, start: int) -> bool:
    """Whether the words before `start`, back to the start of its clause, deny what begins there."""
    before = sentence[:start]
    breaks = list(CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end():] if breaks else before
    return bool(NEGATION.search(clause)) and not HEDGE.search(clause)


ASK_START = re.compile(r"^\s*(how|what|what's|whats|which|why|when|where|who|is|are|am|can|could|should|would|will|"
                       r"do|does|did|any|has|have|was|were)\b", re.IGNORECASE)
ASK_PHRASE = re.compile(
    r"\?\s*$|\b(any (advice|tips?|suggestions?|ideas?|thoughts|recommendations|help|input)|"
    r"advice (please|welcome|appreciated|needed)|(please|pls|plz) (help|advise|explain|tell)|"
    r"what (should|can|could|do) i do|tell me|i (want|would like|'d like|need|wanted) to know|"
    r"(i'?m|i am|just) wondering|i wonder|help me|"
    r"(can|could|would|will) (you|anyone|someone) (recommend|suggest)|looking for (advice|help|exercises|tips)|"
    r"thoughts\?*$|ideas\?*$)\b", re.IGNORECASE)
LONG_SENTENCE = 16  # words: a run-on sentence of story is read clause by clause ("..., any advice?")
STORY_PARTS = 3  # sentences or clauses: a message this long that asks nothing is a story


def clauses(sentence: str) -> list[str]:
    """A long run-on sentence cut at its commas; a short one stays whole ("clamshells, how do I ...?")."""
    if len(sentence.split()) < LONG_SENTENCE or "," not in sentence:
        return [sentence]
    return [c.strip() for c in sentence.split(",") if any(ch.isalnum() for ch in c)]


def parts(text: str) -> list[str]:
    """The message as the asks are read: its sentences, long run-on ones cut into clauses."""
    return [c for s in sentences(text) for c in clauses(s)]


def _asks(piece: str, whole_sentence: bool) -> bool:
    """A clause cut from a run-on sentence asks only with a question mark or an asking phrase: a clause that
    merely starts with "did" or "is" ("did my cool-down walk") is story."""
    return bool(ASK_PHRASE.search(piece) or (whole_sentence and ASK_START.search(piece)))


def split_asks(text: str) -> tuple[list[str], list[str]]:
    """(asks, context): the sentences that ask something, and the rest of the story. A message that asks nothing
    in so many words ("clamshells too easy now") is all ask."""
    pieces = [(c, len(cs) == 1) for s in sentences(text) for cs in [clauses(s)] for c in cs]
    parts_ = [c for c, _ in pieces]
    asks = [c for c, whole in pieces if _asks(c, whole)]
    if not asks:  # a short statement is its own ask; a long story with no question asks for advice on it
        return ([], parts_) if len(parts_) >= STORY_PARTS else (parts_, [])
    return asks, [s for s in parts_ if s not in asks]


# The ways of asking why something happens, shared by the two asks below.
WHY = (r"why (does|do|is|am|would)|what (causes|could cause|(could|might|would) be (the )?(cause|causing|reason))|"
       r"how (do|can|would|will) i (know|tell)")
# An ask for the cause of the person's own pain: a story answered in parts declines it in its first line.
CAUSE_ASK = re.compile(rf"\b({WHY}|what('?s| is) (causing|going on|happening|wrong)|"
                       r"what (could|might|would|can) (this|it|that) be|any idea what|what have i done|what is it\b)",
                       re.IGNORECASE)
# "Why does my outer hip hurt?", "how do I know if I have a tear?", "what should I do?": an ask about the
# person's own situation, answered in parts (glute cannot diagnose; what the sources say; the warning signs).
SITUATION_ASK = re.compile(rf"\b({WHY}|what('?s| is) (causing|going on|happening)|what (should|can|do) i do|"
                           r"what helps|should i (rest|stop|keep|carry on|continue|see|go to|get it checked|push "
                           r"through|be worried|worry)|"
                           r"any (advice|tips|suggestions|ideas|thoughts)|advice)\b", re.IGNORECASE)

# "How long until it heals?", "when can I run again?": an ask for a recovery time, which a source must state to be
# answered (how long to hold an exercise, or how long soreness should last, is not this).
TIMELINE_ASK = re.compile(
    r"\bhow (long|soon|quickly|many (weeks|months|days))\b(\W+\w+){0,8}?\W+"
    r"(heal\w*|recover\w*|get(s|ting)? (better|back)|go(ne)? away|strengthen\w*|adjust\w*|adapt\w*|"
    r"wait\w*|be off|off (running|work)|return\w*|back to|"
    r"(run|running|walk|walking) again)\b|"
    r"\bwhen (can|will|could|should|might) i (\w+ ){0,3}(run|running|return|go back|get back|be back)\b", re.IGNORECASE)
# What a source says when it gives a recovery time: a span of time next to healing or returning.
RECOVERY_TIME = re.compile(r"\b\d+\s*(-|to)?\s*\d*\s*(days?|weeks?|months?)\b.{0,60}\b(heal\w*|recover\w*|return\w*|"
                           r"back to)\b|"
                           r"\b(heal\w*|recover\w*|return\w*|back to)\b.{0,60}\b\d+\s*(days?|weeks?|months?)\b",
                           re.IGNORECASE)
# Where one sentence asks two things: "what exercises help, and how long until I can run again?"
ASK_JOIN = re.compile(r",?\s+(?:and|or|also|plus)\s+(?=(?:how|what|which|when|where|why|can|could|should|is|are|do|"
                      r"does|will)\b)|,\s+(?=(?:how|what|which|when|where|why)\b)", re.IGNORECASE)


def sub_asks(asks: list[str]) -> list[str]:
    """Each ask, with a sentence that asks two things cut in two."""
    return [part.strip() for ask in asks for part in ASK_JOIN.split(ask) if part.strip()]
