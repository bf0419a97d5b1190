"""Condensing follow-ups: what a turn needs from the conversation (nothing, the entity, the ask, the set, the
situation), as fast unit tests on hand-made histories (no model), the issue's cases through the real Assistant, and
the conversations eval runner on a tiny dialogue file."""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time

import pytest
import yaml

from assistant.chunking import chunk_corpus
from assistant.compose import passage_lines
from assistant.condense import Catalog, clean_history, condense, resolve
from assistant.config import REPO_ROOT
from assistant.corpus import load_corpus
from assistant.evaluation import conversations as ec
from assistant.evaluation.questions import EvalError
from assistant.retrieve import Retriever
from tests.helpers import check_citations, run_glute


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The real corpus's chunks, no index and no model: BM25 and the name table are all condensing uses."""
    return Catalog.of(Retriever(chunk_corpus(load_corpus(REPO_ROOT / "corpus")), None))


def said(catalog: Catalog, lead: str, *chunk_ids: str, lines: int = 2) -> str:
    """An answer as glute writes it: a lead, then points quoted from each passage with its marker."""
    points = [f"- {line} [{n}]" for n, cid in enumerate(chunk_ids, 1)
              for line in passage_lines(catalog.retriever.by_id[cid])[:lines]]
    return "\n".join([lead, *points])


def turns(*pairs: str) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": text} for i, text in enumerate(pairs)]


def reads_like_a_sentence(text: str) -> bool:
    return not re.search(r"\(\s*[a-z-]+( [a-z-]+)*\s*\)\?$|\{\}|\s{2,}|\s[?.!,]", text)


# ---------------------------------------------------------------------- unit tests: what the turn lacks


def test_without_history_the_question_is_left_alone(catalog):
    assert condense("how do I make it harder?", [], catalog) == "how do I make it harder?"


def test_a_self_contained_question_carries_nothing(catalog):
    history = turns("how do I do a side plank with a leg lift?",
                    said(catalog, "How to do the side plank with hip abduction:",
                         "side-plank-hip-abduction#how-to-do-it"))
    for question in ("what are common mistakes with the lateral step-up?", "how many reps of bridges should I do?"):
        got = resolve(question, history, catalog)
        assert (got.question, got.carry) == (question, "none")


def test_a_general_question_after_an_exercise_does_not_inherit_it(catalog):
    history = turns("how do I do clamshells?", said(catalog, "How to do the clamshell:", "clamshell#how-to-do-it"))
    for question in ("how sore is it normal to be after exercises?", "does the gluteus medius help with running?"):
        assert "clamshell" not in condense(question, history, catalog)


def test_a_turn_that_says_it_starts_afresh_carries_nothing(catalog):
    history = turns("how do I do a hip hitch?", said(catalog, "How to do the hip hitch:", "hip-hitch#how-to-do-it"))
    question = "different question: is it normal for that muscle to ache when I walk uphill?"
    assert condense(question, history, catalog) == question


def test_a_pronoun_gets_the_entity(catalog):
    history = turns("how do you do a clamshell?", said(catalog, "How to do the clamshell:", "clamshell#how-to-do-it"))
    got = resolve("how do I make it easier?", history, catalog)
    assert (got.question, got.carry) == ("how do I make the clamshell easier?", "entity")


def test_an_ask_naming_nothing_gets_the_entity_in_a_sentence(catalog):
    history = turns("how do I do the single-leg balance?",
                    said(catalog, "How to do the single-leg balance:", "single-leg-balance#how-to-do-it"))
    for question, expected in (("and harder?", "how do I make the single-leg balance harder?"),
                               ("where should my eyes be?", "where should my eyes be during the single-leg balance?")):
        got = resolve(question, history, catalog)
        assert got.question == expected and got.carry == "entity"
        assert reads_like_a_sentence(got.question)


def test_an_exercise_named_alone_gets_the_previous_ask(catalog):
    history = turns("how do I make lateral band walks harder?",
                    said(catalog, "To make the resisted side step harder:", "resisted-side-step#make-it-harder"),
                    "where does the band go?",
                    said(catalog, "Where the band or weight goes for the resisted side step:",
                         "resisted-side-step#how-to-do-it", lines=1))
    got = resolve("what about clams?", history, catalog)
    assert (got.question, got.carry) == ("where does the band go for the clamshell?", "ask")


def test_a_topic_named_alone_does_not_take_an_exercise_ask(catalog):
    history = turns("how do I do a single leg squat?",
                    said(catalog, "How to do the single-leg squat:", "single-leg-squat#how-to-do-it"))
    got = resolve("and what about running?", history, catalog)
    assert got.question == "and what about running?" and got.carry == "none"


