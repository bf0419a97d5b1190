"""Accessibility (issue 20): WCAG 2.1 A/AA with axe-core, keyboard-only use, what a screen reader gets, and a
phone's width (390 x 844), in a real Chromium against the real app.

axe-core is the npm package pinned in the Makefile (`make axe`, run by `make test`), injected into the running page.
Every violation fails unless `ALLOWED` names it: only what sits inside Gradio's own markup and cannot be fixed from
the app (theme, CSS, elem_id, labels), each with its reason and the Gradio issue when there is one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from assistant.answer import Answer, Citation
from assistant.config import REPO_ROOT
from assistant.serve.display import answer_markdown, article_html, marker_html, sources_block, sources_markdown
from tests.serve.test_ui_browser import (
    ANSWER_MS,
    FIRST_ANSWER_MS,
    answers,
    ask,
    bot_messages,
    sources_toggles,
    wait_until_answered,
)
from tests.serve.ui_fixtures import free_port, ui_server_fixture  # noqa: F401

AXE_DIR = REPO_ROOT / ".cache" / "axe" / "node_modules" / "axe-core"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1200, "height": 1100}
PHONE = {"width": 390, "height": 844}
PHONE_SCREENSHOT = REPO_ROOT / "docs" / "screenshot-phone.png"
MIN_TARGET_PX = 44
FLAGSHIP = "How do I make clamshells harder?"
RED_FLAG = "I fell and now I can't put weight on my leg"
OFF_TOPIC = "What is the capital of France?"


@dataclass(frozen=True)
class Allowed:
    """A violation axe may report: its rule, the element (a regex on axe's selector), why the app cannot fix it."""

    rule: str
    target: str
    reason: str
    issue: str = ""


# Violations inside Gradio's own markup that the app cannot fix (theme, CSS, elem_id, labels). Empty: all that axe
# found on these pages was fixed in the app; see the README's Accessibility section for what was found.
ALLOWED: tuple[Allowed, ...] = ()


def axe_version_pinned() -> str:
    match = re.search(r"^AXE_VERSION\s*:=\s*(\S+)", (REPO_ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert match, "the Makefile pins axe-core as AXE_VERSION"
    return match.group(1)


@pytest.fixture(scope="module")
def axe_source() -> str:
    package = AXE_DIR / "package.json"
    if not package.exists():
        pytest.fail(f"{AXE_DIR} is missing: run `make axe` (npm install of the pinned axe-core).")
    installed, pinned = json.loads(package.read_text(encoding="utf-8"))["version"], axe_version_pinned()
    if installed != pinned:
        pytest.fail(f"axe-core {installed} is installed but the Makefile pins {pinned}: run `make axe`.")
    return (AXE_DIR / "axe.min.js").read_text(encoding="utf-8")


@contextmanager
def opened(browser, url: str, viewport: dict[str, int], **options) -> Iterator:
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    page.set_default_timeout(ANSWER_MS)
    try:
        page.goto(url)
        if "/article" not in url:
            page.locator("#glute-question textarea").wait_for(timeout=FIRST_ANSWER_MS)
        yield page
    finally:
        context.close()


SETTLED = """() => document.getAnimations().every(
    (a) => a.playState !== "running" || a.effect?.getComputedTiming().iterations === Infinity)"""
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html.slice(0, 160)}))}));
}"""


def axe_violations(page, axe_source: str) -> list[str]:
    """Every WCAG 2.1 A/AA violation on the page now, one line per element, minus `ALLOWED`."""
    page.wait_for_function(SETTLED, timeout=5_000)  # colours mid-transition are not what anyone sees
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source)
    found = []
    for violation in page.evaluate(RUN_AXE, WCAG_TAGS):
        for node in violation["nodes"]:
            if not any(a.rule == violation["rule"] and re.search(a.target, node["target"]) for a in ALLOWED):
                found.append(f"{violation['rule']} ({violation['impact']}: {violation['help']}) at "
                             f"{node['target']}: {node['html']}")
    return found


def test_the_allow_list_stays_short_and_explained():
    assert len(ALLOWED) <= 5
    for allowed in ALLOWED:
        assert allowed.reason and re.compile(allowed.target)
        assert not allowed.issue or allowed.issue.startswith("https://github.com/gradio-app/gradio/")


# --- WCAG 2.1 A/AA --------------------------------------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize(("viewport", "query"), [(DESKTOP, ""), (PHONE, ""), (DESKTOP, "?__theme=dark")],
                         ids=["desktop", "phone", "dark"])
def test_no_wcag_violations_on_answers_red_flags_refusals_and_exercises(browser, ui_url: str, axe_source: str,
                                                                        viewport: dict[str, int], query: str):
    from playwright.sync_api import expect

    found: dict[str, list[str]] = {}
    with opened(browser, ui_url + query, viewport) as page:
        assert (page.locator("body.dark, gradio-app.dark, .gradio-container.dark").count() > 0) == ("dark" in query)
        found["the empty chat"] = axe_violations(page, axe_source)

        ask(page, FLAGSHIP, timeout=FIRST_ANSWER_MS)
        chat = page.locator("#glute-chat")
        sources_toggles(chat).first.click()
        expect(chat.locator("details.glute-sources[open] blockquote").first).to_be_visible()
        found["an answer with its Sources open"] = axe_violations(page, axe_source)

        ask(page, RED_FLAG)
        expect(chat.locator(".glute-red-flag")).to_be_visible()
        found["a red-flag answer"] = axe_violations(page, axe_source)

        ask(page, OFF_TOPIC)
        expect(answers(page).last).to_contain_text("outside what I can help with")
        found["a refusal"] = axe_violations(page, axe_source)

        page.get_by_role("tab", name="Exercises").click()
        expect(page.locator("#glute-exercise-page h2")).to_be_visible()
        found["the Exercises tab"] = axe_violations(page, axe_source)
    found = {where: lines for where, lines in found.items() if lines}
    assert not found, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(
        f"- {where}:\n    " + "\n    ".join(lines) for where, lines in found.items())


# --- the source article page the Sources link to ----------------------------------------------------------------------

def article_line(settings, number: int) -> str:
    from assistant.corpus import load_corpus

    return load_corpus(settings.corpus_dir).article_lines[number - 1]


@pytest.mark.browser
def test_the_article_page_opens_at_the_cited_line(browser, ui_url: str, settings, axe_source: str):
    from playwright.sync_api import expect

    with opened(browser, f"{ui_url}article#L36", PHONE) as page:
        line = page.locator("#L36")
        expect(line).to_have_text(article_line(settings, 36))
        expect(page.locator("li:target")).to_have_attribute("id", "L36")
        page.wait_for_function("document.activeElement?.id === 'L36'")
        assert page.locator("ol > li[id^='L']").count() > 36
        assert axe_violations(page, axe_source) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<button id=probe></button>')")
        assert [v.split(" ")[0] for v in axe_violations(page, axe_source)] == ["button-name"]  # the check can fail
        page.evaluate("document.getElementById('probe').remove()")
        back = page.get_by_role("link", name="Back to the glute chat")
        assert back.bounding_box()["height"] >= MIN_TARGET_PX
        back.press("Enter")
        page.locator("#glute-question textarea").wait_for(timeout=FIRST_ANSWER_MS)


def test_the_article_page_needs_the_sign_in_when_one_is_set(bot):
    import httpx

    from assistant.serve.app import build_app, launch

    app = build_app(bot)
    launch(app, "127.0.0.1", free_port(), prevent_thread_lock=True, auth=("ann", "s3cret-pass"))
    try:
        with httpx.Client(base_url=app.local_url, timeout=30) as client:
            refused = client.get("/article")
            assert refused.status_code == 303 and "L36" not in refused.text
            client.post("/login", data={"username": "ann", "password": "s3cret-pass"})
            shown = client.get("/article")
            assert shown.status_code == 200 and 'id="L36"' in shown.text
    finally:
        app.close()


# --- keyboard only --------------------------------------------------------------------------------------------------

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), id: e.id, role: e.getAttribute("role") || "", testid: e.dataset.testid || "",
          text: (e.innerText || e.value || "").trim().slice(0, 80), label: e.getAttribute("aria-label") || "",
          href: e.getAttribute("href") || "", within: e.closest("[id^='glute-']")?.id || "",
          outline: style.outlineStyle !== "none" ? parseFloat(style.outlineWidth) : 0,
          shadow: style.boxShadow !== "none" ? style.boxShadow : ""};
}"""


