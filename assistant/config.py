"""Settings: built once, by `Settings.from_env`, from the flags and the environment, and checked there.

`Settings()` holds the defaults and reads nothing; every GLUTE_* variable is read in `Settings.from_env` only,
which the CLI calls once per command (its flags win over the environment) and `Assistant.load()` calls when it is
given no settings. The rest of the engine receives a `Settings` and never looks at the environment.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import ParseResult, urlparse

from .errors import InvalidAuth, InvalidSetting

REPO_ROOT = Path(__file__).resolve().parent.parent

EMBEDDING_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIM = 384
COLLECTION_NAME = "glute_chunks"
MAX_QUESTION_CHARS = 2000
ENCODERS = ("auto", "onnx", "torch")
LLM_PROVIDERS = ("ollama", "openai")
ON, OFF = ("1", "on", "true", "yes"), ("0", "off", "false", "no")


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`user:password` (GLUTE_AUTH / --auth) as the pair Gradio's launch(auth=...) takes; None means no sign-in.
    The message never repeats the value, so a mistyped password does not reach a terminal or a log."""
    if value is None:
        return None
    user, colon, password = value.partition(":")
    if not colon or not user.strip() or not password:
        raise InvalidAuth("GLUTE_AUTH / --auth must be user:password (a user name, a colon, then a password, "
                          "neither empty).", setting="GLUTE_AUTH")
    return user, password


def parse_llm(spec: str) -> tuple[str, str]:
    """`ollama:llama3.2` -> ("ollama", "llama3.2"); anything else is a configuration error."""
    provider, _, model = spec.partition(":")
    if provider.strip().lower() not in LLM_PROVIDERS or not model.strip():
        raise InvalidSetting(f"GLUTE_LLM / --llm is {spec!r}; use ollama:<model> (e.g. ollama:llama3.2) or "
                             "openai:<model> with GLUTE_LLM_BASE_URL pointing at an OpenAI-compatible server.",
                             setting="GLUTE_LLM")
    return provider.strip().lower(), model.strip()


def parse_http_url(url: str, name: str = "GLUTE_CHROMA_URL") -> ParseResult:
    """An http(s) URL with a host and, if any, a valid port; `host:port` alone means http://host:port."""
    try:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        ok = (parsed.scheme in ("http", "https") and bool(parsed.hostname) and (parsed.port is None or parsed.port > 0)
              and not any(c.isspace() for c in url))
    except ValueError:  # "http://[::1", "host:99999"
        ok = False
    if not ok:
        raise InvalidSetting(f"{name} must be a URL like http://127.0.0.1:8000 (got {url!r}).", setting=name)
    return parsed


@dataclass(frozen=True)
class Settings:
    """Where the corpus and index live, how queries are encoded, and the knobs that shape answers. The defaults
    are the plain values below; `from_env` is the one way in from flags and GLUTE_* variables."""

    corpus_dir: Path = REPO_ROOT / "corpus"
    index_dir: Path = REPO_ROOT / ".glute" / "index"
    chroma_url: str | None = None  # a Chroma server instead of the local index directory
    top_k: int = 5
    candidates: int = 20
    max_points: int = 4
    lock_timeout_s: float = 30.0
    # the query encoder: auto (ONNX Runtime when ingest left a checked export, else sentence-transformers), onnx
    # (that export or an error) or torch (always sentence-transformers, and ingest exports nothing)
    encoder: str = "auto"
    encoder_threads: int | None = None  # threads for the encoder (ONNX Runtime or torch); None: the runtime's default
    # optional LLM-written answers: "ollama:<model>" or "openai:<model>"; None keeps answers extractive
    llm: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout_s: float = 20.0
    # thumbs up/down kept in <state_dir>/feedback.jsonl (rating, cited chunk ids, question); off keeps nothing
    feedback: bool = True
    auth: tuple[str, str] | None = field(default=None, repr=False)  # (user, password) `glute serve` asks for

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: object) -> Settings:
        """Settings from `flags` (a field name each: the text a user typed, or None for not given), else from the
        GLUTE_* variables of `env` (default: this process's environment), else the defaults; every value is
        checked, and a bad one raises InvalidSetting naming the variable or flag it came from."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for name, value in flags.items():
            spec = SETTINGS.get(name)
            if spec is None and name not in FIELDS:
                raise TypeError(f"Settings has no field {name!r}")
            if value is not None:
                values[name] = spec.read(str(value), spec.variables[0]) if spec else value
        for spec in SETTINGS.values():
            variable = next((v for v in spec.variables if (env.get(v) or "").strip()), None)
            if spec.field not in values and variable:
                values[spec.field] = spec.read(env[variable], variable)
        if values.get("llm") and parse_llm(str(values["llm"]))[0] == "openai" and not values.get("llm_api_key"):
            values["llm_api_key"] = env.get("OPENAI_API_KEY") or None  # the openai provider's usual variable
        return cls(**values)

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


# ---------------------------------------------------------------- the GLUTE_* settings, one row each


@dataclass(frozen=True)
class Setting:
    """One user-facing setting: the Settings field it fills, its variables (the first one set wins; later ones
    are old names), its CLI flag, and how its text becomes a value (`parse(text, name)`, raising InvalidSetting
    with `name` in the message). The CLI builds its options from these rows."""

    field: str
    variables: tuple[str, ...]
    flag: str
    metavar: str
    help: str
    parse: Callable[[str, str], object]

    def read(self, text: str, variable: str) -> object:
        """The value of `text`, given through `variable` or the flag; errors name both."""
        name = f"{variable} / {self.flag}"
        if not text.strip():
            raise _fail(name, "is empty; leave it out for the default")
        return self.parse(text.strip(), name)


def _fail(name: str, problem: str, text: str | None = None) -> InvalidSetting:
    got = f" (got {text!r})" if text is not None else ""
    return InvalidSetting(f"{name} {problem}{got}.", setting=name.split(" / ")[0])


def _directory(text: str, name: str) -> Path:
    """A directory path (it need not exist yet); a file there, or a path the OS cannot hold, is refused."""
    try:
        path = Path(text).expanduser().resolve()
        is_file = path.exists() and not path.is_dir()
    except (OSError, ValueError, RuntimeError) as exc:
        raise _fail(name, f"is not a usable path ({exc})", text) from exc
    if is_file:
        raise _fail(name, "must be a directory, not a file", text)
    return path


def _seconds(minimum_exclusive: bool) -> Callable[[str, str], float]:
    def parse(text: str, name: str) -> float:
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds) or seconds < 0 or (minimum_exclusive and seconds == 0):
            raise _fail(name, "must be a number of seconds, " + ("more than 0" if minimum_exclusive else "0 or more"),
                        text)
        return seconds
    return parse


def _threads(text: str, name: str) -> int | None:
    """0 leaves the runtime's default, like leaving it unset."""
    try:
        threads = int(text)
    except ValueError:
        threads = -1
    if threads < 0:
        raise _fail(name, "must be a whole number of threads (0 for the runtime's default)", text)
    return threads or None