def test_which_is_easiest_picks_from_the_listed_exercises_by_level_and_cites_them(catalog):
    history = turns("what might a physio have me do?",
                    said(catalog, "Physical therapy for gluteus medius pain (exercises a physical therapist may use):",
                         "physical-therapy#exercises-a-physical-therapist-may-use", lines=1))
    got = resolve("and which one is the least demanding?", history, catalog)
    assert got.carry == "set" and got.draft is not None
    cited = [chunk.chunk_id for _, chunk in got.draft.points]
    assert cited[0] == "clamshell#at-a-glance"  # the one beginner exercise of the three
    assert "clamshell#make-it-easier" in cited
    assert {c.split("#")[0] for c in cited} == {"clamshell", "hip-hitch", "single-leg-bridge"}
    assert "clamshell" in got.draft.lead.split(";")[0] and reads_like_a_sentence(got.question)


def test_a_choice_by_position_or_equipment_filters_the_set(catalog):
    history = turns("I do the hip hitch, clamshells and the single leg bridge. what do I need for them?",
                    said(catalog, "The hip hitch at a glance:", "hip-hitch#at-a-glance"))
    lying = resolve("which of these are done on the floor?", history, catalog)
    assert {c.doc_id for _, c in lying.draft.points} == {"clamshell", "single-leg-bridge"}
    kit = resolve("which of them work with no equipment at all?", history, catalog)
    assert "hip-hitch" not in {c.doc_id for _, c in kit.draft.points}


def test_an_ordinal_or_a_description_names_one_of_the_set(catalog):
    history = turns("should I start with the side steps, the wall press or the donkey kicks?",
                    said(catalog, "The resisted side step at a glance:", "resisted-side-step#at-a-glance"))
    assert condense("ok how do I do the second one I mentioned?", history, catalog) == \
        "ok how do I do the isometric standing hip abduction?"
    assert condense("and the all fours one, what mistakes do people make?", history, catalog) == \
        "and the quadruped hip extension, what mistakes do people make?"


def test_instead_after_pain_in_an_exercise_gives_its_easier_version_and_cautions(catalog):
    history = turns("how should I do a lateral step up?",
                    said(catalog, "How to do the lateral step-up:", "lateral-step-up#how-to-do-it"),
                    "my knee aches every time I do it",
                    said(catalog, "Cautions for the lateral step-up:", "lateral-step-up#cautions"))
    got = resolve("is there anything I could try instead?", history, catalog)
    assert got.carry == "situation" and got.draft is not None
    sections = [chunk.chunk_id for _, chunk in got.draft.points]
    assert sections[0] == "lateral-step-up#make-it-easier" and "lateral-step-up#cautions" in sections
    assert got.question.startswith("my knee aches every time I do the lateral step-up, ")


def test_an_ask_about_the_problem_is_read_with_it(catalog):
    history = turns("when I do clamshells my hip clicks",
                    said(catalog, "Cautions for the clamshell:", "clamshell#cautions"))
    got = resolve("is that something to worry about?", history, catalog)
    assert got.carry == "situation" and got.question.startswith("when I do clamshells my hip clicks, ")


def test_a_pronoun_that_turns_the_ask_into_a_diagnosis_is_declined(catalog):
    history = turns("what is gluteal tendinopathy?",
                    said(catalog, "Gluteus medius weakness and pain (outer hip pain and gluteal tendinopathy):",
                         "weakness-and-pain#outer-hip-pain-and-gluteal-tendinopathy"))
    got = resolve("could I have it?", history, catalog)
    assert got.refusal == "out_of_scope_medical"


def test_refusals_in_the_history_are_skipped(catalog):
    history = turns("how do I do a lateral band walk?",
                    said(catalog, "How to do the resisted side step:", "resisted-side-step#how-to-do-it"),
                    "how do I bake bread?",
                    "Sorry, that is outside what I can help with. I can help with gluteus medius (outer hip) pain "
                    "and the exercises that rehabilitate it.")
    assert condense("back to the exercise, how many should I do?", history, catalog) == \
        "back to the resisted side step, how many should I do?"


