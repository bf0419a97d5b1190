"""The guard on its own (no model, no index): red flags in any wording, negation, medical scope by what is asked.
The cases are the ones issue 15 reported as wrong, and the mechanisms each one needs."""

from __future__ import annotations

import pytest

from assistant.guard import screen
from assistant.redflags import level_of, screen_signs
from assistant.text import TIMELINE_ASK, normalise, sentences, split_asks, sub_asks


@pytest.mark.parametrize(("message", "flag", "level"), [
    ("I fell down the stairs and I can\u2019t walk", "trauma", "emergency"),  # a phone's curly apostrophe
    ("I fell down the stairs and I can't walk", "trauma", "emergency"),
    ("I can't control my bladder and my hip hurts", "cauda_equina", "emergency"),
    ("hip pain and I'm running a temperature", "infection", "soon"),
    ("since falling off my bike I can barely walk", "trauma", "emergency"),
    ("I started running in April and built up to 20 miles a week. Now my groin aches and since Tuesday it feels "
     "numb between my legs. Should I rest longer or see a doctor?", "cauda_equina", "emergency"),
    ("I had a hip replacement three weeks ago and the wound is red and leaking.", "post_surgery", "soon"),
    ("my 7 year old is limping and says his hip hurts", "child", "soon"),
    ("I get chest pain when I do side steps", "cardio", "emergency"),
    # told in idiom rather than symptom words
    ("she took a tumble on the stairs and hasn't been able to put her foot down since", "trauma", "emergency"),
    ("came a cropper off my bike and the leg won't hold me", "trauma", "emergency"),
    ("out of the blue I got the sharpest pain I've felt in my hip", "sudden_severe", "soon"),
    ("I've dropped two jeans sizes without trying and my hip aches", "serious_illness", "soon"),
])
def test_red_flags_in_any_wording_escalate_at_their_level(message, flag, level):
    signs = screen_signs(message)
    assert flag in [s.flag for s in signs]
    assert level_of([s.flag for s in signs]) == level
    verdict = screen(message)
    assert verdict is not None and verdict.action == "escalate" and verdict.level == level


@pytest.mark.parametrize("message", [
    "Should I warm up my calf muscles before single leg balance?",
    "I'm worried I'll fall because I can't stand on one leg for long",
    "I passed out giving blood in 2009; is the side plank safe for me?",
    "Since having my daughter in May my hip aches during bridges, what should I change?",
    "one leg goes a bit numb when I sit cross-legged for ages, is that from my back?",  # one leg, no saddle signs
    "I can't bear clamshells any more",
    "no fever, no numbness, just a sore outer hip after running",
    "I don't have any numbness or bladder problems, what exercises help?",
    "it was not after a fall, it just aches",
    "I broke my hip years ago and it healed fine; how do I do a side plank?",
    "what are the signs of a blood clot?",
    "What if I fell and couldn't get up?",
])
def test_look_alikes_and_denied_signs_do_not_escalate(message):
    assert screen_signs(message) == []


@pytest.mark.parametrize(("message", "scope"), [
    ("do I have bursitis?", "diagnosis"),
    ("is my glute tendon torn?", "diagnosis"),
    ("how much ibuprofen should I take?", "medicine"),
    ("should I get a cortisone injection?", "injection"),
    ("do I need an MRI for my hip?", "scan"),
])
def test_medical_asks_are_declined(message, scope):
    verdict = screen(message)
    assert verdict is not None and verdict.action == "refuse" and verdict.reason == "out_of_scope_medical"
    assert scope in verdict.declined


@pytest.mark.parametrize("message", [
    "Do I have to use a band for clamshells?",
    "What's the prescribed number of reps for bridges?",
    "Which exercises might a physical therapist prescribe for hip pain?",
    "do I have enough strength to try single leg squats?",
    "what are the symptoms of a fractured hip",
    "My MRI showed gluteal tendinopathy. Which exercises are gentle to start with?",
])
def test_in_scope_questions_that_look_medical_are_not_declined(message):
    assert screen(message) is None


def test_a_medical_ask_inside_a_story_is_declined_in_part_and_the_rest_kept():
    verdict = screen("My outer hip has ached for months. Do I have bursitis? Which exercises can I start with?")
    assert verdict is not None and verdict.action == "partial" and verdict.declined == ("diagnosis",)
    assert "Which exercises can I start with?" in verdict.keep and "bursitis" not in verdict.keep