def focus_shown(page, step: str) -> dict:
    """The focused element, failing unless its focus is visible: an outline of 2 px or more, or a box-shadow."""
    focused = page.evaluate(FOCUSED)
    assert focused is not None, f"{step}: the focus is lost (on <body>)"
    assert focused["outline"] >= 2 or focused["shadow"], f"{step}: no visible focus on {focused}"
    return focused


def tab_to(page, wanted, step: str, key: str = "Tab", limit: int = 60) -> dict:
    """Press Tab (or `key`) until `wanted(focused)` holds; the focus must be visible on every element on the way."""
    for _ in range(limit):
        page.keyboard.press(key)
        focused = focus_shown(page, f"{step} ({key})")
        if wanted(focused):
            return focused
    raise AssertionError(f"{step}: not reached in {limit} presses of {key}")


@pytest.mark.browser
def test_the_whole_flow_with_the_keyboard_alone(browser, ui_url: str, settings):
    from playwright.sync_api import expect

    with opened(browser, ui_url, DESKTOP) as page:
        assert focus_shown(page, "on load")["tag"] == "textarea"  # the question box has the focus

        page.keyboard.type(FLAGSHIP)
        before = bot_messages(page).count()
        page.keyboard.press("Enter")
        expect(bot_messages(page)).not_to_have_count(before, timeout=FIRST_ANSWER_MS)
        wait_until_answered(page)
        expect(answers(page).last).to_contain_text("band")
        page.wait_for_function("document.activeElement?.dataset?.testid === 'bot'")
        answer = focus_shown(page, "the answer is whole")  # the focus moved to the answer, not lost
        assert answer["label"].startswith("glute: ") and "source 1" in answer["label"]

        tab_to(page, lambda f: f["tag"] == "summary" and f["text"] == "Sources", "to the Sources")
        page.keyboard.press("Enter")
        expect(page.locator("#glute-chat details.glute-sources").last).to_have_attribute("open", "")
        focus_shown(page, "the Sources are open")

        link = tab_to(page, lambda f: f["href"].startswith("/article#L"), "to a reference link")
        number = int(link["href"].rsplit("L", 1)[1])
        with page.context.expect_page() as opening:
            page.keyboard.press("Enter")
        article = opening.value
        article.wait_for_load_state()
        article.wait_for_function(f"document.activeElement?.id === 'L{number}'")
        assert article.url.endswith(f"/article#L{number}")
        assert focus_shown(article, "the article at the cited line")["id"] == f"L{number}"
        expect(article.locator(f"#L{number}")).to_have_text(article_line(settings, number))
        article.close()
        page.bring_to_front()

        tab_to(page, lambda f: f["role"] == "tab" and f["text"] == "Exercises", "back to the tabs", key="Shift+Tab",
               limit=80)
        page.keyboard.press("Enter")
        expect(page.locator("#glute-exercise-page h2")).to_be_visible()
        focus_shown(page, "the Exercises tab is open")

        tab_to(page, lambda f: f["tag"] == "input" and f["within"] == "glute-exercise", "to the exercise list")
        page.keyboard.type("Single-leg bridge")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        expect(page.locator("#glute-exercise-page h2")).to_have_text("Single-leg bridge")
        assert focus_shown(page, "an exercise is picked")["id"] == "glute-exercise-page"  # Gradio drops it there


