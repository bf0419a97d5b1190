"""What `glute bench` feeds the assistant: a varied question set, and the real corpus multiplied 10x or 100x.

A scaled corpus copies every exercise and topic entry with a new id (`clamshell-copy3`) and unique names
("Clamshell variant 3"), so that it passes `glute corpus check` and indexes like real content. Copies cite a
synthetic reference instead of article lines, so the article's chunks stay as they are. Scaled corpora
live in temp dirs and are never committed.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import yaml

from ..chunking import Chunk
from ..config import COLLECTION_NAME, Settings

COPY_REFERENCE = "benchcopy"
COPY_ID = re.compile(r"-copy\d+(?=#)")
ARTICLE_TAG = re.compile(r"article:\d+(?:-\d+)?")
TAGGED_LINE = re.compile(r"^(?P<text>.*\S)(?P<tag>\s*\{[^{}]+\}\s*)$")

CLAMS = [{"role": "user", "content": "how do I do clamshells?"},
         {"role": "assistant", "content": "Clamshell: lie on your side with your hips and knees bent [1]."}]
STEP_UP = [{"role": "user", "content": "how do I do a lateral step-up?"},
           {"role": "assistant", "content": "Lateral step-up: stand side-on to a step [1]."}]
HITCH = [{"role": "user", "content": "what's a hip hitch?"},
         {"role": "assistant", "content": "Hip hitch: stand on a step and let one side of the pelvis drop [1]."}]

# (question, history): how-to, harder, easier, mistakes, equipment/dosage, anatomy, typos, follow-ups,
# off-topic, red flags, medical advice, no evidence.
QUESTIONS: list[tuple[str, list[dict] | None]] = [
    ("how do I do clamshells?", None),
    ("whats the right way to do a hip hitch?", None),
    ("how do i do the wall press exercise", None),
    ("can you walk me through a lateral step up", None),
    ("how to do side lying hip abduction", None),
    ("how do I make clamshells harder?", None),
    ("how can I progress the single leg bridge", None),
    ("side plank with leg lift is too easy, what next?", None),
    ("lateral step-ups are too hard, how do I make them easier?", None),
    ("easier version of the single leg squat", None),
    ("is there a gentler way to do lateral band walks", None),
    ("common mistakes in a single-leg deadlift", None),
    ("what am I doing wrong with my side-lying leg raises", None),
    ("what height should the step be for lateral step-ups?", None),
    ("what band do I need for resisted side steps", None),
    ("how many reps of hip hitches should I do", None),
    ("what does the gluteus medius do?", None),
    ("where does the gluteus medius attach", None),
    ("what is the trendelenburg sign", None),
    ("why does my outer hip hurt when I run", None),
    ("what does physical therapy for hip pain involve", None),
    ("how do I progress safely without flaring my hip", None),
    ("clam shels with band?", None),
    ("singel leg dead lift how to", None),
    ("and how do I make it easier?", CLAMS),
    ("what mistakes do people make with it?", STEP_UP),
    ("how do I make that harder?", HITCH),
    ("what is the capital of France?", None),
    ("give me a good pizza dough recipe", None),
    ("how do I fix the brakes on my bike", None),
    ("I fell on my hip and now I can't put any weight on it", None),
    ("my hip hurts and I have a fever and chills", None),
    ("numbness in my groin and I can't control my bladder", None),
    ("how much ibuprofen should I take for hip pain", None),
    ("can you tell me if I have a torn tendon in my hip", None),
    ("is swimming good for the gluteus medius", None),
]


def instances_for(factor: int, entry_chunks: int, article_chunks: int) -> int:
    """How many instances of each entry (the original plus copies) give about `factor` times the real chunks."""
    return max(1, round((factor * (entry_chunks + article_chunks) - article_chunks) / entry_chunks))


def _copy_entry(raw: str, k: int) -> tuple[str, str]:
    """Entry text -> (new id, text of copy k): unique id, name and aliases; article tags become COPY_REFERENCE."""
    head, body = raw[3:].split("\n---", 1)
    meta = yaml.safe_load(head)
    meta["id"] = f"{meta['id']}-copy{k}"
    meta["name"] = f"{meta['name']} variant {k}"
    meta["aliases"] = [f"{alias} variant {k}" for alias in meta.get("aliases", [])]
    meta["references"] = {"article": [], "sources": [*meta["references"].get("sources", []), COPY_REFERENCE]}
    meta.pop("notes", None)
    lines = [TAGGED_LINE.sub(lambda m: m["text"] + ARTICLE_TAG.sub(COPY_REFERENCE, m["tag"]), line)
             for line in body.split("\n")]
    return meta["id"], "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---" + "\n".join(lines)


def write_scaled_corpus(real: Path, out: Path, instances: int) -> Path:
    """Copy the real corpus to `out` with `instances - 1` extra copies of every entry; returns `out`."""
    shutil.copytree(real / "source", out / "source")
    refs = yaml.safe_load((real / "references.yaml").read_text(encoding="utf-8"))
    refs[COPY_REFERENCE] = {"title": "Synthetic copy made by glute bench", "url": "https://example.invalid/bench"}
    (out / "references.yaml").write_text(yaml.safe_dump(refs, sort_keys=False, allow_unicode=True), encoding="utf-8")
    for kind in ("exercises", "topics"):
        (out / kind).mkdir(parents=True)
        for path in sorted((real / kind).glob("*.md")):
            raw = path.read_text(encoding="utf-8")
            (out / kind / path.name).write_text(raw, encoding="utf-8")
            for k in range(1, instances):
                new_id, text = _copy_entry(raw, k)
                (out / kind / f"{new_id}.md").write_text(text, encoding="utf-8")
    return out


def copy_with_one_edit(real: Path, out: Path) -> str:
    """Copy the corpus and change one statement of one entry; returns the edited file's name."""
    shutil.copytree(real, out)
    path = out / "exercises" / "clamshell.md"
    lines = path.read_text(encoding="utf-8").split("\n")
    summary = lines.index("## Summary")
    target = next(i for i in range(summary + 1, len(lines)) if TAGGED_LINE.match(lines[i]))
    match = TAGGED_LINE.match(lines[target])
    lines[target] = f"{match['text']} It can be done at home.{match['tag']}"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path.name


def original_chunk_id(chunk_id: str) -> str:
    return COPY_ID.sub("", chunk_id)


def index_with_reused_vectors(settings: Settings, vectors: dict[str, list[float]]) -> tuple[int, float]:
    """Index a scaled corpus without embedding it: each copy reuses the vector of the real chunk it copies.

    Only the title in a copy's context header differs from its original, so neighbours are nearly the same;
    the query path (Chroma, BM25, linking) then sees the full-size index. Returns (chunks, seconds).
    """
    from ..index import load_checked_chunks
    from ..store import LocalIndex, chroma_client

    started = time.perf_counter()
    chunks: list[Chunk] = load_checked_chunks(settings)
    index = LocalIndex(settings.index_dir)
    gen, _ = index.create()
    collection = chroma_client(gen).get_collection(COLLECTION_NAME)
    for start in range(0, len(chunks), 1000):
        batch = chunks[start : start + 1000]
        collection.add(ids=[c.chunk_id for c in batch], documents=[c.embed_text for c in batch],
                       metadatas=[c.metadata() for c in batch],
                       embeddings=[vectors[original_chunk_id(c.chunk_id)] for c in batch])
    index.publish(gen)
    return len(chunks), time.perf_counter() - started
