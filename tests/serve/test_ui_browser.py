"""The chat UI in a real Chromium: answers with markers and sources, follow-ups, refusals, escaping, feedback."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from assistant.config import REPO_ROOT
from tests.serve.ui_fixtures import free_port, ui_server_fixture  # noqa: F401

pytestmark = pytest.mark.browser

FIRST_ANSWER_MS = 60_000
ANSWER_MS = 30_000
INJECTION = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
SCREENSHOT = REPO_ROOT / "docs" / "screenshot.png"


@pytest.fixture
def page(browser, ui_url: str):
    context = browser.new_context(viewport={"width": 1200, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(ANSWER_MS)
    page.goto(ui_url)
    page.locator("#glute-question textarea").wait_for(timeout=FIRST_ANSWER_MS)
    yield page
    context.close()


def bot_messages(page):
    """Every assistant message, Sources blocks included."""
    return page.locator("#glute-chat [data-testid='bot']")


def answers(page):
    """The assistant's answers, without their Sources blocks."""
    return bot_messages(page).filter(has_not=page.locator("details.glute-sources"))


def sources_toggles(chat):
    """The summaries that open each answer's Sources block (a <details> disclosure)."""
    return chat.locator("details.glute-sources > summary")


def ask(page, question: str, timeout: float = ANSWER_MS) -> None:
    """Type and send a question, then wait until a new assistant message has appeared."""
    before = bot_messages(page).count()
    box = page.locator("#glute-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("([selector, n]) => document.querySelectorAll(selector).length > n",
                           arg=["#glute-chat [data-testid='bot']", before], timeout=timeout)
    wait_until_answered(page)


def wait_until_answered(page) -> None:
    """The question box is locked while an answer streams and unlocked once it is whole."""
    from playwright.sync_api import expect

    expect(page.locator("#glute-question textarea")).to_be_editable()


def test_flagship_answer_sources_and_follow_up(page):
    from playwright.sync_api import expect

    started = time.monotonic()
    ask(page, "How do I make clamshells harder?", timeout=FIRST_ANSWER_MS)
    answer = answers(page).first
    expect(answer).to_contain_text(re.compile(r"band.*\[1\]", re.IGNORECASE | re.DOTALL), timeout=FIRST_ANSWER_MS)
    print(f"first answer shown after {time.monotonic() - started:.2f} s")

    chat = page.locator("#glute-chat")
    sources_toggles(chat).first.click()
    passage = chat.locator("blockquote").first
    expect(passage).to_be_visible()
    expect(passage).to_contain_text("Loop a resistance band around your upper thighs.")
    expect(chat.get_by_text("corpus/exercises/clamshell.md").first).to_be_visible()
    expect(chat).to_contain_text("Clamshell — Make it harder")
    # each quoted statement shows its true origin: the article line, and the reference as a link
    expect(chat.get_by_role("link", name="source article, line 36").first).to_have_attribute("href", re.compile(
        r"/article#L36$"))
    expect(chat.locator("a[href^='https://www.msdmanuals.com/']").first).to_be_visible()
    page.wait_for_timeout(600)  # let the block finish opening before the picture
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    ask(page, "and how do I make it easier?")
    expect(answers(page).last).to_contain_text(re.compile(r"no resistance band|smaller and slower", re.I))


def test_a_conversation_carries_what_a_turn_lacks_and_nothing_into_a_new_question(page):
    """Four turns in the real UI: a how-to, a follow-up that needs the exercise, a topic change, and a new story;
    each answer's Sources shows what it drew on."""
    from playwright.sync_api import expect

    chat = page.locator("#glute-chat")
    turns = [("how do I do a clamshell?", "Clamshell — How to do it"),
             ("and how do I make it easier?", "Clamshell — Make it easier"),
             ("what about running?", "Gluteus medius and running injuries"),
             ("I have been running for a year and my outer hip aches after 4 miles, any advice?",
              "When to see a clinician")]
    for number, (question, shown) in enumerate(turns, 1):
        ask(page, question, timeout=FIRST_ANSWER_MS if number == 1 else ANSWER_MS)
        expect(chat.locator("details.glute-sources")).to_have_count(number)
        sources = chat.locator("details.glute-sources").last
        expect(sources).to_contain_text(shown)
        if number > 2:  # a new topic, then a new story: the clamshell is not carried into either
            expect(sources).not_to_contain_text("Clamshell")


def test_off_topic_red_flag_and_overlong_questions_are_answered_politely(page):
    from playwright.sync_api import expect

    ask(page, "What is the capital of France?", timeout=FIRST_ANSWER_MS)
    expect(answers(page).last).to_contain_text("outside what I can help with")
    expect(answers(page).last).to_contain_text("gluteus medius")

    ask(page, "I fell and now I can't put weight on my leg")
    expect(page.locator("#glute-chat .glute-red-flag")).to_be_visible()
    expect(page.locator("#glute-chat .glute-red-flag")).to_contain_text("Red flag")

    ask(page, "clamshell " * 250)
    expect(answers(page).last).to_contain_text("2,000")
    expect(page.locator("#glute-chat")).not_to_contain_text("Traceback")


