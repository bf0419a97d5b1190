"""Thumbs up/down, kept on this machine only while GLUTE_FEEDBACK is on (the default): the rating, the passages
cited and the question, one JSON line each, in <state_dir>/feedback.jsonl. Never the answer (it can be rebuilt
from the chunk ids), never anything when feedback is off. The file rotates at a size limit, keeping one old file,
so a busy server cannot fill the disk with questions that may hold health details."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

MAX_BYTES = 1_000_000
FEEDBACK_FILE = "feedback.jsonl"


class FeedbackLog:
    """Appends votes; the lock keeps lines whole when several sessions vote at once."""

    def __init__(self, state_dir: Path, enabled: bool = True, max_bytes: int = MAX_BYTES):
        self.path = Path(state_dir) / FEEDBACK_FILE
        self.enabled = enabled
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    @property
    def notice(self) -> str:
        """What the UI tells people about what is kept, in plain words."""
        if not self.enabled:
            return "Feedback is off: nothing you type or rate is kept."
        return (f"If you rate an answer, your rating, the passages it cited and your question are kept on this "
                f"computer in {self.path} to improve glute (nothing else; set GLUTE_FEEDBACK=off to keep nothing).")

    def record(self, question: str, chunk_ids: list[str], vote: str) -> bool:
        """Keep one vote; False when feedback is off and nothing was written."""
        if not self.enabled:
            return False
        line = json.dumps({"time": datetime.now(UTC).isoformat(timespec="seconds"), "vote": vote,
                           "chunk_ids": chunk_ids, "question": question}, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size + len(line.encode("utf-8")) > self.max_bytes:
                self.path.replace(self.path.with_name(FEEDBACK_FILE + ".1"))
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
        return True
