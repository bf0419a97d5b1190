"""The Gradio chat UI: a thin layout over `Assistant`; every answer comes from `Assistant.ask`.

`build_app(bot)` makes the Blocks (chat, exercise pages, feedback, and the `/ask` API endpoint) and the read-only
`/article` page its Sources link to; `launch(app, ...)` starts it with the theme, CSS and page script it needs;
`start(...)` launches it with the OpenAI-compatible `/v1` routes (and, with `mcp=True`, the MCP endpoint) on the same
server; `serve(...)` is `glute serve`.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..config import Settings
from ..corpus import ARTICLE_KEY, Corpus, load_corpus
from ..errors import GluteError
from . import lean  # noqa: F401  (imported for its effect: Gradio's events never import matplotlib for glute)
from .answers import SORRY, answer_json, safe_ask
from .display import article_html, exercise_markdown, question_markdown, sources_block, streamed
from .feedback import FeedbackLog
from .logs import configure_logging

if TYPE_CHECKING:
    from ..pipeline import Assistant

log = logging.getLogger(__name__)

EXAMPLES = (
    "How do I make clamshells harder?",
    "What height should the step be for lateral step-ups?",
    "What are common mistakes in a single-leg bridge?",
    "What does the gluteus medius do?",
    "When should I see a clinician about hip pain?",
)
NOTICE = ("**Not medical advice.** glute shares general information from its sources; it cannot examine or "
          "diagnose you. If pain is severe or sudden, follows a fall, or comes with fever, numbness or loss of "
          "bladder or bowel control, see a clinician now.")
SOURCES_TITLE = "Sources"
CONCURRENCY_LIMIT = 4
QUEUE_SIZE = 64  # waiting requests beyond this get a polite "busy" error instead of piling up memory
AUTH_MESSAGE = "Sign in to use glute."
STREAM_PAUSE_S = 0.02
CSS = """
.glute-red-flag { background: #fdecea; color: #7f1d1d; border-left: 4px solid #c62828;
                  padding: 0.5em 0.75em; border-radius: 4px; margin-bottom: 0.5em; }
