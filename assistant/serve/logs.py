"""The server's log: `<state_dir>/glute.log`, set up by `glute serve`.

It holds handler errors with their tracebacks (which users never see) and one line per answered question.
Nothing about who asked goes in: no addresses, no conversation history, only the question's length.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..answer import Answer

LOG_FILE = "glute.log"
MAX_BYTES = 5 * 2**20
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ANSWERS = logging.getLogger("assistant.answers")


def configure_logging(state_dir: Path) -> Path | None:
    """Warnings from every library and glute's own INFO lines go to the file; the console shows warnings only.
    Returns the file's path, or None (with a warning on the console) when it cannot be written."""
    formatter = logging.Formatter(FORMAT)
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(formatter)
    root.addHandler(console)
    logging.getLogger("assistant").setLevel(logging.INFO)
    path = state_dir / LOG_FILE
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write the log file %s (%s); logging to the console only",
                                            path, exc.strerror or exc)
        return None
    file_handler.setLevel(logging.INFO)
    file_handler.setFormatter(formatter)
    root.addHandler(file_handler)
    return path


def log_answer(answer: Answer, via: str) -> None:
    """One INFO line per answered question: its length, the outcome and the time taken, never its words."""
    ANSWERS.info("answered via %s: question %d chars, refusal_reason=%s, safety=%s, mode=%s, citations=%d, "
                 "total_ms=%.1f", via, len(answer.question), answer.refusal_reason, answer.safety, answer.mode,
                 len(answer.citations), answer.timings_ms.get("total", 0.0))
