"""An OpenAI-compatible chat API on the `glute serve` server: `POST /v1/chat/completions` and `GET /v1/models`.

Any chat front-end or OpenAI client can use glute as a model named "glute". The messages array is the conversation:
the last user message is the question, the user and assistant turns before it are the history (system, developer
and tool messages are ignored: glute's rules are its own). The reply is one assistant message, the answer with its
[n] markers and a Sources list under it (`answers.reply_text`); the response also carries `citations`, the
structured list of the answer JSON, and `glute`, the whole answer JSON, exactly what `/ask` returns (both come
from `answers.answer_json`). Refusals and red flags are ordinary assistant messages; `"stream": true` sends the
same message as server-sent events, in word-sized pieces, with `citations` on the last chunk.

When a sign-in is set (GLUTE_AUTH=user:password) every `/v1` request needs `Authorization: Bearer user:password`.
Errors use OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`: 400 for a malformed request, 401
without the key, 404 for another model, 413 for a body over 1 MiB, 429 when the queue is full, 500 when answering
failed (the traceback goes to the log only).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..errors import InvalidQuestion
from ..guard import clean_question
from .answers import SORRY, Answerer, Busy, bearer_ok, history_turns, reply_text

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

log = logging.getLogger(__name__)

MODEL_ID = "glute"
OWNER = "glute"
MAX_BODY_BYTES = 2**20
WORDS_PER_CHUNK = 4
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
TEXT_PARTS = ("text", "input_text")
PIECE = re.compile(r"\S*\s*")
CREATED = int(time.time())


class ApiError(Exception):
    """An error reply in OpenAI's shape."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        body = {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=headers)


UNAUTHORIZED = ApiError(401, "Missing or wrong API key: send 'Authorization: Bearer <user:password>', the "
                        "GLUTE_AUTH value the server was started with.", code="invalid_api_key")


@dataclass(frozen=True)
class ChatRequest:
    """The part of a /v1/chat/completions request glute reads: the last question, the turns before, streaming."""

    question: str
    history: list[dict[str, str]]
    stream: bool


def _text(content: Any, index: int) -> str | None:
    """A message's content as text: a string, or the text parts of a list of parts; None for no content."""
    if content is None or isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ApiError(400, f"messages[{index}].content must be a string or a list of content parts.",
                       param=f"messages[{index}].content")
    texts = []
    for part in content:
        if not isinstance(part, Mapping) or part.get("type") not in TEXT_PARTS or not isinstance(part.get("text"), str):
            raise ApiError(400, f"messages[{index}].content: only text parts are supported "
                           '({"type": "text", "text": "..."}).', param=f"messages[{index}].content")
        texts.append(part["text"])
    return "\n".join(texts)


