"""`glute serve --mcp`: the `ask` tool over MCP's streamable HTTP transport at `/mcp`, on the same server as the UI.

Built with the `mcp` SDK (FastMCP), not Gradio's built-in MCP server: the `gradio[mcp]` extra pins pydantic below
the version chromadb's kubernetes client needs, so installing it leaves `pip check` broken. The tool's result is
the answer as text (`answers.reply_text`: the answer with its [n] markers, then Sources) for the model, and the
answer JSON itself (`answers.answer_json`, exactly what `/ask` returns) as structured content for programs.
Stateless: every request stands alone, so any number of clients and server restarts are fine. With a sign-in set
(GLUTE_AUTH=user:password) each request needs `Authorization: Bearer user:password`, as for `/v1`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal

from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.server import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import MAX_QUESTION_CHARS
from .answers import SORRY, Answerer, Busy, bearer_ok, history_turns, reply_text

log = logging.getLogger(__name__)

PATH = "/mcp"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
INSTRUCTIONS = ("glute answers questions about gluteus medius (outer hip) pain and its rehabilitation exercises, "
                "with numbered citations [n] to the passages each statement is quoted from. It gives information, "
                "not medical advice; it declines diagnoses, medicines and injections, and leads with advice to seek "
                "care when a question describes a warning sign.")
ASK_DESCRIPTION = ("Answer a question about gluteus medius pain, its rehabilitation exercises, or how to make an "
                   "exercise easier or harder, with citations. Returns the answer with [n] markers followed by its "
                   "Sources (the exact passages quoted); the structured result is glute's answer JSON (answer, "
                   "citations, refused, refusal_reason, safety). Pass earlier turns as history for follow-ups such "
                   "as 'and how do I make it easier?'.")


class Turn(BaseModel):
    """One earlier turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str


class RequireKey:
    """The MCP endpoint behind the same bearer key as `/v1` (when a sign-in is set)."""

    def __init__(self, app: ASGIApp, auth: tuple[str, str] | None):
        self.app, self.auth = app, auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        header = headers.get(b"authorization", b"").decode("latin-1")
        if scope["type"] == "http" and not bearer_ok(header, self.auth):
            denied = JSONResponse({"error": "Missing or wrong key: send 'Authorization: Bearer <user:password>', "
                                   "the GLUTE_AUTH value the server was started with."}, status_code=401,
                                  headers={"WWW-Authenticate": "Bearer"})
            await denied(scope, receive, send)
            return
        await self.app(scope, receive, send)


def build_server(answerer: Answerer, host: str, share: bool = False):
    """The FastMCP server with its one tool. DNS-rebinding protection (the Host and Origin headers must be
    loopback) stays on when the server listens on loopback only, as the SDK does by default."""
    if host in LOOPBACK and not share:
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"])
    else:
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    server = FastMCP("glute", instructions=INSTRUCTIONS, stateless_http=True, json_response=True,
                     streamable_http_path=PATH, transport_security=security, log_level="WARNING")

    @server.tool(name="ask", title="Ask glute", description=ASK_DESCRIPTION,
                 annotations=ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False))
    async def ask(question: Annotated[str, Field(description="The question, in the asker's own words (at most "
                                                 f"{MAX_QUESTION_CHARS:,} characters).")],
                  history: Annotated[list[Turn] | None, Field(description="Earlier turns, oldest first: "
                                                              "[{role: user|assistant, content}].")] = None,
                  ) -> CallToolResult:
        turns = history_turns(turn.model_dump() for turn in history or [])
        try:
            data = await answerer(question, turns, "mcp", log)
        except Busy:
            data, message = None, "glute is busy answering other questions; please retry in a moment."
        else:
            message = SORRY
        if data is None:
            return CallToolResult(content=[TextContent(type="text", text=message)], isError=True)
        return CallToolResult(content=[TextContent(type="text", text=reply_text(data))], structuredContent=data)

    return server


def mcp_endpoint(answerer: Answerer, auth: tuple[str, str] | None, host: str, share: bool = False,
                 ) -> tuple[Route, Callable[[Any], contextlib.AbstractAsyncContextManager[None]]]:
    """(the `/mcp` route, a lifespan that runs the MCP session manager while the server runs)."""
    server = build_server(answerer, host, share)
    server.streamable_http_app()  # creates the session manager
    manager = server.session_manager

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with manager.run():
            yield

    return Route(PATH, endpoint=RequireKey(StreamableHTTPASGIApp(manager), auth)), lifespan