def test_html_in_a_question_is_shown_as_text_never_run(page):
    from playwright.sync_api import expect

    ask(page, INJECTION, timeout=FIRST_ANSWER_MS)
    user = page.locator("#glute-chat [data-testid='user']").last
    expect(user).to_contain_text(INJECTION)
    expect(answers(page).last).to_contain_text("outside what I can help with")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#glute-chat img[src='x'], #glute-chat script").count() == 0


def test_example_button_thumbs_up_and_clear(page, settings):
    from playwright.sync_api import expect

    feedback = settings.state_dir / "feedback.jsonl"
    seen = len(feedback.read_text(encoding="utf-8").splitlines()) if feedback.exists() else 0
    page.get_by_role("button", name="How do I make clamshells harder?").click()
    wait_until_answered(page)
    expect(answers(page).first).to_contain_text(re.compile(r"band.*\[1\]", re.I | re.S),
                                                     timeout=FIRST_ANSWER_MS)
    expect(page.locator("#glute-chat").get_by_text("Sources", exact=True).first).to_be_visible()
    page.locator("#glute-chat button[aria-label='Like']").first.click()

    deadline = time.monotonic() + 10
    records: list[dict] = []
    while time.monotonic() < deadline and not records:
        if feedback.exists():
            records = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()[seen:]]
        time.sleep(0.1)
    assert records, f"no feedback line written to {feedback}"
    record = records[-1]
    assert set(record) == {"time", "question", "chunk_ids", "vote"}  # never the answer
    assert record["vote"] == "up" and record["question"] == "How do I make clamshells harder?"
    assert "clamshell#make-it-harder" in record["chunk_ids"]
    expect(page.locator("#glute-notice")).to_contain_text("feedback.jsonl")

    page.locator("#glute-clear").click()
    expect(bot_messages(page)).to_have_count(0)


def open_exercise(page, name: str):
    """Pick an exercise in the Exercises tab; returns its rendered page."""
    page.get_by_role("tab", name="Exercises").click()
    choice = page.locator("#glute-exercise input")
    choice.click()
    choice.fill(name)
    page.get_by_role("option", name=name, exact=True).click()
    return page.locator("#glute-exercise-page")


def test_exercises_tab_renders_entries_with_references(page):
    from playwright.sync_api import expect

    sheet = open_exercise(page, "Clamshell")
    expect(sheet).to_contain_text("Make it harder")
    expect(sheet).to_contain_text("Loop a resistance band around your upper thighs.")
    expect(sheet).to_contain_text("References")
    expect(sheet.locator("a[href^='https://doi.org/']").first).to_be_visible()


HOSTILE_LINE = 'Loop a band over <script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> your thighs.'


@pytest.fixture
def hostile_url(small_corpus: Path, tmp_path: Path):
    """A UI over a small corpus whose clamshell "Make it harder" section carries a script and an onerror image."""
    from assistant import Assistant
    from assistant.config import Settings
    from assistant.index import ingest
    from assistant.serve.app import build_app, launch

    entry = small_corpus / "exercises" / "clamshell.md"
    text = entry.read_text(encoding="utf-8")
    assert "## Make it harder\n" in text
    entry.write_text(text.replace("## Make it harder\n", f"## Make it harder\n- {HOSTILE_LINE} {{article:36}}\n"),
                     encoding="utf-8")
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    ingest(settings, progress=False)
    app = build_app(Assistant.load(settings=settings, build_if_missing=False))
    launch(app, "127.0.0.1", free_port(), prevent_thread_lock=True)
    yield app.local_url
    app.close()


def test_html_in_a_corpus_entry_is_shown_as_text_never_run(browser, hostile_url: str):
    """Corpus text reaches the page in the answer, its Sources block and the Exercises tab: shown, never run."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1200, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(ANSWER_MS)
    try:
        page.goto(hostile_url)
        page.locator("#glute-question textarea").wait_for(timeout=FIRST_ANSWER_MS)
        ask(page, "how do I make clamshells harder?", timeout=FIRST_ANSWER_MS)
        expect(answers(page).first).to_contain_text(HOSTILE_LINE)

        chat = page.locator("#glute-chat")
        sources_toggles(chat).first.click()
        passage = chat.locator("blockquote").first
        expect(passage).to_be_visible()
        expect(passage).to_contain_text(HOSTILE_LINE)

        sheet = open_exercise(page, "Clamshell")
        expect(sheet).to_contain_text("Make it harder")
        expect(sheet).to_contain_text(HOSTILE_LINE)

        page.wait_for_timeout(500)  # time for an onerror handler to fire, had an <img> been made
        assert page.evaluate("typeof window.__pwned") == "undefined"
        injected = "#glute-chat script, #glute-chat img[src='x'], #glute-exercise-page script, " \
                   "#glute-exercise-page img[src='x']"
        assert page.locator(injected).count() == 0
    finally:
        context.close()
