"""Configuration has one way in: every GLUTE_* setting is a click option bound to its variable, `Settings.from_env`
builds and checks it once, a bad value is one line on stderr and exit 2 naming it, and no module reads or writes
the environment behind its back. No model and no index: in-process CLI runs stop before anything loads."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant import cli
from assistant.config import REPO_ROOT, SETTINGS, Settings
from assistant.errors import InvalidSetting
from tests.helpers import run_glute

A_FILE = str(Path(__file__).resolve())  # an existing file where a directory is wanted
BAD = {  # field: (a value it refuses, whether the message may repeat it)
    "index_dir": (A_FILE, True), "corpus_dir": (A_FILE, True), "chroma_url": ("ftp://chroma.example", True),
    "lock_timeout_s": ("abc", True), "encoder": ("gpu", True), "encoder_threads": ("-1", True),
    "llm": ("gpt4", True), "llm_base_url": ("http://not a host", True), "llm_api_key": ("two words", False),
    "llm_timeout_s": ("0", True), "feedback": ("maybe", True), "auth": ("no-colon-here", False),
}
FLAG_COMMAND = {"auth": ["serve"], "feedback": ["serve"], "corpus_dir": ["corpus", "check"]}  # else `ask QUESTION`


def invoke(args: list[str], env: dict[str, str] | None = None):
    return CliRunner().invoke(cli.main, args, env=env)


def one_line_error(result, *names: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.stderr)
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert all(name in result.stderr for name in names), result.stderr
    return result.stderr


def test_every_setting_has_a_bad_value_here_and_a_row_in_the_readme():
    assert set(BAD) == set(SETTINGS)
    table = (REPO_ROOT / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"GLUTE_[A-Z_]+", table))
    assert documented == {v for s in SETTINGS.values() for v in s.variables}


@pytest.mark.parametrize("field", sorted(BAD))
def test_a_bad_variable_is_one_line_exit_2_naming_it(field: str):
    """`GLUTE_LOCK_TIMEOUT=abc glute corpus check`, for every variable, on a command that never uses most of them."""
    value, shown = BAD[field]
    variable = SETTINGS[field].variables[0]
    message = one_line_error(invoke(["corpus", "check"], env={variable: value}), variable)
    assert shown or value not in message


@pytest.mark.parametrize("field", sorted(BAD))
def test_a_bad_flag_is_one_line_exit_2_naming_it(field: str):
    value, shown = BAD[field]
    command = FLAG_COMMAND.get(field, ["ask", "how do I do clamshells?"])
    message = one_line_error(invoke([*command, SETTINGS[field].flag, value]), SETTINGS[field].flag)
    assert shown or value not in message


def test_the_old_thread_variable_is_named_when_it_is_the_bad_one():
    one_line_error(invoke(["corpus", "check"], env={"GLUTE_TORCH_THREADS": "two"}), "GLUTE_TORCH_THREADS")


def test_the_console_script_itself_exits_2_before_loading_anything(tmp_path: Path):
    result = run_glute("corpus", "check", env={"GLUTE_LOCK_TIMEOUT": "abc"}, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == ("Error: GLUTE_LOCK_TIMEOUT / --lock-timeout must be a number of seconds, 0 or more "
                             "(got 'abc').\n")


def test_from_env_parses_and_the_flags_win():
    env = {"GLUTE_INDEX_DIR": "~/glute-index", "GLUTE_LOCK_TIMEOUT": "2.5", "GLUTE_ENCODER": " ONNX ",
           "GLUTE_TORCH_THREADS": "1", "GLUTE_FEEDBACK": "off", "GLUTE_LLM": "ollama:llama3.2",
           "GLUTE_LLM_TIMEOUT": "5", "GLUTE_AUTH": "ann:pa:ss", "GLUTE_CHROMA_URL": "", "GLUTE_LLM_API_KEY": "k"}
    settings = Settings.from_env(env)
    assert settings.index_dir == Path("~/glute-index").expanduser().resolve()
    assert (settings.lock_timeout_s, settings.encoder, settings.encoder_threads) == (2.5, "onnx", 1)
    assert (settings.feedback, settings.llm, settings.llm_timeout_s) == (False, "ollama:llama3.2", 5.0)
    assert settings.auth == ("ann", "pa:ss") and settings.chroma_url is None  # empty is unset
    flagged = Settings.from_env(env, lock_timeout_s="7", encoder_threads="0", top_k=3)
    assert (flagged.lock_timeout_s, flagged.encoder_threads, flagged.top_k) == (7.0, None, 3)
    with pytest.raises(TypeError):
        Settings.from_env(env, no_such_setting="1")


def test_openai_api_key_is_the_fallback_key_for_the_openai_provider_only():
    key = {"OPENAI_API_KEY": "sk-elsewhere"}
    assert Settings.from_env({"GLUTE_LLM": "openai:gpt-4o-mini", **key}).llm_api_key == "sk-elsewhere"
    assert Settings.from_env({"GLUTE_LLM": "openai:m", "GLUTE_LLM_API_KEY": "mine", **key}).llm_api_key == "mine"
    assert Settings.from_env({"GLUTE_LLM": "ollama:llama3.2", **key}).llm_api_key is None


def test_secrets_stay_out_of_repr():
    settings = Settings.from_env({"GLUTE_LLM_API_KEY": "sk-secret", "GLUTE_AUTH": "ann:hunter2"})
    assert "sk-secret" not in repr(settings) and "hunter2" not in repr(settings)


def test_settings_without_from_env_read_nothing(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GLUTE_LOCK_TIMEOUT", "abc")
    monkeypatch.setenv("GLUTE_LLM", "openai:x")
    assert Settings() == Settings(llm=None, lock_timeout_s=30.0)
    with pytest.raises(InvalidSetting, match="GLUTE_LOCK_TIMEOUT") as failure:
        Settings.from_env()  # the Python API's default (Assistant.load() with no settings) reads the environment
    assert failure.value.setting == "GLUTE_LOCK_TIMEOUT"


@pytest.fixture
def ingested(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """`glute ingest` with the ingest itself replaced: what Settings the command built."""
    seen: list[Settings] = []

    class Report:
        def summary(self) -> str:
            return "done"

    monkeypatch.setattr("assistant.index.ingest", lambda settings, **_: seen.append(settings) or Report())
    return seen


def test_a_flag_beats_its_variable_wherever_it_is_given(ingested: list[Settings], tmp_path: Path):
    env = {"GLUTE_CHROMA_URL": "http://from-env:8000", "GLUTE_INDEX_DIR": str(tmp_path / "env"),
           "GLUTE_LOCK_TIMEOUT": "9"}
    assert invoke(["ingest"], env).exit_code == 0
    assert invoke(["--chroma-url", "http://group-flag:1", "ingest", "--lock-timeout", "1"], env).exit_code == 0
    assert invoke(["--chroma-url", "http://group-flag:1", "ingest", "--chroma-url", "cmd:2",
                   "--index-dir", str(tmp_path / "flag")], env).exit_code == 0
    first, second, third = ingested
    assert (first.chroma_url, first.index_dir, first.lock_timeout_s) == ("http://from-env:8000",
                                                                         (tmp_path / "env").resolve(), 9)
    assert (second.chroma_url, second.lock_timeout_s) == ("http://group-flag:1", 1.0)
    assert (third.chroma_url, third.index_dir) == ("cmd:2", (tmp_path / "flag").resolve())


def test_the_cli_writes_nothing_into_the_environment(ingested: list[Settings]):
    before = {k: v for k, v in os.environ.items() if k.startswith("GLUTE_")}
    assert invoke(["--chroma-url", "http://x:1", "ingest", "--encoder", "torch"]).exit_code == 0
    assert ingested[0].encoder == "torch"
    assert {k: v for k, v in os.environ.items() if k.startswith("GLUTE_")} == before


def test_each_test_starts_from_the_defaults_with_its_state_in_a_tmp_dir(tmp_path_factory: pytest.TempPathFactory):
    assert [k for k in os.environ if k.startswith("GLUTE_")] == ["GLUTE_INDEX_DIR"]
    settings = Settings.from_env()
    assert settings.state_dir.is_relative_to(tmp_path_factory.getbasetemp())
    assert settings == Settings(index_dir=settings.index_dir)


def test_no_module_reads_or_writes_a_glute_variable_by_name():
    """Only config.py reads GLUTE_* (through Settings.from_env); the one other name is the crash tests' hook."""
    by_name = re.compile(r"(os\.environ(\.get|\.setdefault|\.pop)?|getenv)[\[(]\s*[\"']GLUTE_\w*")
    found = {f"{p.relative_to(REPO_ROOT)}: {m.group(0)}" for p in (REPO_ROOT / "assistant").rglob("*.py")
             for m in by_name.finditer(p.read_text(encoding="utf-8"))}
    assert found == {'assistant/store.py: os.environ.get("GLUTE_TEST_PAUSE_BEFORE_PUBLISH'}
    assert by_name.search('os.environ["GLUTE_LLM"] = value') and by_name.search("os.getenv('GLUTE_AUTH')")