.glute-red-flag strong { color: inherit !important; }  /* in dark mode too: dark red on pink, never grey */
#glute-notice { font-size: 0.9em; }
/* Keyboard focus is always visible (WCAG 2.4.7), also where Gradio's theme removes the outline. */
:is(a, button, input, textarea, select, summary, [role="button"], [role="tab"], [role="option"],
    [tabindex]):focus-visible { outline: 3px solid #1d4ed8 !important; outline-offset: 2px !important; }
:is(input, textarea):focus-visible { outline-offset: 0 !important; }
.dark :is(a, button, input, textarea, select, summary, [role="button"], [role="tab"], [tabindex]):focus-visible {
    outline-color: #93c5fd !important; }
/* Text for screen readers only: "source 1" beside the visible "[1]". */
.glute-sr-only { position: absolute !important; width: 1px !important; height: 1px !important; padding: 0 !important;
                 margin: -1px !important; overflow: hidden !important; clip: rect(0 0 0 0) !important;
                 clip-path: inset(50%) !important; white-space: nowrap !important; border: 0 !important; }
.glute-marker { white-space: nowrap; }
/* Sources: a native disclosure with a 44 px target. */
details.glute-sources > summary { cursor: pointer; font-weight: 600; padding: 10px 8px; line-height: 24px;
                                  border-radius: 6px; }
details.glute-sources > summary:hover { background: var(--background-fill-secondary); }
/* Long passages and addresses wrap instead of widening the page on a phone. */
#glute-chat .message-content, #glute-exercise-page { overflow-wrap: anywhere; }
"""
# In the page's <head>, not `css`: Gradio scopes `css` inside media queries to the app's container, which leaves out
# its footer. Tap targets of at least 44 px on touch screens and narrow windows (WCAG 2.5.5), links in the Sources
# and reference lists included.
HEAD_CSS = """
@media (pointer: coarse), (max-width: 640px) {
    #glute-chat button.icon-button, .tab-container button, #glute-send, #glute-clear, .glute-example,
    #glute-exercise input, footer a, footer button { min-height: 44px !important; }
    #glute-chat button.icon-button, .tab-container button, footer a, footer button { min-width: 44px !important; }
    footer a, footer button { display: inline-flex !important; align-items: center; }
    [role="listbox"] > [role="option"] { min-height: 44px; display: flex; align-items: center; }
    #glute-examples { flex-wrap: wrap !important; }
    #glute-examples .glute-example { flex: 1 1 100% !important; }
    #glute-chat .message-content small a, #glute-exercise-page li a { display: inline-block; min-height: 44px;
                                                                       padding: 10px 0; box-sizing: border-box; }
}
"""
# Runs in the page (launch's `head`). The chat's sanitizer keeps no aria-* attribute and Gradio names each message
# with its raw Markdown (`aria-label="bot's message: **[1] ...`), which is what some screen readers read. This names
# each message with its readable text instead ("source 1", never "[1]" or a tag; a closed Sources block gives only
# its summary) and hides the visible "[1]" from screen readers, whose text is the hidden "source 1" beside it.
# The question box is locked (disabled) while an answer streams, which drops the keyboard focus on <body>: when the
# answer is whole and the focus is still lost, it moves to the answer, so that the answer is read out and Tab goes
# on to its Sources. Gradio's dropdown also drops the focus once an exercise is picked (gradio-app/gradio#5062): picked
# with the keyboard, the focus moves to the exercise's page.
A11Y_JS = """
(() => {
  const WHO = {user: "You: ", bot: "glute: "};
  const SKIP = ".glute-marker-shown, [aria-hidden='true'], style, script, button, svg";
  const BOX = "#glute-question textarea";
  const MESSAGES = "#glute-chat [data-testid='bot'], #glute-chat [data-testid='user']";
  const named = new WeakMap();  // message -> the label set here; Gradio resets it whenever the message changes
  function readable(node) {
    let text = "";
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) { text += child.data; continue; }
      if (child.nodeType !== Node.ELEMENT_NODE || child.matches(SKIP)) continue;
      const shown = child.tagName === "DETAILS" && !child.open ? child.querySelector(":scope > summary") : child;
      if (!shown) continue;
      const inline = getComputedStyle(shown).display.startsWith("inline");
      text += inline ? readable(shown) : " " + readable(shown) + " ";
    }
    return text;
  }
  function name() {
    for (const marker of document.querySelectorAll(".glute-marker-shown:not([aria-hidden])")) {
      marker.setAttribute("aria-hidden", "true");
    }
    for (const message of document.querySelectorAll(MESSAGES)) {
      if (named.get(message) === message.getAttribute("aria-label")) continue;
      const label = WHO[message.dataset.testid] + readable(message).replace(/\\s+/g, " ").trim();
      named.set(message, label);
      message.setAttribute("aria-label", label);
    }
  }
  let locked = false;
  function followLock() {
    const box = document.querySelector(BOX);
    if (!box) return;
    if (box.disabled) { locked = true; return; }
    if (!locked) return;
    locked = false;
    if (document.activeElement && document.activeElement !== document.body) return;
    const answers = [...document.querySelectorAll("#glute-chat [data-testid='bot']")]
      .filter((message) => !message.querySelector("details.glute-sources"));
    const answer = answers[answers.length - 1];
    if (!answer) { box.focus(); return; }
    name();
    answer.setAttribute("tabindex", "-1");
    answer.focus();
  }
  let queued = false;
  function soon() { if (!queued) { queued = true; setTimeout(() => { queued = false; name(); followLock(); }, 0); } }
  new MutationObserver((records) => {
    if (records.some((r) => r.attributeName === "disabled" && r.target.matches(BOX))) followLock();
    soon();
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true,
                                         attributeFilter: ["aria-label", "disabled"]});
  document.addEventListener("toggle", (event) => {  // a Sources block opened or closed: name its message again
    const message = event.target.closest?.(MESSAGES);
    if (message) named.delete(message);
    soon();
  }, true);
  let picked = false;
  document.addEventListener("keydown", (event) => {
    picked = event.key === "Enter" && !!event.target.closest?.("#glute-exercise");
  }, true);
  document.addEventListener("focusout", (event) => {
    if (!picked || event.relatedTarget || !event.target.closest?.("#glute-exercise")) return;
    picked = false;
    setTimeout(() => {
      const page = document.querySelector("#glute-exercise-page");
      if (!page || (document.activeElement && document.activeElement !== document.body)) return;
      page.setAttribute("tabindex", "-1");
      page.focus();
    }, 0);
  }, true);
  soon();
})();
"""
HEAD = f"<style>{HEAD_CSS}</style>\n<script>{A11Y_JS}</script>"
SYSTEM_FONTS = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")

def conversation(turns: list[dict]) -> list[dict[str, str]]:
    """The turns so far as `Assistant.ask` history: questions and answers only, never the Sources blocks."""
    history: list[dict[str, str]] = []
    for turn in turns:
        if turn.get("answer"):
            history += [{"role": "user", "content": turn["question"]},
                        {"role": "assistant", "content": turn["answer"]["answer"]}]
    return history


def exercise_pages(settings: Settings, corpus: Corpus | None = None) -> dict[str, str]:
    """Exercise name -> page, rendered from the corpus entries (the one source of truth)."""
    corpus = corpus or load_corpus(settings.corpus_dir)
    entries = sorted(corpus.exercises, key=lambda e: e.name.lower())
    return {entry.name: exercise_markdown(entry, corpus.references) for entry in entries}


def signed_in(request: Request) -> bool:
    """Whether the request carries the sign-in cookie of the Gradio app serving it (always, without GLUTE_AUTH)."""
    server = request.app
    if getattr(server, "auth", None) is None and getattr(server, "auth_dependency", None) is None:
        return True
    cookie_id = getattr(server, "cookie_id", "")
    token = (request.cookies.get(f"access-token-{cookie_id}")
             or request.cookies.get(f"access-token-unsecure-{cookie_id}"))
    return token is not None and token in getattr(server, "tokens", {})


def article_route(corpus: Corpus) -> Route:
    """GET /article: the source article, read-only, one anchor per line (`#L36`); behind the sign-in when set."""
    title = str((corpus.references.get(ARTICLE_KEY) or {}).get("title") or "Source article")
    page = article_html(corpus.article_lines, title, corpus.relpath(corpus.article_path))

    async def article(request: Request) -> Response:
        if not signed_in(request):
            return RedirectResponse("./", status_code=303)
        return HTMLResponse(page)

    return Route("/article", article, methods=["GET"])


def build_app(bot: Assistant) -> gr.Blocks:
    """The whole UI for one loaded assistant; handlers catch every error so users never see a traceback."""
    feedback = FeedbackLog(bot.settings.state_dir, enabled=bot.settings.feedback)

    def respond(question: str, messages: list, turns: list[dict]):
        """Stream the answer to the question already shown in the chat, then add its Sources block."""
        if not question.strip():
            yield messages, turns
            return
        answer = safe_ask(bot, question, conversation(turns), "chat", log)
        if answer is None:
            yield [*messages, gr.ChatMessage(role="assistant", content=SORRY)], [
                *turns, {"question": question, "answer": None}]
            return
        for partial in streamed(answer):
            yield [*messages, gr.ChatMessage(role="assistant", content=partial)], turns
            time.sleep(STREAM_PAUSE_S)
        messages = [*messages, gr.ChatMessage(role="assistant", content=partial)]
        if answer.citations:
            messages.append(gr.ChatMessage(role="assistant", content=sources_block(answer.citations, SOURCES_TITLE)))
        yield messages, [*turns, {"question": question, "answer": answer.to_dict()}]

    def record_vote(messages: list, turns: list[dict], vote: gr.LikeData) -> None:
        try:
            index = vote.index[0] if isinstance(vote.index, list | tuple) else vote.index
            asked = sum(1 for m in messages[: index + 1] if m.get("role") == "user")
            turn = turns[asked - 1]
            answer = turn["answer"] or {}
            liked = {True: "up", False: "down"}.get(vote.liked, str(vote.liked or "none"))
            feedback.record(turn["question"], [c["chunk_id"] for c in answer.get("citations", [])], liked)
        except Exception:
            log.exception("recording feedback failed")

    def ask(question: str, history: list[dict] | None = None) -> dict:
        """Answer one question with citations; the same JSON as `glute ask --json`."""
        data = answer_json(bot, question, history or [], "api", log)
        if data is None:
            raise gr.Error(SORRY)
        return data

    routes: list[Route] = []
    try:
        corpus = load_corpus(bot.settings.corpus_dir)
        pages = exercise_pages(bot.settings, corpus)
        routes.append(article_route(corpus))
        pages_error = ""
    except (GluteError, OSError) as exc:
        log.exception("loading the exercise pages failed")
        pages, pages_error = {}, f"The exercise pages could not be loaded ({type(exc).__name__}); see the log."

    with gr.Blocks(title="glute: gluteus medius help", analytics_enabled=False) as app:
        gr.Markdown("# glute\nAnswers about gluteus medius (outer hip) pain and rehab exercises, "
                    "with the sources they come from.")
        gr.Markdown(NOTICE + " " + feedback.notice, elem_id="glute-notice")
        turns = gr.State([])
        pending = gr.State("")
        with gr.Tab("Chat"):
            chatbot = gr.Chatbot(label="Conversation", height=520, latex_delimiters=[], sanitize_html=True,
                                 buttons=["copy", "copy_all"], elem_id="glute-chat",
                                 placeholder="Ask how to do an exercise, or how to make it easier or harder.")
            with gr.Row():
                question = gr.Textbox(placeholder="Ask about an exercise or outer-hip pain…", show_label=False,
                                      scale=5, lines=1, max_lines=4, elem_id="glute-question", autofocus=True)
                send = gr.Button("Send", variant="primary", scale=1, elem_id="glute-send")
            gr.Markdown("**Try:**")
            with gr.Row(elem_id="glute-examples"):
                example_buttons = [gr.Button(text, size="sm", variant="secondary", elem_classes="glute-example")
                                   for text in EXAMPLES]
            with gr.Row():
                clear = gr.Button("Clear conversation", size="sm", scale=0, min_width=180, elem_id="glute-clear")
        with gr.Tab("Exercises"):
            if pages:
                first = next(iter(pages))
                choice = gr.Dropdown(list(pages), value=first, label="Exercise", elem_id="glute-exercise")
                page = gr.Markdown(pages[first], elem_id="glute-exercise-page")
                choice.change(lambda name: pages.get(name, ""), choice, page, api_visibility="private")
            else:
                gr.Markdown(pages_error or "No exercises in the corpus yet.")

        # One question at a time per page: the controls are locked from the question until its answer is whole.
        controls = [question, send, clear, *example_buttons]

        def start_turn(text: str | None, messages: list):
            text = text or ""
            if text.strip():
                messages = [*messages, gr.ChatMessage(role="user", content=question_markdown(text))]
            locked = [gr.update(interactive=False)] * (len(controls) - 1)
            return text, messages, gr.update(value="", interactive=False), *locked

        def unlock():
            return [gr.update(interactive=True)] * len(controls)

        for trigger, source in [(question.submit, question), (send.click, question),
                                *[(button.click, button) for button in example_buttons]]:
            trigger(start_turn, [source, chatbot], [pending, chatbot, *controls], api_visibility="private",
                    queue=False).then(
                respond, [pending, chatbot, turns], [chatbot, turns], api_visibility="private",
                show_progress="hidden").then(
                unlock, None, controls, api_visibility="private", queue=False)
        clear.click(lambda: ("", [], []), None, [question, chatbot, turns], api_visibility="private")
        chatbot.clear(lambda: [], None, turns, api_visibility="private")
        chatbot.like(record_vote, [chatbot, turns], None, api_visibility="private")
        gr.api(ask, api_name="ask")
    app.glute_routes = routes  # served by `launch`, before Gradio's own routes
    return app.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, *, share: bool = False,
           prevent_thread_lock: bool = False, quiet: bool = True, auth: tuple[str, str] | None = None,
           app_kwargs: dict[str, Any] | None = None):
    """Start the server; system fonts keep the page from reaching for web fonts offline. With `auth`
    (user, password) the page and the API ask for them first. `app_kwargs` go to the FastAPI app Gradio creates
    (`routes` placed before Gradio's own, a `lifespan`): how the other APIs share this server."""
    app_kwargs = dict(app_kwargs or {})
    app_kwargs["routes"] = [*getattr(app, "glute_routes", ()), *app_kwargs.get("routes", ())]
    return app.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=prevent_thread_lock,
                      quiet=quiet, theme=theme(), css=CSS, head=HEAD, ssr_mode=False,
                      show_error=False, inbrowser=False, auth=auth, auth_message=AUTH_MESSAGE if auth else None,
                      app_kwargs=app_kwargs)