def _encoder(text: str, name: str) -> str:
    if text.lower() not in ENCODERS:
        raise _fail(name, f"must be one of {', '.join(ENCODERS)}", text)
    return text.lower()


def _switch(text: str, name: str) -> bool:
    if text.lower() not in ON + OFF:
        raise _fail(name, "must be on or off", text)
    return text.lower() in ON


def _url(text: str, name: str) -> str:
    parse_http_url(text, name)
    return text


def _llm(text: str, name: str) -> str:
    parse_llm(text)
    return text


def _secret(text: str, name: str) -> str:
    """Any one word; the message never repeats it."""
    if any(c.isspace() for c in text):
        raise _fail(name, "must be a single word, with no spaces or line breaks (the value is not shown)")
    return text


def _auth(text: str, name: str) -> tuple[str, str] | None:
    return parse_auth(text)


_SETTINGS = (
    Setting("index_dir", ("GLUTE_INDEX_DIR",), "--index-dir", "DIR", "Index location (default .glute/index); "
            "logs, feedback and the ONNX export live beside it.", _directory),
    Setting("corpus_dir", ("GLUTE_CORPUS_DIR",), "--corpus-dir", "DIR", "The knowledge base (default corpus/).",
            _directory),
    Setting("chroma_url", ("GLUTE_CHROMA_URL",), "--chroma-url", "URL", "Use a Chroma server (e.g. "
            "http://127.0.0.1:8000) instead of the local index directory.", _url),
    Setting("lock_timeout_s", ("GLUTE_LOCK_TIMEOUT",), "--lock-timeout", "SECONDS", "How long an ingest waits for "
            "another one to finish (default 30).", _seconds(minimum_exclusive=False)),
    Setting("encoder", ("GLUTE_ENCODER",), "--encoder", "auto|onnx|torch", "Query encoder (default auto: the ONNX "
            "export when ingest left a checked one, else sentence-transformers).", _encoder),
    Setting("encoder_threads", ("GLUTE_ENCODER_THREADS", "GLUTE_TORCH_THREADS"), "--encoder-threads", "N",
            "Threads for encoding (default: the runtime's).", _threads),
    Setting("llm", ("GLUTE_LLM",), "--llm", "PROVIDER:MODEL", "Let a chat model write the answer, checked against "
            "its sources: ollama:<model> or openai:<model> (with --llm-base-url).", _llm),
    Setting("llm_base_url", ("GLUTE_LLM_BASE_URL",), "--llm-base-url", "URL", "The chat model's server.", _url),
    Setting("llm_api_key", ("GLUTE_LLM_API_KEY",), "--llm-api-key", "KEY", "The chat model server's key (prefer the "
            "variable: a flag shows in the process list).", _secret),
    Setting("llm_timeout_s", ("GLUTE_LLM_TIMEOUT",), "--llm-timeout", "SECONDS", "Seconds to wait for the chat "
            "model before answering extractively (default 20).", _seconds(minimum_exclusive=True)),
    Setting("feedback", ("GLUTE_FEEDBACK",), "--feedback", "on|off", "Keep thumbs up/down with the question and "
            "cited ids in feedback.jsonl beside the index (default on).", _switch),
    Setting("auth", ("GLUTE_AUTH",), "--auth", "USER:PASSWORD", "Ask for this user name and password before the UI "
            "or its API answers (prefer the variable: a flag shows in the process list).", _auth),
)
SETTINGS: dict[str, Setting] = {s.field: s for s in _SETTINGS}
FIELDS = frozenset(f.name for f in fields(Settings))
