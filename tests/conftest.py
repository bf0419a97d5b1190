"""Shared fixtures: one real index of the real corpus, built once per test session in a tmp dir."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from assistant.config import REPO_ROOT, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _clear_glute_variables(patch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("GLUTE_")]:
        patch.delenv(name)


@pytest.fixture(scope="session", autouse=True)
def no_glute_environment():
    """No GLUTE_* variable of the shell that runs the suite reaches it, not even the session fixtures below or
    the servers they start."""
    with pytest.MonkeyPatch.context() as patch:
        _clear_glute_variables(patch)
        yield


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test starts from the defaults, with its state (index, logs, feedback) in a tmp dir of its own, so
    `Settings.from_env()` and a `glute` subprocess never touch .glute/; a test sets exactly what it needs."""
    _clear_glute_variables(monkeypatch)
    monkeypatch.setenv("GLUTE_INDEX_DIR", str(tmp_path_factory.mktemp("state") / "index"))


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the real corpus and a fresh index built from it."""
    from assistant.index import ingest

    built = Settings(corpus_dir=REPO_ROOT / "corpus", index_dir=tmp_path_factory.mktemp("index") / "index")
    ingest(built, progress=False)
    return built


@pytest.fixture(scope="session")
def bot(settings: Settings):
    from assistant import Assistant

    return Assistant.load(settings=settings, build_if_missing=False)


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A copy of a few real entries and the article, cheap to index and safe to edit."""
    root = tmp_path / "corpus"
    (root / "exercises").mkdir(parents=True)
    (root / "topics").mkdir()
    shutil.copytree(REPO_ROOT / "corpus" / "source", root / "source")
    shutil.copy(REPO_ROOT / "corpus" / "references.yaml", root / "references.yaml")
    for name in ("clamshell", "lateral-step-up", "side-lying-hip-abduction"):
        text = (REPO_ROOT / "corpus" / "exercises" / f"{name}.md").read_text(encoding="utf-8")
        text = re.sub(r"^related: .*$", "related: []", text, flags=re.MULTILINE)  # neighbours are not copied
        (root / "exercises" / f"{name}.md").write_text(text, encoding="utf-8")
    return root