def theme() -> gr.themes.Base:
    """Gradio's Soft theme with every text colour at WCAG AA contrast (4.5:1): its indigo labels, selected tab and
    dark-mode links, white on its indigo buttons and its grey footer and placeholders fall short (3.6, 4.46, 4.28,
    4.46 and 2.4)."""
    return gr.themes.Soft(font=SYSTEM_FONTS, font_mono=MONO_FONTS).set(
        block_label_text_color="*primary_700", block_title_text_color="*primary_700",
        button_primary_background_fill="*primary_600", button_primary_background_fill_hover="*primary_700",
        color_accent="*primary_600",
        body_text_color_subdued="*neutral_600", input_placeholder_color="*neutral_500",
        link_text_color_dark="*secondary_400", link_text_color_visited_dark="*secondary_400",
        link_text_color_active_dark="*secondary_400", link_text_color_hover_dark="*secondary_300")


def start(bot: Assistant, host: str = "127.0.0.1", port: int | None = 7860, *, share: bool = False,
          auth: tuple[str, str] | None = None, mcp: bool = False, quiet: bool = True) -> gr.Blocks:
    """The UI and its `/ask`, the OpenAI-compatible `/v1` routes and, with `mcp`, the MCP endpoint at `/mcp`: one
    server, one port, started without blocking. `auth` covers all of them (the UI's sign-in; a bearer key for
    `/v1` and `/mcp`)."""
    from .answers import Answerer
    from .openai_api import openai_routes

    answerer = Answerer(bot, CONCURRENCY_LIMIT, QUEUE_SIZE)
    routes = openai_routes(answerer, auth)
    app_kwargs: dict[str, Any] = {"routes": routes}
    if mcp:
        from .mcp_tool import mcp_endpoint

        route, app_kwargs["lifespan"] = mcp_endpoint(answerer, auth, host, share)
        routes.insert(0, route)
    app = build_app(bot)
    launch(app, host, port, share=share, prevent_thread_lock=True, quiet=quiet, auth=auth, app_kwargs=app_kwargs)
    return app