def test_malformed_history_is_cleaned_and_condensing_is_fast(catalog):
    assert clean_history([{"role": "system", "content": "x"}, "junk", {"role": "user", "content": "hi"}]) == \
        [{"role": "user", "content": "hi"}]
    pairs = []
    for name in ("clamshell", "hip-hitch", "lateral-step-up", "single-leg-squat", "double-leg-bridge"):
        title = catalog.title[name].lower()
        pairs += [f"how do I do the {title}?", said(catalog, f"How to do the {title}:", f"{name}#how-to-do-it")]
    history = clean_history(turns(*pairs))
    resolve("and how do I make it harder?", history, catalog)  # warm: the catalog's caches
    times = []
    for i in range(1, len(history) // 2 + 1):  # each turn of a conversation, as the pipeline sees it
        started = time.perf_counter()
        resolve(f"how often should I do it, take {i}?", history[: 2 * i], catalog)
        times.append((time.perf_counter() - started) * 1000)
    assert statistics.median(times) < 2.0


# ---------------------------------------------------------------------- the cases, through the real Assistant


def play(bot, *questions: str):
    history, answers = [], []
    for question in questions:
        answer = bot.ask(question, history=list(history))
        answers.append(answer)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]
    return answers


def docs(answer) -> set[str]:
    return {c.doc_id for c in answer.citations}


def test_what_about_running_after_a_clamshell_is_about_running(bot):
    _, running = play(bot, "how do I do a clamshell?", "what about running?")
    assert "clamshell" not in running.standalone_question.lower()
    assert not running.refused and "clamshell" not in docs(running)
    assert "running-injuries" in docs(running)
    check_citations(running)


def test_what_should_i_do_instead_after_knee_pain_in_a_hip_hitch(bot):
    *_, instead = play(bot, "how do I do a hip hitch?", "my knee hurts when I do it", "what should I do instead?")
    assert not instead.refused and instead.safety is None
    cited = [c.chunk_id for c in instead.citations]
    assert cited[0] == "hip-hitch#make-it-easier" and "hip-hitch#cautions" in cited
    assert "hip hitch" in instead.standalone_question
    check_citations(instead)


def test_strengthen_it_then_which_one_is_easiest(bot):
    _, strengthen, easiest = play(bot, "what is the gluteus medius?", "how do I strengthen it?",
                                  "which one is the easiest?")
    assert strengthen.standalone_question == "how do I strengthen the gluteus medius?"
    assert not strengthen.refused and "anatomy" not in docs(strengthen)
    listed = set(bot.retriever.linker.doc_ids(strengthen.answer)) & {
        c.doc_id for c in bot.chunks if c.kind == "exercise"}
    assert len(listed) >= 2, strengthen.answer  # an answer naming exercises
    assert not easiest.refused
    assert docs(easiest) <= listed and easiest.citations[0].section == "At a glance"
    first = easiest.citations[0].doc_id
    assert "beginner" in easiest.citations[0].text.lower() and bot.titles[first].lower() in easiest.answer.lower()
    check_citations(easiest)


def test_and_for_the_clamshell_keeps_the_placement_question(bot):
    *_, band = play(bot, "how do I make side steps harder?", "where does the band go?", "and for the clamshell?")
    assert band.standalone_question == "where does the band go for the clamshell?"
    assert "clamshell" in docs(band) and "upper thighs" in band.answer
    check_citations(band)


def test_a_new_story_after_an_exercise_answer_carries_nothing(bot):
    story = ("I have been running for a year and my outer hip aches after 4 miles, it is getting worse. "
             "any advice?")
    _, answer = play(bot, "how do I do a clamshell?", story)
    assert answer.standalone_question == story
    assert not answer.refused and "clamshell" not in docs(answer)
    check_citations(answer)


# ---------------------------------------------------------------------- the conversations eval runner


DIALOGUES = {"dialogues": [
    {"id": "tiny-band", "split": "dev", "turns": [
        {"text": "how do I make clamshells harder?", "gold": ["clamshell#make-it-harder"], "carry": "none"},
        {"text": "and easier?", "gold": ["clamshell#make-it-easier"], "carry": "entity"},
        {"text": "what's a good pasta recipe?", "refusal_reason": "off_topic", "carry": "none"},
    ]},
    {"id": "tiny-red-flag", "split": "dev", "turns": [
        {"text": "how do I do a bridge?", "gold": ["double-leg-bridge"], "carry": "none"},
        {"text": "I fell off a ladder an hour ago and now I can't put any weight on my leg",
         "safety": "red_flag", "flag": "trauma", "level": "emergency", "carry": "none"},
    ]},
]}


