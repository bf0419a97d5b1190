"""Optional LLM-written answers: any chat model LangChain reaches (Ollama, or an OpenAI-compatible server such as
vLLM or llama.cpp's), prompted with the retrieved passages from prompts/, and checked by `verify` before it is
shown. Every failure (server error, timeout, unsupported text) is reported, never raised, so that the caller
can fall back to the extractive answer.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from .answer import Citation
from .config import MAX_QUESTION_CHARS, REPO_ROOT, Settings, parse_llm
from .errors import LLMConfigError
from .guard import screen
from .verify import verify

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from .retrieve import Hit

log = logging.getLogger(__name__)

PROMPTS_DIR = REPO_ROOT / "prompts"
USER_SPLIT = "<!-- user -->"
MAX_ANSWER_TOKENS = 400
MAX_CONDENSED_CHARS = 300
TAGS = re.compile(r"</?\s*(passages|question|conversation)\s*>", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{(passages|question|history)\}")
THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
CONDENSED_PREFIX = re.compile(r"^\s*(standalone|rewritten)?\s*question\s*:\s*", re.IGNORECASE)

OnDelta = Callable[[str], None]


@dataclass
class Generated:
    """What the model wrote and what of it survived the checks; `fallback_reason` is set when nothing did."""

    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    raw: str = ""
    dropped: list[tuple[str, str]] = field(default_factory=list)
    fallback_reason: str | None = None


def chat_model(settings: Settings) -> BaseChatModel:
    """The configured chat model, deterministic, failing fast: no retries, the configured timeout."""
    provider, model = parse_llm(settings.llm or "")
    try:
        if provider == "ollama":
            from langchain_ollama import ChatOllama

            headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
            return ChatOllama(model=model, base_url=settings.llm_base_url, temperature=0,
                              num_predict=MAX_ANSWER_TOKENS,
                              client_kwargs={"timeout": settings.llm_timeout_s, "headers": headers})
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise LLMConfigError(f"{settings.llm} needs the {exc.name} package: pip install 'glute[llm]'") from exc
    api_key = settings.llm_api_key or "not-needed"  # local servers need none; from_env falls back to OPENAI_API_KEY
    return ChatOpenAI(model=model, base_url=settings.llm_base_url, api_key=api_key,
                      timeout=settings.llm_timeout_s, max_retries=0, temperature=0, max_tokens=MAX_ANSWER_TOKENS)


@lru_cache(maxsize=4)
def load_prompt(name: str) -> tuple[str, str]:
    """(system, user template) of prompts/<name>.md, read at run time so it can be edited without code."""
    text = (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8")
    system, _, user = text.partition(USER_SPLIT)
    return system.strip(), user.strip()


def _quoted(text: str) -> str:
    """Text placed between the prompt's tags, unable to close them."""
    return TAGS.sub(" ", text).strip()


def _fill(template: str, values: dict[str, str]) -> str:
    """Placeholders filled in one pass, so a value that contains `{question}` is left as it is."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def passages_block(hits: Sequence[Hit]) -> str:
    return "\n\n".join(f"[{i}] {_quoted(h.chunk.title)} — {_quoted(h.chunk.section)}: {_quoted(h.chunk.text)}"
                       for i, h in enumerate(hits, 1))


def answer_messages(question: str, hits: Sequence[Hit]) -> list[tuple[str, str]]:
    system, user = load_prompt("answer")
    return [("system", system), ("human", _fill(user, {"passages": passages_block(hits),
                                                       "question": _quoted(question)}))]


def condense_messages(question: str, history: Sequence[dict[str, str]]) -> list[tuple[str, str]]:
    system, user = load_prompt("condense")
    turns = "\n".join(f"{t['role']}: {_quoted(t['content'])}" for t in history)
    return [("system", system), ("human", _fill(user, {"history": turns, "question": _quoted(question)}))]


def describe_error(exc: BaseException) -> str:
    """'timeout' for anything that timed out, otherwise 'llm_error: <type>: <message>' on one line."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    if any(isinstance(e, TimeoutError) or "timeout" in type(e).__name__.lower() for e in chain):
        return "timeout"
    message = " ".join(str(chain[0]).split())[:200]
    return f"llm_error: {type(chain[0]).__name__}: {message}"


class Writer:
    """The configured chat model with its prompts; `answer` returns only text that passed `verify`."""

    def __init__(self, settings: Settings, embeddings: Embeddings, model: BaseChatModel | None = None):
        self.settings = settings
        self.embeddings = embeddings
        self.model = model or chat_model(settings)

    def stream(self, messages: list[tuple[str, str]]) -> Iterator[str]:
        """The model's text as it arrives; TimeoutError once the whole reply takes longer than the timeout."""
        deadline = time.monotonic() + self.settings.llm_timeout_s
        for chunk in self.model.stream(messages):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete reply within {self.settings.llm_timeout_s:g} s")
            if isinstance(chunk.content, str) and chunk.content:
                yield chunk.content

    def complete(self, messages: list[tuple[str, str]], on_delta: OnDelta | None = None) -> str:
        if on_delta is None:
            content = self.model.invoke(messages).content
            text = content if isinstance(content, str) else ""
        else:
            parts = []
            for delta in self.stream(messages):
                parts.append(delta)
                on_delta(delta)
            text = "".join(parts)
        return THINKING.sub("", text).strip()

    def answer(self, question: str, hits: Sequence[Hit], on_delta: OnDelta | None = None) -> Generated:
        """The model's answer from these passages, verified; on any failure a `fallback_reason` and no text.
        `on_delta` receives the raw text as it streams (for progress only: it is not yet verified)."""
        try:
            raw = self.complete(answer_messages(question, hits), on_delta)
        except Exception as exc:  # a model server can fail in many ways; each one means: fall back
            return Generated(fallback_reason=describe_error(exc))
        checked = verify(raw, [h.chunk for h in hits], self.embeddings.embed_documents)
        for sentence, why in checked.dropped:
            log.info("dropped an unsupported sentence (%s): %r", why, sentence)
        return Generated(checked.answer, checked.citations, raw, checked.dropped, checked.fallback_reason)

    def condense(self, question: str, history: Sequence[dict[str, str]]) -> str | None:
        """The follow-up rewritten to stand alone, or None when the model fails or replies with something else."""
        try:
            text = self.complete(condense_messages(question, history))
        except Exception:
            return None
        lines = [line for line in text.splitlines() if line.strip()]
        condensed = CONDENSED_PREFIX.sub("", lines[0]).strip().strip("\"'“”") if lines else ""
        if not condensed or len(condensed) > min(MAX_CONDENSED_CHARS, MAX_QUESTION_CHARS) or len(lines) > 1:
            return None
        if screen(condensed) is not None:  # the guard judged the question as typed; the rewrite may not change that
            return None
        return condensed