def ensure_port_free(host: str, port: int) -> None:
    """Fail in a second, before the model loads, when the port is taken."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise GluteError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                             "choose another --port or stop the program using it.") from exc


def serve(host: str = "127.0.0.1", port: int = 7860, share: bool = False, *, index_dir: str | Path | None = None,
          settings: Settings | None = None, auth: tuple[str, str] | None = None, mcp: bool = False) -> None:
    """`glute serve`: load (building the index if missing), start the UI and the APIs, print where they are, block
    until Ctrl-C. Errors and one line per answer go to `<state_dir>/glute.log`; `auth` is (user, password) and is
    never shown; `mcp` also serves the MCP endpoint."""
    from ..pipeline import Assistant

    ensure_port_free(host, port)
    bot = Assistant.load(index_dir, settings=settings, progress=True)
    log_path = configure_logging(bot.settings.state_dir)
    app = start(bot, host, port, share=share, auth=auth, mcp=mcp)
    print(f"glute is running at {app.local_url}  (Ctrl-C to stop)", flush=True)
    print(f"OpenAI-compatible API: {app.local_url}v1 (model \"glute\")", flush=True)
    if mcp:
        print(f"MCP (streamable HTTP): {app.local_url}mcp (tool \"ask\")", flush=True)
    if log_path:
        print(f"Log: {log_path}", flush=True)
    if auth:
        print("Sign-in required (the user and password from GLUTE_AUTH / --auth; for /v1 and /mcp, the bearer "
              "key user:password).", flush=True)
    elif share or host not in ("127.0.0.1", "localhost", "::1"):
        print("Warning: no sign-in is set; anyone who can reach this address can use it "
              "(set GLUTE_AUTH=user:password or --auth).", flush=True)
    if share and app.share_url:
        print(f"Public link (anyone with it can use this): {app.share_url}", flush=True)
    try:
        app.block_thread()
    finally:
        app.close()