def test_the_runner_plays_a_tiny_dialogue_file_and_reports_carry_apart(bot, tmp_path):
    path = tmp_path / "conversations.yaml"
    path.write_text(yaml.safe_dump(DIALOGUES), encoding="utf-8")
    report, results, problems = ec.run(bot, path, "conversations-dev")
    assert problems == [] and [r.correct for r in results] == [True] * 5, [r.problem for r in results]
    assert results[1].answer.standalone_question == "how do I make the clamshell easier?"
    assert report["n_dialogues"] == 2 and report["n_turns"] == 5
    assert report["conversations"]["turn_accuracy"] == 1.0
    assert report["by_carry"] == {"none": {"n": 4, "accuracy": 1.0}, "entity": {"n": 1, "accuracy": 1.0}}
    assert next(iter(report["question_files"].values())) == hashlib.sha256(path.read_bytes()).hexdigest()
    ec.write_report(tmp_path / "out", report, results, {})
    written = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert written["conversations"]["carry_accuracy"] == 1.0
    assert "| conversations.no_carry_accuracy |" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert len((tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()) == 5
    bad = {"dialogues": [{"id": "x", "split": "dev", "turns": [{"text": "hi", "gold": ["nope#none"],
                                                                 "carry": "none"}]}]}
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    assert ec.check_dialogues(ec.load_dialogues(path), bot.chunks) == ["x turn 1: gold 'nope#none' is no chunk "
                                                                       "id or entry id"]
    path.write_text(yaml.safe_dump({"dialogues": [{"id": "y", "split": "dev", "turns": [
        {"text": "hi", "carry": "maybe", "gold": ["clamshell"]}]}]}), encoding="utf-8")
    with pytest.raises(EvalError, match="turn 1 has carry 'maybe'"):
        ec.load_dialogues(path)


def test_glute_eval_conversations_writes_the_report_and_exits_1_below_a_floor(settings, tmp_path):
    path = tmp_path / "dialogues.yaml"
    path.write_text(yaml.safe_dump({"dialogues": DIALOGUES["dialogues"][:1]}), encoding="utf-8")
    floors = tmp_path / "thresholds.yaml"
    floors.write_text("conversations:\n  turn_accuracy: 1.01\n", encoding="utf-8")  # a floor nothing can reach
    done = run_glute("eval", "--conversations", str(path), "--thresholds", str(floors), "--out", str(tmp_path / "r"),
                     "--index-dir", str(settings.index_dir))
    assert done.returncode == 1 and "below the floor: conversations.turn_accuracy" in done.stderr, done.stderr
    assert "carry=entity (n=1)" in done.stdout
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert report["split"] == "conversations-dev" and report["n_turns"] == 3


def test_braces_a_person_typed_never_break_the_carried_ask(catalog):
    """'{}' in a question once became a second slot of the carried ask and crashed the next turn."""
    answer = said(catalog, "How to do the clamshell:", "clamshell#how-to-do-it")
    history = turns("how do I do clamshells?", answer, "how do I do it with {}?", answer)
    got = resolve("and for bridges?", history, catalog)
    assert got.question and "{}" not in got.question.replace("with {}", "")


# ---------------------------------------------------------------------- answers drawn from the entries, for a turn
# that tells a problem, names kit or its own set, puts an ask to each of a set, or goes on from the last ask


def cited(answer) -> list[str]:
    return [c.chunk_id for c in answer.citations]


def test_an_ask_about_the_movement_carries_the_exercise_and_a_general_one_does_not(catalog):
    history = turns("how do I do a clamshell?", said(catalog, "How to do the clamshell:", "clamshell#how-to-do-it"))
    got = resolve("how far should my knee come up?", history, catalog)
    assert got.carry == "entity" and "the clamshell" in got.question and reads_like_a_sentence(got.question)
    assert condense("how often should I exercise in general?", history, catalog) == \
        "how often should I exercise in general?"


def test_a_problem_told_after_an_exercise_gets_its_mistakes_and_easier_version(bot):
    _, problem = play(bot, "how do I do a clamshell?", "my feet keep coming apart")
    assert not problem.refused and problem.safety is None
    assert cited(problem)[0] == "clamshell#common-mistakes" and "clamshell#make-it-easier" in cited(problem)
    assert "feet come apart" in problem.answer and "the clamshell" in problem.standalone_question
    check_citations(problem)


def test_a_problem_put_as_a_condition_is_read_with_the_exercise(bot):
    _, wobble = play(bot, "how do I do the single-leg squat?", "and what if I wobble a lot?")
    assert wobble.standalone_question == "and what if I wobble a lot during the single-leg squat?"
    assert cited(wobble)[0] == "single-leg-squat#make-it-easier" and "railing or a wall" in wobble.answer
    check_citations(wobble)


def test_what_should_i_change_after_a_told_problem_quotes_the_mistake_that_matches(bot):
    *_, change = play(bot, "when I do the quadruped hip extension my lower back sags", "what should I change?")
    assert change.standalone_question.startswith("when I do the quadruped hip extension my lower back sags, ")
    assert cited(change)[0] == "quadruped-hip-extension#common-mistakes" and "lower back sag" in change.answer
    check_citations(change)


def test_which_exercises_a_piece_of_kit_is_for_then_other_kit_then_a_choice_among_them(bot):
    step, wall, easiest = play(bot, "which exercises need a step?", "and a wall?", "which of those is the easiest?")
    assert set(docs(step)) == {"hip-hitch", "lateral-step-up"}
    assert all(c.section == "At a glance" for c in step.citations) and "Equipment: step" in step.answer
    assert wall.standalone_question == "which exercises use a wall?"
    assert "isometric-standing-hip-abduction" in docs(wall) and "lateral-step-up" not in docs(wall)
    assert docs(easiest) <= docs(wall) and easiest.citations[0].section == "At a glance"
    assert "beginner" in easiest.citations[0].text.lower()
    for answer in (step, wall, easiest):
        check_citations(answer)


def test_a_message_naming_its_own_set_is_answered_from_each_entry(bot):
    levels = bot.ask("I do hip hitches, clamshells and lateral step-ups. Are these all beginner exercises?")
    assert set(docs(levels)) == {"hip-hitch", "clamshell", "lateral-step-up"}
    assert "the clamshell is beginner level" in levels.answer and "intermediate level" in levels.answer
    compared = bot.ask("how is a clamshell different from side lying leg lifts?")
    sections = {(c.doc_id, c.section) for c in compared.citations}
    assert {("clamshell", "Summary"), ("side-lying-hip-abduction", "Summary")} <= sections
    assert "lying down" not in compared.answer.split("\n")[0]  # "side lying" is the name, not a wish to lie down
    floor = bot.ask("I can't kneel on the floor any more. Of clamshells, the wall press and bridges, which could I do?")
    assert docs(floor) == {"isometric-standing-hip-abduction"} and "Position: standing" in floor.answer
    for answer in (levels, compared, floor):
        assert answer.standalone_question == answer.question
        check_citations(answer)


def test_an_ask_put_to_both_of_a_pair_is_answered_for_each(bot):
    *_, both_ = play(bot, "how do I do the hip hitch?", "and the lateral step-up?", "do both of them need a step?")
    assert both_.standalone_question == "do both the hip hitch and the lateral step-up need a step?"
    assert docs(both_) == {"hip-hitch", "lateral-step-up"} and both_.answer.count("step") >= 2
    check_citations(both_)


def test_a_turn_that_goes_on_from_the_last_ask_is_read_with_it(bot):
    _, worse = play(bot, "how do I progress exercises safely?", "and what if it feels too hard after moving up?")
    assert worse.standalone_question == "how do I progress exercises safely, and what if it feels too hard after " \
                                        "moving up?"
    assert cited(worse) == ["safe-progression#making-an-exercise-easier"]
    _, example = play(bot, "what changes how hard an exercise is?", "give me an example with a step")
    assert not example.refused and "higher step" in example.answer
    assert example.standalone_question.startswith("what changes how hard an exercise is, ")
    for answer in (worse, example):
        check_citations(answer)


def test_without_an_encoder_a_problem_is_weighed_by_shared_words(catalog):
    """The catalog alone (no model) still reads the problem and quotes the mistake sharing its words."""
    history = turns("how do I do a clamshell?", said(catalog, "How to do the clamshell:", "clamshell#how-to-do-it"))
    got = resolve("my pelvis keeps rocking back", history, catalog)
    assert got.carry == "situation" and got.draft is not None
    quoted = [(chunk.chunk_id, line) for line, chunk in got.draft.points]
    assert quoted[0] == ("clamshell#common-mistakes", "Letting your pelvis rock or shift as the knee moves.")
    assert "clamshell#make-it-easier" in {chunk_id for chunk_id, _ in quoted}


def test_a_topic_named_in_the_singular_is_carried_to_the_follow_up(bot):
    first, evidence = play(bot, "as a runner, is a weak glute med linked to knee trouble?",
                           "what does the research say about it?")
    assert docs(first) == {"running-injuries"}
    assert "a runner" in evidence.standalone_question and docs(evidence) == {"running-injuries"}
    assert reads_like_a_sentence(evidence.standalone_question)


def test_the_list_a_physio_may_give_is_then_chosen_from(bot):
    listed, easiest = play(bot, "what exercises would my physio likely give me?", "which of them is easiest?")
    assert listed.citations[0].chunk_id == "physical-therapy#exercises-a-physical-therapist-may-use"
    assert not easiest.refused and easiest.citations[0].chunk_id == "clamshell#at-a-glance"
    check_citations(easiest)
