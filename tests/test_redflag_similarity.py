"""The semantic red-flag screen with the real model and the real exemplars: wording the rules do not know
escalates, harmless look-alikes and denials do not, the rules are never overridden, and the exemplar vectors are
cached and rebuilt safely."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.errors import CorpusError
from assistant.guard import screen
from assistant.redflag_similarity import Exemplars, pieces
from assistant.redflags import Sign, screen_signs


@pytest.mark.parametrize(("message", "flag"), [
    ("Knocked flying by the dog on the stairs, and I've been stuck on the floor ever since, leg looks odd.", "trauma"),
    ("My waterworks have gone haywire since the back pain started and it feels odd down below.", "cauda_equina"),
])
def test_wording_the_rules_miss_escalates(bot, message, flag):
    assert not screen_signs(message)  # the rules alone do not see it: this is what the layer is for
    verdict = bot.screen(message)
    assert verdict is not None and verdict.action == "escalate"
    assert flag in [s.flag for s in verdict.signs]
    answer = bot.ask(message)
    assert answer.safety == "red_flag" and flag in answer.warning_signs


@pytest.mark.parametrize("message", [
    "Which clamshell variation is hardest?",
    "My calves burn during single-leg balance, is that normal?",
    "I have no numbness down below and my waterworks are fine.",
    "My hip really hurts after long runs, any advice?",
])
def test_look_alikes_and_denials_do_not_escalate(bot, message):
    verdict = bot.screen(message)
    assert verdict is None or verdict.action != "escalate"


def test_denials_are_left_to_the_rules():
    assert pieces("No numbness anywhere. It isn't swollen.") == ([], [])
    assert pieces("He hasn't been able to stand since the fall.")[0]  # an inability is how people tell a sign
    texts, pairs = pieces("I slipped on the ice. Now the leg won't hold me.")
    assert len(texts) == 2 and pairs == [(0, 1)]  # the fall and what it did, read together too


def test_the_semantic_screen_never_overrides_the_rules():
    def sees_clot(_: str) -> list[Sign]:
        return [Sign("clot", "x")]

    verdict = screen("I fell off a ladder and I can't stand up", sees_clot)  # the rules know this one and its level
    assert [s.flag for s in verdict.signs] == ["trauma"] and verdict.level == "emergency"
    verdict = screen("how do I do a clamshell?", sees_clot)  # the rules see nothing: the semantic screen decides
    assert [s.flag for s in verdict.signs] == ["clot"] and verdict.level == "soon"
    assert screen("how do I do a clamshell?", lambda _: []) is None


def test_exemplar_vectors_are_cached_and_a_bad_file_is_refused(bot, tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "screen").mkdir(parents=True)
    exemplars = corpus / "screen" / "redflag-exemplars.yaml"
    exemplars.write_text('positive:\n  clot: ["my calf is swollen and hot"]\nnegative: ["my calf burns in the '
                         'exercise"]\n', encoding="utf-8")
    cache = tmp_path / "cache"
    loaded = Exemplars.load(corpus, bot.embeddings, cache)
    assert loaded.flags == ["clot"] and loaded.negative.shape == (1, 384)
    assert len(list(cache.glob("exemplars-*.npy"))) == 1
    again = Exemplars.load(corpus, bot.embeddings, cache)  # from the cache: the same vectors
    assert np.allclose(again.positive, loaded.positive)
    exemplars.write_text("positive:\n  sore_toe: [x]\nnegative: [y]\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="unknown signs"):
        Exemplars.load(corpus, bot.embeddings, cache)
    assert Exemplars.load(tmp_path / "nowhere", bot.embeddings, cache) is None
