"""The Gradio chat UI: a thin layout over `Assistant`; every answer comes from `Assistant.ask`.

`build_app(bot)` makes the Blocks (chat, exercise pages, feedback, and the `/ask` API endpoint);
`launch(app, ...)` starts it with the theme and queue it needs; `start(...)` launches it with the OpenAI-compatible
`/v1` routes (and, with `mcp=True`, the MCP endpoint) on the same server; `serve(...)` is `glute serve`.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..config import Settings
from ..corpus import load_corpus
from ..errors import GluteError
from .answers import SORRY, answer_json, safe_ask
from .display import exercise_markdown, question_markdown, sources_markdown, streamed
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
#glute-notice { font-size: 0.9em; opacity: 0.85; }
"""
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


def exercise_pages(settings: Settings) -> dict[str, str]:
    """Exercise name -> page, rendered from the corpus entries (the one source of truth)."""
    corpus = load_corpus(settings.corpus_dir)
    entries = sorted(corpus.exercises, key=lambda e: e.name.lower())
    return {entry.name: exercise_markdown(entry, corpus.references) for entry in entries}


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
            messages.append(gr.ChatMessage(role="assistant", content=sources_markdown(answer.citations),
                                           metadata={"title": SOURCES_TITLE, "status": "done"}))
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

    try:
        pages = exercise_pages(bot.settings)
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
            with gr.Row():
                example_buttons = [gr.Button(text, size="sm", variant="secondary") for text in EXAMPLES]
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
    return app.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, *, share: bool = False,
           prevent_thread_lock: bool = False, quiet: bool = True, auth: tuple[str, str] | None = None,
           app_kwargs: dict[str, Any] | None = None):
    """Start the server; system fonts keep the page from reaching for web fonts offline. With `auth`
    (user, password) the page and the API ask for them first. `app_kwargs` go to the FastAPI app Gradio creates
    (`routes` placed before Gradio's own, a `lifespan`): how the other APIs share this server."""
    theme = gr.themes.Soft(font=SYSTEM_FONTS, font_mono=MONO_FONTS)
    return app.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=prevent_thread_lock,
                      quiet=quiet, theme=theme, css=CSS, ssr_mode=False, show_error=False, inbrowser=False,
                      auth=auth, auth_message=AUTH_MESSAGE if auth else None, app_kwargs=app_kwargs)


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
