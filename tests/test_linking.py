"""The linker's bulk screens (letter-count bound, one cdist call, all-words count) only skip names that could
never link: with them on or off, every eval question and typo'd variant links to the same entries."""

from __future__ import annotations

import random

import numpy as np

from assistant.evaluation import questions as eq
from assistant.linking import Linker


class UnscreenedLinker(Linker):
    """Tests every candidate one by one, as before the screens existed."""

    def _may_link(self, query: str, candidates: np.ndarray) -> np.ndarray:
        return candidates


def _typo(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(chars))
        op = rng.randrange(3)
        if op == 0:
            chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz ")
        elif op == 1:
            chars.insert(i, rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif len(chars) > 1:
            del chars[i]
    return "".join(chars)


def test_screens_change_no_link(bot):
    names = sorted({(c.doc_id, n) for c in bot.chunks if c.kind != "article" for n in (c.title, *c.aliases)})
    screened, unscreened = Linker(names), UnscreenedLinker(names)
    rng = random.Random(7)
    questions = [q.question for q in eq.load_questions() if q.question.strip()]
    texts = questions + [_typo(q, rng) for q in questions for _ in range(3)] + [_typo(n, rng) for _, n in names]
    differing = [t for t in texts if screened.links(t) != unscreened.links(t)]
    assert differing == []
    assert sum(bool(screened.links(t)) for t in texts) > len(texts) // 3  # the check saw many real links
