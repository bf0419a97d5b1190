"""Shared fixtures: one real index of the real corpus, built once per test session in a tmp dir."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from assistant.config import REPO_ROOT, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


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
