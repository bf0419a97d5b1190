"""What feedback keeps: the rating, the cited chunk ids and the question while GLUTE_FEEDBACK is on; nothing when
it is off; never the answer; and the file rotates at its size limit."""

from __future__ import annotations

import json

from assistant.config import Settings
from assistant.serve.feedback import FEEDBACK_FILE, FeedbackLog


def test_a_vote_keeps_the_rating_the_passages_and_the_question_only(tmp_path):
    log = FeedbackLog(tmp_path)
    assert log.record("how do I make clamshells harder?", ["clamshell#make-it-harder"], "up")
    (record,) = [json.loads(line) for line in (tmp_path / FEEDBACK_FILE).read_text(encoding="utf-8").splitlines()]
    assert set(record) == {"time", "vote", "chunk_ids", "question"}
    assert record["vote"] == "up" and record["chunk_ids"] == ["clamshell#make-it-harder"]


def test_with_feedback_off_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("GLUTE_FEEDBACK", "off")
    log = FeedbackLog(tmp_path, enabled=Settings.from_env().feedback)
    assert not log.record("my private question", [], "down")
    assert not (tmp_path / FEEDBACK_FILE).exists()
    assert "nothing" in log.notice.lower()


def test_the_file_rotates_at_its_size_limit_keeping_one_old_file(tmp_path):
    log = FeedbackLog(tmp_path, max_bytes=400)
    for n in range(20):
        log.record(f"question {n} " + "x" * 40, ["a#b"], "up")
    current = (tmp_path / FEEDBACK_FILE).read_text(encoding="utf-8")
    assert len(current.encode("utf-8")) <= 400
    assert (tmp_path / (FEEDBACK_FILE + ".1")).exists()
    assert "question 19" in current and all(json.loads(line) for line in current.splitlines())