# --- screen readers -------------------------------------------------------------------------------------------------

@pytest.mark.browser
def test_what_a_screen_reader_gets(browser, ui_url: str):
    from playwright.sync_api import expect

    with opened(browser, ui_url, DESKTOP) as page:
        ask(page, FLAGSHIP, timeout=FIRST_ANSWER_MS)
        log = page.locator("#glute-chat [role='log']")
        expect(log).to_have_attribute("aria-live", "polite")  # Gradio's live region: new messages are announced
        answer = log.locator("[data-testid='bot']").filter(has_not=page.locator("details.glute-sources")).last
        expect(answer).to_contain_text("[1]")  # what the eye sees
        marker = answer.locator(".glute-marker").first
        expect(marker.locator(".glute-marker-shown")).to_have_attribute("aria-hidden", "true")
        expect(marker.locator(".glute-sr-only")).to_have_text("source 1")
        hidden = marker.locator(".glute-sr-only").bounding_box()
        assert hidden["width"] <= 1 and hidden["height"] <= 1
        spoken = answer.aria_snapshot()
        assert "source 1" in spoken and "[1]" not in spoken
        label = answer.get_attribute("aria-label")
        assert label.startswith("glute: ") and "source 1" in label
        assert "[1]" not in label and "<" not in label and "**" not in label
        sources = log.locator("[data-testid='bot']").filter(has=page.locator("details.glute-sources")).last
        expect(sources).to_have_attribute("aria-label", "glute: Sources")  # closed: only its summary
        expect(sources.locator("details")).not_to_have_attribute("open", "")
        sources_toggles(log).last.press("Enter")
        expect(sources).to_have_attribute("aria-label", re.compile(r"^glute: Sources source 1 Clamshell — Make it"))

        ask(page, RED_FLAG)
        alert = log.get_by_role("alert")
        expect(alert).to_have_count(1)
        expect(alert).to_contain_text("Red flag: this may need medical care now.")
        assert answers(page).last.get_attribute("aria-label").startswith("glute: ⚠️ Red flag")


# --- a phone's width ------------------------------------------------------------------------------------------------

TARGETS = """() => [...document.querySelectorAll(
    "a[href], button, input, textarea, select, summary, [role='button'], [role='tab'], [role='option']")]
  .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0
                   && getComputedStyle(e).visibility !== "hidden" && !e.closest("[aria-hidden='true']"); })
  .map((e) => { const r = e.getBoundingClientRect();
                return {what: e.tagName.toLowerCase() + " " + (e.getAttribute("aria-label") || e.innerText || "")
                              .trim().slice(0, 40), width: Math.round(r.width), height: Math.round(r.height)}; })"""


