"""Settings read once from the environment (flags override them in the CLI)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import GluteError, InvalidAuth

REPO_ROOT = Path(__file__).resolve().parent.parent

EMBEDDING_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIM = 384
COLLECTION_NAME = "glute_chunks"
MAX_QUESTION_CHARS = 2000


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`user:password` (GLUTE_AUTH / --auth) as the pair Gradio's launch(auth=...) takes; None means no sign-in.
    The message never repeats the value, so a mistyped password does not reach a terminal or a log."""
    if value is None:
        return None
    user, colon, password = value.partition(":")
    if not colon or not user.strip() or not password:
        raise InvalidAuth("GLUTE_AUTH / --auth must be user:password (a user name, a colon, then a password, "
                          "neither empty).")
    return user, password


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


ENCODERS = ("auto", "onnx", "torch")


def _env_encoder() -> str:
    """GLUTE_ENCODER: `auto` (ONNX Runtime when ingest left a checked export, else sentence-transformers),
    `onnx` (that export or an error) or `torch` (always sentence-transformers, and ingest exports nothing)."""
    value = (os.environ.get("GLUTE_ENCODER") or "auto").strip().lower()
    if value not in ENCODERS:
        raise GluteError(f"GLUTE_ENCODER must be one of {', '.join(ENCODERS)} (got {value!r}).")
    return value


def _env_threads() -> int | None:
    """GLUTE_ENCODER_THREADS, or its old name GLUTE_TORCH_THREADS; unset or 0 leaves the runtime's default."""
    value = os.environ.get("GLUTE_ENCODER_THREADS") or os.environ.get("GLUTE_TORCH_THREADS")
    if not value:
        return None
    try:
        threads = int(value)
    except ValueError:
        threads = -1
    if threads < 0:
        raise GluteError(f"GLUTE_ENCODER_THREADS must be a whole number of threads (got {value!r}).")
    return threads or None


@dataclass(frozen=True)
class Settings:
    """Where the corpus and index live, and the knobs that shape answers."""

    corpus_dir: Path = field(default_factory=lambda: _env_path("GLUTE_CORPUS_DIR", REPO_ROOT / "corpus"))
    index_dir: Path = field(default_factory=lambda: _env_path("GLUTE_INDEX_DIR", REPO_ROOT / ".glute" / "index"))
    chroma_url: str | None = field(default_factory=lambda: os.environ.get("GLUTE_CHROMA_URL") or None)
    top_k: int = 5
    candidates: int = 20
    max_points: int = 4
    lock_timeout_s: float = field(default_factory=lambda: float(os.environ.get("GLUTE_LOCK_TIMEOUT", "30")))
    # the query encoder: see _env_encoder; threads for it (ONNX Runtime or torch), None for the runtime's default
    encoder: str = field(default_factory=_env_encoder)
    encoder_threads: int | None = field(default_factory=_env_threads)
    # optional LLM-written answers: "ollama:<model>" or "openai:<model>"; None keeps answers extractive
    llm: str | None = field(default_factory=lambda: os.environ.get("GLUTE_LLM") or None)
    llm_base_url: str | None = field(default_factory=lambda: os.environ.get("GLUTE_LLM_BASE_URL") or None)
    llm_api_key: str | None = field(default_factory=lambda: os.environ.get("GLUTE_LLM_API_KEY") or None, repr=False)
    llm_timeout_s: float = field(default_factory=lambda: float(os.environ.get("GLUTE_LLM_TIMEOUT", "20")))
    # thumbs up/down kept in <state_dir>/feedback.jsonl (rating, cited chunk ids, question); off keeps nothing
    feedback: bool = field(default_factory=lambda: (os.environ.get("GLUTE_FEEDBACK") or "on").strip().lower()
                           not in ("0", "off", "false", "no"))

    @property
    def state_dir(self) -> Path:
        """Feedback, logs and other run-time files live beside the index."""
        return self.index_dir.parent

    @property
    def models_dir(self) -> Path:
        """The ONNX export of the embedding model that ingest writes for the query encoder."""
        return self.state_dir / "models"

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given fields replaced; None values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
