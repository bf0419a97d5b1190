"""The one code path the three HTTP APIs share: Gradio's `/ask`, the OpenAI-compatible `/v1` and the MCP `ask` tool.

Each of them calls `answer_json` (or, for the chat UI that also needs the `Answer` itself, `safe_ask`), so they
return the same answer JSON, `Answer.to_dict()`, passed through untouched. `reply_text` turns that JSON into one
self-contained message, the answer with its [n] markers and a Sources list under it, for clients that show
text only (chat front-ends, agents); `history_turns` undoes it when such a client sends the conversation back.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .logs import log_answer

if TYPE_CHECKING:
    from ..answer import Answer
    from ..pipeline import Assistant

SORRY = ("Sorry, something went wrong on my side while answering. Please try again in a moment, "
         "or ask the question another way.")
RED_FLAG_LEAD = "\u26a0\ufe0f **Red flag: this may need medical care now.** Please read this first.\n\n"
SOURCES_RULE = "\n\n---\n**Sources**\n"
ARTICLE_LINES = re.compile(r"#L(\d+)(?:-L(\d+))?$")
HTTP_URL = re.compile(r"^https?://", re.IGNORECASE)


def safe_ask(bot: Assistant, question: Any, history: Any, via: str, log: logging.Logger) -> Answer | None:
    """`bot.ask`, with one log line per answer; None (and the traceback in `log`, the caller's module logger, never
    to the person asking) when it fails. `via` names the way in for the log: chat, api, openai, mcp."""
    try:
        answer = bot.ask(question, history)
    except Exception:
        log.exception("answering failed (via %s)", via)
        return None
    log_answer(answer, via)
    return answer


def answer_json(bot: Assistant, question: Any, history: Any, via: str,
                log: logging.Logger) -> dict[str, Any] | None:
    """The answer JSON every API returns (`Answer.to_dict()`, as `glute ask --json` prints it), or None on failure."""
    answer = safe_ask(bot, question, history, via, log)
    return None if answer is None else answer.to_dict()


class Busy(Exception):
    """More requests are waiting than the server queues; the caller should retry later."""


class Answerer:
    """`answer_json` for the async APIs (`/v1`, MCP): in a worker thread, at most `concurrency` at once (as the
    UI's queue answers), with at most `waiting` more in line; beyond that `Busy`, never an unbounded pile-up."""

    def __init__(self, bot: Assistant, concurrency: int, waiting: int):
        self.bot = bot
        self.concurrency = concurrency
        self.capacity = concurrency + waiting
        self.in_flight = 0  # changed on the event loop's thread only
        self._limiter = None

    async def __call__(self, question: Any, history: Any, via: str, log: logging.Logger) -> dict[str, Any] | None:
        import anyio

        if self.in_flight >= self.capacity:
            raise Busy
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        self.in_flight += 1
        try:
            return await anyio.to_thread.run_sync(answer_json, self.bot, question, history, via, log,
                                                  limiter=self._limiter)
        finally:
            self.in_flight -= 1


def bearer_ok(authorization: str | None, auth: tuple[str, str] | None) -> bool:
    """Whether an `Authorization` header carries the key: with GLUTE_AUTH=user:password set, the key is that whole
    `user:password` string (`Authorization: Bearer user:password`); with no sign-in set, anything passes."""
    if auth is None:
        return True
    scheme, _, token = (authorization or "").strip().partition(" ")
    expected = f"{auth[0]}:{auth[1]}"
    return scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), expected.encode())


def _where(citation: Mapping[str, Any]) -> str:
    """The file a passage comes from; article passages (`source#L35-L36`) also give their lines."""
    source = str(citation.get("source", ""))
    match = ARTICLE_LINES.search(str(citation.get("chunk_id", "")))
    if not match:
        return source
    first, last = match.group(1), match.group(2)
    return f"{source}, line {first}" if not last or last == first else f"{source}, lines {first}\u2013{last}"


def _origin(item: Mapping[str, Any]) -> str:
    """One provenance item (when the answer JSON carries them) as a short "from:" line."""
    if item.get("kind") == "article":
        return f"from: source article, line {item.get('line')}"
    title = str(item.get("title") or item.get("key") or "a reference")
    url = str(item.get("url") or "")
    label = title.replace("[", "\\[").replace("]", "\\]")
    named = f"[{label}]({url})" if HTTP_URL.match(url) and not set("()<> ") & set(url) else title
    by = item.get("publisher") or item.get("authors")
    byline = f"{by} \u2014 " if by else ""
    year = f" ({item['year']})" if item.get("year") else ""
    plain_url = f" <{url}>" if HTTP_URL.match(url) and named == title else ""
    return f"from: {byline}{named}{year}{plain_url}"


def sources_text(citations: Iterable[Mapping[str, Any]]) -> str:
    """Each marker as a footnote: entry and section, the file, the exact passage, and its origins when known."""
    notes = []
    for c in citations:
        lines = [f"- **[{c.get('marker')}] {c.get('title', '')} \u2014 {c.get('section', '')}** ({_where(c)})"]
        lines += [f"  > {line.strip()}" for line in str(c.get("text", "")).splitlines() if line.strip()]
        origins = dict.fromkeys(_origin(p) for p in c.get("provenance") or () if isinstance(p, Mapping))
        lines += [f"  - {origin}" for origin in origins]
        notes.append("\n".join(lines))
    return "\n".join(notes)


def reply_text(data: Mapping[str, Any]) -> str:
    """The answer JSON as one message: a red-flag lead when there is one, the answer with its markers, then Sources."""
    lead = RED_FLAG_LEAD if data.get("safety") == "red_flag" else ""
    text = lead + str(data.get("answer", "")).rstrip()
    citations = data.get("citations") or []
    return text + SOURCES_RULE + sources_text(citations) if citations else text


def strip_reply(content: str) -> str:
    """An assistant turn as `Assistant.ask` wrote it: without the Sources list and red-flag lead `reply_text` added
    (follow-ups are resolved from the answer's own words, not from the titles in its footnotes)."""
    content = content.split(SOURCES_RULE, 1)[0]
    return content.removeprefix(RED_FLAG_LEAD)


def history_turns(turns: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """User and assistant turns (as plain text) as `Assistant.ask` history, with glute's own footers removed."""
    return [{"role": t["role"], "content": strip_reply(t["content"]) if t["role"] == "assistant" else t["content"]}
            for t in turns]
