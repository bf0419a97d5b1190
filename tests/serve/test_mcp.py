"""`glute serve --mcp`: an MCP client over streamable HTTP lists the `ask` tool and gets cited answers."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.helpers import MARKER
from tests.serve.ui_fixtures import API_KEY, api_server_fixture  # noqa: F401

FLAGSHIP = "how do I make clamshells harder?"
ANSWER_KEYS = {"question", "standalone_question", "answer", "citations", "refused", "refusal_reason", "safety",
               "mode", "timings_ms"}


def with_session(url: str, work, key: str | None = API_KEY):
    """Run `work(session)` in an initialized MCP client session over streamable HTTP."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def main():
        headers = {"Authorization": f"Bearer {key}"} if key else None
        async with httpx.AsyncClient(headers=headers, timeout=60) as http, \
                streamable_http_client(f"{url}mcp", http_client=http) as (read, write, _), \
                ClientSession(read, write) as session:
            info = await session.initialize()
            assert info.serverInfo.name == "glute"
            return await work(session)

    return asyncio.run(main())


def test_lists_the_ask_tool(api_server):
    async def work(session):
        return (await session.list_tools()).tools

    tools = with_session(api_server, work)
    assert [tool.name for tool in tools] == ["ask"]
    schema = tools[0].inputSchema
    assert set(schema["properties"]) == {"question", "history"} and schema["required"] == ["question"]
    assert tools[0].annotations.readOnlyHint and "citation" in tools[0].description


def test_ask_gives_a_cited_answer(api_server):
    async def work(session):
        return await session.call_tool("ask", {"question": FLAGSHIP})

    result = with_session(api_server, work)
    assert not result.isError
    data = result.structuredContent
    assert set(data) >= ANSWER_KEYS and not data["refused"]
    assert {int(m) for m in MARKER.findall(data["answer"])} == {c["marker"] for c in data["citations"]}
    assert data["citations"][0]["chunk_id"] == "clamshell#make-it-harder"
    text = result.content[0].text
    assert text.startswith(data["answer"]) and "**Sources**" in text and "[1] Clamshell" in text


def test_ask_with_history_answers_the_follow_up(api_server):
    async def work(session):
        first = await session.call_tool("ask", {"question": FLAGSHIP})
        history = [{"role": "user", "content": FLAGSHIP}, {"role": "assistant", "content": first.content[0].text}]
        return await session.call_tool("ask", {"question": "and how do I make it easier?", "history": history})

    data = with_session(api_server, work).structuredContent
    assert "clamshell" in data["standalone_question"].lower()
    assert any(c["doc_id"] == "clamshell" and c["section"] == "Make it easier" for c in data["citations"])


def test_refusals_come_back_as_answers_not_errors(api_server):
    async def work(session):
        return await session.call_tool("ask", {"question": "What is the capital of France?"})

    result = with_session(api_server, work)
    assert not result.isError and result.structuredContent["refusal_reason"] == "off_topic"
    assert "gluteus medius" in result.content[0].text


def test_mcp_needs_the_bearer_key_when_a_sign_in_is_set(api_server):
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                             "clientInfo": {"name": "test", "version": "0"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        denied = httpx.post(f"{api_server}mcp", json=initialize, headers={**accept, **headers})
        assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
    allowed = httpx.post(f"{api_server}mcp", json=initialize,
                         headers={**accept, "Authorization": f"Bearer {API_KEY}"})
    assert allowed.status_code == 200 and allowed.json()["result"]["serverInfo"]["name"] == "glute"
    with pytest.raises(Exception):  # noqa: B017 - the client surfaces the 401 as its own error type
        with_session(api_server, lambda session: session.list_tools(), key=None)