def conversation(messages: Any) -> tuple[str, list[dict[str, str]]]:
    """(question, history): the last user message, and the user and assistant turns before it."""
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty array of {role, content} objects.", param="messages")
    turns: list[dict[str, str]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") not in ROLES:
            raise ApiError(400, f"messages[{index}] must be an object with a role ({', '.join(ROLES)}).",
                           param=f"messages[{index}]")
        text = _text(message.get("content"), index)
        if message["role"] in ("user", "assistant") and text is not None:
            turns.append({"role": message["role"], "content": text})
    last = next((i for i in range(len(turns) - 1, -1, -1) if turns[i]["role"] == "user"), None)
    if last is None:
        raise ApiError(400, "messages must contain a user message: the last one is the question.", param="messages")
    try:
        question = clean_question(turns[last]["content"])
    except InvalidQuestion as exc:
        raise ApiError(400, str(exc), param="messages", code="invalid_question") from None
    history = [t for t in turns[:last] if t["content"].strip()]
    return question, history_turns(history)


def parse_request(body: bytes) -> ChatRequest:
    """The chat request, checked; sampling options (temperature, max_tokens, ...) are accepted and ignored."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"The request body is not valid JSON ({exc}).") from None
    if not isinstance(data, Mapping):
        raise ApiError(400, "The request body must be a JSON object.")
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, f'You must provide a model: "{MODEL_ID}".', param="model")
    if model != MODEL_ID:
        raise ApiError(404, f'The model {model[:100]!r} does not exist; this server has one model, "{MODEL_ID}".',
                       param="model", code="model_not_found")
    stream = data.get("stream", False)
    if not isinstance(stream, bool) and stream is not None:
        raise ApiError(400, "stream must be true or false.", param="stream")
    if data.get("n", 1) not in (1, None):
        raise ApiError(400, "n must be 1: glute gives one answer per question.", param="n")
    question, history = conversation(data.get("messages"))
    return ChatRequest(question, history, bool(stream))


async def read_body(request: Request) -> bytes:
    """The body, refused once it passes MAX_BODY_BYTES (whether or not a Content-Length says so up front)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"The request body is over {MAX_BODY_BYTES // 1024} KiB.", code="request_too_large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, f"The request body is over {MAX_BODY_BYTES // 1024} KiB.", code="request_too_large")
    return bytes(body)


def completion(data: Mapping[str, Any], completion_id: str, created: int) -> dict[str, Any]:
    """The answer JSON as a `chat.completion` object."""
    return {"id": completion_id, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "system_fingerprint": None,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply_text(data), "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "citations": data.get("citations", []), "glute": data}


def pieces(text: str, words: int = WORDS_PER_CHUNK) -> Iterator[str]:
    """The text in pieces of a few words each (with their spacing), which join back to exactly the text."""
    parts = [p for p in PIECE.findall(text) if p]
    for start in range(0, len(parts), words):
        yield "".join(parts[start:start + words])


def chunks(data: Mapping[str, Any], completion_id: str, created: int) -> Iterator[dict[str, Any]]:
    """The answer JSON as `chat.completion.chunk` objects: the role, the content piece by piece, then the finish
    with `citations` and the answer JSON."""
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        return {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra}

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces(reply_text(data)):
        yield chunk({"content": piece})
    yield chunk({}, "stop", citations=data.get("citations", []), glute=data)


def models_list() -> dict[str, Any]:
    return {"object": "list", "data": [model_card()]}


def model_card() -> dict[str, Any]:
    return {"id": MODEL_ID, "object": "model", "created": CREATED, "owned_by": OWNER}


def openai_routes(answerer: Answerer, auth: tuple[str, str] | None) -> list[BaseRoute]:
    """The `/v1` routes, to go before Gradio's own on its FastAPI app."""

    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            try:
                if not bearer_ok(request.headers.get("authorization"), auth):
                    raise UNAUTHORIZED
                return await handler(request)
            except ApiError as exc:
                return exc.response()
            except ClientDisconnect:
                return Response(status_code=499)
        return endpoint

    async def chat_completions(request: Request) -> Response:
        chat = parse_request(await read_body(request))
        try:
            data = await answerer(chat.question, chat.history, "openai", log)
        except Busy:
            raise ApiError(429, "glute is busy answering other questions; please retry in a moment.",
                           kind="rate_limit_error", code="rate_limit_exceeded") from None
        if data is None:
            raise ApiError(500, SORRY, kind="server_error")
        completion_id, created = f"chatcmpl-{secrets.token_hex(12)}", int(time.time())
        if not chat.stream:
            return JSONResponse(completion(data, completion_id, created))

        async def events() -> AsyncIterator[str]:
            for item in chunks(data, completion_id, created):
                yield f"data: {json.dumps(item, ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def models(request: Request) -> Response:
        return JSONResponse(models_list())

    async def model(request: Request) -> Response:
        name = request.path_params["model"]
        if name != MODEL_ID:
            raise ApiError(404, f'The model {name[:100]!r} does not exist; this server has one model, "{MODEL_ID}".',
                           param="model", code="model_not_found")
        return JSONResponse(model_card())

    async def unknown(request: Request) -> Response:
        raise ApiError(404, f"{request.method} {request.url.path} is not part of glute's API: it serves "
                       "POST /v1/chat/completions and GET /v1/models.", code="unknown_url")

    return [
        Route("/v1/chat/completions", guarded(chat_completions), methods=["POST"]),
        Route("/v1/models", guarded(models), methods=["GET"]),
        Route("/v1/models/{model:path}", guarded(model), methods=["GET"]),
        Route("/v1/{rest:path}", guarded(unknown), methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