ANSWER_ON_TOP = """() => {  // for the screenshot: the chat at the top of the screen, scrolled to the first answer
  const chat = document.querySelector("#glute-chat"), log = chat.querySelector("[role='log']");
  const answer = log.querySelector("[data-testid='bot']");
  window.scrollTo(0, chat.getBoundingClientRect().top + window.scrollY);
  const off = answer.getBoundingClientRect().top - log.getBoundingClientRect().top - 48;
  log.scrollTop += off;
  return Math.abs(off);
}"""


def no_sideways_scroll_and_big_targets(page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{where}: the page scrolls sideways ({width} px wide)"
    small = [t for t in page.evaluate(TARGETS) if min(t["width"], t["height"]) < MIN_TARGET_PX]
    assert not small, f"{where}: tap targets under {MIN_TARGET_PX} px: {small}"


@pytest.mark.browser
def test_a_phone_can_ask_read_the_sources_and_the_exercises(browser, ui_url: str):
    from playwright.sync_api import expect

    with opened(browser, ui_url, PHONE, has_touch=True, is_mobile=True) as page:
        no_sideways_scroll_and_big_targets(page, "the empty chat")

        ask(page, FLAGSHIP, timeout=FIRST_ANSWER_MS)
        chat = page.locator("#glute-chat")
        sources_toggles(chat).first.tap()
        passage = chat.locator("details.glute-sources[open] blockquote").first
        expect(passage).to_be_visible()
        expect(passage).to_contain_text("Loop a resistance band around your upper thighs.")
        no_sideways_scroll_and_big_targets(page, "an answer with its Sources open")
        page.wait_for_function(SETTLED, timeout=5_000)
        for _ in range(20):  # the chat scrolls itself to its end (smoothly) when a block opens: wait for it to rest
            page.wait_for_timeout(250)
            if page.evaluate(ANSWER_ON_TOP) < 2:
                break
        PHONE_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(PHONE_SCREENSHOT))

        page.get_by_role("tab", name="Exercises").tap()
        choice = page.locator("#glute-exercise input")
        choice.tap()
        choice.fill("Lateral step-up")
        option = page.get_by_role("option", name="Lateral step-up", exact=True)
        expect(option).to_be_visible()
        no_sideways_scroll_and_big_targets(page, "the list of exercises")
        option.tap()
        expect(page.locator("#glute-exercise-page h2")).to_have_text("Lateral step-up")
        expect(page.get_by_role("option")).to_have_count(0)
        no_sideways_scroll_and_big_targets(page, "an exercise page")


# --- the rendering behind it (no browser) ---------------------------------------------------------------------------

CLAM = Citation(1, "clamshell#make-it-harder", "clamshell", "Clamshell", "Make it harder",
                "- Loop a resistance band around your upper thighs.", "corpus/exercises/clamshell.md")


def test_markers_read_as_source_n_and_the_answer_json_keeps_its_text():
    text = "To make it harder:\n- Loop a band. [1]\n- Start light. [1] [2]\n- See [3](https://example.org)."
    answer = Answer("q", "q", text, [CLAM])
    shown = answer_markdown(answer)
    assert shown.count(marker_html(1)) == 2 and marker_html(2) in shown
    assert ">[1]</span>" in marker_html(1) and ">source 1</span>" in marker_html(1)
    assert "[3](https://example.org)" in shown  # a Markdown link's text is not a marker
    assert answer.to_dict()["answer"] == text and answer.answer == text


def test_the_red_flag_banner_is_an_alert_and_sources_a_native_disclosure():
    banner = answer_markdown(Answer("q", "q", "**Please get medical care now.**", safety="red_flag"))
    assert re.match(r'<div class="glute-red-flag" role="alert">', banner)
    block = sources_block([CLAM])
    assert block.startswith('<details class="glute-sources"><summary>Sources</summary>\n\n')
    assert block.endswith("\n\n</details>") and sources_markdown([CLAM]) in block
    assert f"**{marker_html(1)} Clamshell — Make it harder**" in block


def test_the_article_page_escapes_every_line_and_anchors_each():
    page = article_html(["First line.", "Use <b>bands</b> & care."], "Source article", "corpus/source/a.txt")
    assert '<li id="L1" tabindex="-1">First line.</li>' in page
    assert '<li id="L2" tabindex="-1">Use &lt;b&gt;bands&lt;/b&gt; &amp; care.</li>' in page
    assert '<html lang="en">' in page and 'name="viewport"' in page and "<b>" not in page
