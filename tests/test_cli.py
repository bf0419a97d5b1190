"""The console script: exit codes, one-line errors, JSON, history files, help speed (no heavy imports)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from tests.helpers import MARKER, run_glute


@pytest.fixture(scope="module")
def env(settings: Settings) -> dict[str, str]:
    return {"GLUTE_INDEX_DIR": str(settings.index_dir), "GLUTE_CORPUS_DIR": str(settings.corpus_dir)}


def test_help_and_version_do_not_import_heavy_modules():
    code = ("import sys; from click.testing import CliRunner; from assistant.cli import main; "
            "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output; "
            "heavy = [m for m in ('torch', 'sentence_transformers', 'chromadb', 'gradio', 'langchain_chroma') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    version = run_glute("--version")
    assert version.returncode == 0 and "glute" in version.stdout


def test_ask_json_is_the_contract(env):
    result = run_glute("ask", "how do I make clamshells harder?", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["citations"][0]["chunk_id"] == "clamshell#make-it-harder"
    assert {int(m) for m in MARKER.findall(data["answer"])} == {c["marker"] for c in data["citations"]}
    assert data["refusal_reason"] is None and data["mode"] == "extractive"


def test_a_question_starting_with_a_dash_goes_after_double_dash(env):
    result = run_glute("ask", "--", "-how do I make clamshells harder?", env=env)
    assert result.returncode == 0 and "clamshell" in result.stdout.lower()


def test_ask_text_shows_sources(env):
    result = run_glute("ask", "how do I make clamshells harder?", "-k", "3", env=env)
    assert result.returncode == 0
    assert "Sources:" in result.stdout and "[1] Clamshell" in result.stdout


@pytest.mark.parametrize("args", [("",), ("   ",), ("x" * 2001,), ("-0",), ("--no-such-option", "q"), ()])
def test_invalid_question_exits_2_with_one_line(env, args: tuple[str, ...]):
    """Empty, too long, read as an option ("-0", which hypothesis found), or missing: one line, exit 2."""
    result = run_glute("ask", *args, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_history_file_follow_up(env, tmp_path: Path):
    history = tmp_path / "history.json"
    history.write_text(json.dumps([{"role": "user", "content": "how do I do clamshells?"},
                                   {"role": "assistant", "content": "How to do the clamshell: ..."}]))
    result = run_glute("ask", "and how do I make it easier?", "--json", "--history", str(history), env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "clamshell" in data["standalone_question"].lower()
    assert data["citations"][0]["chunk_id"] == "clamshell#make-it-easier"


@pytest.mark.parametrize("content", [None, "{not json", '{"role": "user"}', '[{"role": "robot", "content": "x"}]'])
def test_bad_history_file_exits_2(env, tmp_path: Path, content: str | None):
    path = tmp_path / "history.json"
    if content is not None:
        path.write_text(content)
    result = run_glute("ask", "how do I do clamshells?", "--history", str(path), env=env)
    assert result.returncode == 2
    assert "history file" in result.stderr and "Traceback" not in result.stderr


def test_refusal_exits_0(env):
    result = run_glute("ask", "what is the capital of France?", "--json", env=env)
    assert result.returncode == 0
    assert json.loads(result.stdout)["refusal_reason"] == "off_topic"


def test_chat_keeps_the_conversation(env):
    result = run_glute("chat", env=env, stdin="how do I do clamshells?\nand how do I make it easier?\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "To make the clamshell easier" in result.stdout


def test_ingest_reports_counts(env):
    result = run_glute("ingest", env=env)
    assert result.returncode == 0, result.stderr
    assert "chunks added 0  updated 0  removed 0  unchanged" in result.stdout
