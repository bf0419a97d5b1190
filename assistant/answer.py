"""The result types every interface shares: one answer with its citations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RefusalReason = Literal["off_topic", "no_evidence", "invalid_input", "out_of_scope_medical"]


@dataclass(frozen=True)
class Citation:
    """A numbered marker in the answer and the exact passage it points to."""

    marker: int
    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    source: str
    # where the quoted statements come from: article lines ({kind: article, line, text}) and references
    # ({kind: reference, key, title, authors, year, publisher, url}); `statements` gives them per quoted line
    provenance: list[dict[str, Any]] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """What `Assistant.ask` returns; `to_dict()` is the JSON contract in the README."""

    question: str
    standalone_question: str
    answer: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    refusal_reason: RefusalReason | None = None
    safety: Literal["red_flag"] | None = None
    mode: Literal["extractive", "generative"] = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)
    fallback_reason: str | None = None
    safety_level: Literal["emergency", "soon"] | None = None  # with a red flag: call emergency services, or soon
    warning_signs: list[str] = field(default_factory=list)  # the red-flag categories seen in the message
    declined: list[str] = field(default_factory=list)  # parts declined: diagnosis, medicine, injection, scan
    not_covered: list[str] = field(default_factory=list)  # words of the ask the sources never use

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "safety": self.safety,
            "mode": self.mode,
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
        }
        if self.fallback_reason is not None:
            data["fallback_reason"] = self.fallback_reason
        for key in ("safety_level", "warning_signs", "declined", "not_covered"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data