def test_a_short_ask_that_points_back_is_read_with_the_sentence_before_it():
    verdict = screen("My GP offered me a steroid injection for the hip. Should I say yes?")
    assert verdict is not None and verdict.action == "refuse" and verdict.declined == ("injection",)


def test_normalising_makes_phone_text_plain():
    assert normalise("I can\u2019t \u201cwalk\u201d\u200b \u2014 sooo sore") == "I can't \"walk\" - so sore"
    assert sentences("It hurts. Any advice?\nThanks") == ["It hurts.", "Any advice?", "Thanks"]


def test_a_story_is_read_for_its_asks():
    asks, context = split_asks("I run three times a week, my outer hip aches after four miles, I have a half "
                               "marathon in October, any advice?")
    assert asks == ["any advice?"]
    assert any("outer hip aches" in c for c in context)


def test_a_message_in_another_script_is_not_guessed_at_and_points_to_care():
    from assistant.errors import InvalidQuestion
    from assistant.guard import clean_question

    with pytest.raises(InvalidQuestion, match=r"English.*urgent"):
        clean_question("\u5b50\u4f9b\u304c\u6b69\u304d\u307e\u305b\u3093\u3002\u71b1\u304c\u3042\u308a\u307e\u3059")
    assert clean_question("caf\u00e9 hip pain, what now?") == "caf\u00e9 hip pain, what now?"


@pytest.mark.parametrize(("message", "flag"), [
    ("I went over on the ice yesterday and now I can't stand on my left leg", "trauma"),
    ("fell down the steps at work and they think I fractured my hip, but I can still hobble about", "trauma"),
    ("my calf has gone red, it's swollen and hot to touch", "clot"),
    ("our little one is two. she keeps limping and won't put weight on her leg", "child"),
    ("since Monday I couldn't stop myself wetting myself and my lower back is agony", "cauda_equina"),
])
def test_signs_told_by_what_happened_escalate(message, flag):
    assert flag in [s.flag for s in screen_signs(message)]


@pytest.mark.parametrize("message", [
    "I had a car accident 6 years back and my hip still aches on long walks, which exercises?",
    "the outside of my upper thigh is tender when I press it and lying on that side hurts",
    "my mum says I should rest it, but I'm 40 and want to keep running",
])
def test_tenderness_old_accidents_and_a_parents_advice_are_not_warning_signs(message):
    assert screen_signs(message) == []


@pytest.mark.parametrize(("message", "scope"), [
    ("mri or ultrasound for my hip?", "scan"),
    ("my doctor gave me some tablets for the hip, how much should I be taking?", "medicine"),
    ("the GP put me on naproxen. Are there side effects I should watch for while I'm on it?", "medicine"),
    ("My GP won't refer me for a scan. Should I push for one?", "scan"),
])
def test_medical_asks_in_other_words_are_declined(message, scope):
    verdict = screen(message)
    assert verdict is not None and scope in verdict.declined


@pytest.mark.parametrize(("message", "asks_a_time"), [
    ("when will I be able to run again", True),
    ("how long does a hip tendon take to heal?", True),
    ("how long should the ache last after clamshells?", False),
    ("how long do I hold a bridge?", False),
    ("when can I use a heavier band?", False),
])
def test_a_recovery_time_ask_is_told_from_a_dosage_ask(message, asks_a_time):
    assert bool(TIMELINE_ASK.search(message)) == asks_a_time


def test_a_sentence_asking_two_things_is_read_as_two_asks():
    assert sub_asks(["which exercises help, and how long until it heals?"]) == ["which exercises help",
                                                                               "how long until it heals?"]


def test_a_short_ask_pointing_back_inherits_the_story_not_the_ask_before_it():
    verdict = screen("The outer part of my thigh aches when I jog. What could this be? What can I do for it?")
    assert verdict.action == "partial" and verdict.declined == ("diagnosis",)
    assert "What can I do for it?" in verdict.keep


@pytest.mark.parametrize(("message", "scope"), [
    ("My GP said it's just tight muscles. Is he missing something?", "diagnosis"),
    ("I'm seeing my doctor on Friday to talk to her about getting a steroid jab. Which exercises meanwhile?",
     "injection"),
])
def test_second_opinions_and_plans_are_medical_asks(message, scope):
    verdict = screen(message)
    assert verdict is not None and scope in verdict.declined
