"""`glute serve` safe defaults: optional sign-in (GLUTE_AUTH / --auth) and the log file `<state_dir>/glute.log`."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.config import parse_auth
from assistant.errors import InvalidAuth
from tests.helpers import run_glute
from tests.serve.ui_fixtures import free_port, glute_serve

SECRET = "Pa55-w0rd:with-colon"
FLAGSHIP = "how do I make clamshells harder?"
PRIVATE = "Zelda Quixote"  # a name that must never reach the log


def test_auth_is_user_colon_password_and_errors_never_repeat_it():
    assert parse_auth(None) is None
    assert parse_auth(f"ann:{SECRET}") == ("ann", SECRET)  # the password may itself hold colons
    for bad in ("hunter2-no-colon", ":only-a-password", "ann:", ""):
        with pytest.raises(InvalidAuth) as failure:
            parse_auth(bad)
        assert "user:password" in str(failure.value)
        assert not bad or bad.strip(":") not in str(failure.value)


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_malformed_auth_is_one_line_exit_2_before_anything_loads(how: str, tmp_path: Path):
    secret = "hunter2-no-colon"
    args = ["serve", "--port", str(free_port())] + (["--auth", secret] if how == "flag" else [])
    env = {"GLUTE_INDEX_DIR": str(tmp_path / "index")} | ({"GLUTE_AUTH": secret} if how == "environment" else {})
    result = run_glute(*args, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("Error: GLUTE_AUTH / --auth must be user:password")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert secret not in result.stderr + result.stdout
    assert not (tmp_path / "index").exists(), "nothing is built or loaded for a malformed value"


@pytest.fixture
def restore_logging():
    """configure_logging changes the process's root logger; put it back for the rest of the session."""
    root, glute = logging.getLogger(), logging.getLogger("assistant")
    handlers, root_level, glute_level = list(root.handlers), root.level, glute.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(root_level)
    glute.setLevel(glute_level)


def test_handler_errors_go_to_the_log_with_traceback_and_users_see_one_sentence(settings, tmp_path,
                                                                               restore_logging):
    """Whatever breaks inside, the caller gets one polite sentence, never a traceback or internals; the log gets
    the whole traceback."""
    from gradio_client import Client

    from assistant.serve.app import SORRY, build_app, launch
    from assistant.serve.logs import configure_logging

    log_path = configure_logging(tmp_path / "state")
    assert log_path == tmp_path / "state" / "glute.log"

    def broken_ask(question, history=None):
        raise RuntimeError("index exploded at /srv/index")

    app = build_app(SimpleNamespace(settings=settings, ask=broken_ask))
    launch(app, "127.0.0.1", free_port(), prevent_thread_lock=True)
    try:
        with pytest.raises(Exception) as failure:
            Client(app.local_url, verbose=False).predict(f"{FLAGSHIP} I am {PRIVATE}", [], api_name="/ask")
        assert SORRY in str(failure.value) and "exploded" not in str(failure.value)
    finally:
        app.close()
    for handler in logging.getLogger().handlers:
        handler.flush()
    logged = log_path.read_text(encoding="utf-8")
    assert "ERROR assistant.serve.app: answering failed (via api)" in logged
    assert "Traceback (most recent call last)" in logged and "RuntimeError: index exploded" in logged
    assert "127.0.0.1" not in logged


@pytest.mark.slow
def test_glute_serve_with_auth_asks_for_it_and_logs_one_line_per_answer(settings):
    """A real `glute serve` with GLUTE_AUTH: no answers without the password, and the log holds one INFO line
    per answer, with no password, address, question words or history."""
    from gradio_client import Client

    log_path = settings.state_dir / "glute.log"
    seen = log_path.stat().st_size if log_path.exists() else 0
    with glute_serve(settings.index_dir, env={"GLUTE_AUTH": f"ann:{SECRET}"}) as (_, url, output):
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises a different type per version
            Client(url, verbose=False).predict(FLAGSHIP, [], api_name="/ask")
        with pytest.raises(Exception):  # noqa: B017
            Client(url, verbose=False, auth=("ann", "wrong")).predict(FLAGSHIP, [], api_name="/ask")
        client = Client(url, verbose=False, auth=("ann", SECRET))
        history = [{"role": "user", "content": f"I am {PRIVATE}"}, {"role": "assistant", "content": "Hello."}]
        questions = [(FLAGSHIP, history), ("What is the capital of France?", []),
                     ("I fell and now I can't put weight on my leg", []), (f"clamshells for {PRIVATE}?", [])]
        results = [client.predict(q, h, api_name="/ask") for q, h in questions]
        assert not results[0]["refused"] and results[1]["refusal_reason"] == "off_topic"
        assert results[2]["safety"] == "red_flag"
        printed = "".join(output)
    assert f"Log: {log_path}" in printed and "Sign-in required" in printed
    assert SECRET not in printed
    with log_path.open(encoding="utf-8") as handle:
        handle.seek(seen)
        logged = handle.read()
    lines = [line for line in logged.splitlines() if "answered via api" in line]
    assert len(lines) == len(questions), logged
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO assistant.answers: answered via api: "
                    rf"question {len(FLAGSHIP)} chars, refusal_reason=None, safety=None, mode=extractive, "
                    r"citations=\d+, total_ms=\d+\.\d$", lines[0]), lines[0]
    assert "refusal_reason=off_topic" in lines[1] and "safety=red_flag" in lines[2]
    for private in (SECRET, PRIVATE, "127.0.0.1", "clamshells harder", "France"):
        assert private not in logged
