"""Errors a user can cause, one type each, with a message that says what to do next."""


class GluteError(Exception):
    """Base class: the CLI prints these as one line, without a traceback."""


class InvalidQuestion(GluteError):
    """The question is empty, too long, or not text."""


class CorpusError(GluteError):
    """A corpus file is malformed; the message names the file and the field."""


class IndexMismatch(GluteError):
    """The index was built with another embedding model or schema."""


class IndexMissing(GluteError):
    """There is no usable index at the configured location."""


class IndexBusy(GluteError):
    """Another ingest holds the index lock."""


class LLMConfigError(GluteError):
    """The chat model GLUTE_LLM / --llm names needs a package that is not installed."""


class InvalidSetting(GluteError):
    """A GLUTE_* variable or its flag holds a value glute cannot use; the message names it, and the CLI exits 2.
    `setting` is the variable's name."""

    def __init__(self, message: str, setting: str = ""):
        super().__init__(message)
        self.setting = setting


class InvalidAuth(InvalidSetting):
    """GLUTE_AUTH / --auth is not `user:password`."""
