"""Markdown for the chat UI: answers, their sources and exercise pages, with every outside text escaped.

Pure functions with no Gradio import, so the rendering can be tested alone and `app.py` stays a layout.
Chat messages are rendered as Markdown with HTML allowed, so text from users and from the corpus is
HTML-escaped before it goes in; user text is also Markdown-escaped, so it shows exactly as typed.
Markers such as [1] keep their visible text and carry "source 1" for screen readers (`marker_html`); the
Sources block is a native <details> disclosure (`sources_block`); `article_html` is the /article page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from urllib.parse import quote

from ..answer import Answer, Citation
from ..corpus import ARTICLE_KEY, Entry

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")
MARKER = re.compile(r"\[(\d{1,3})\](?!\()")  # [1], never the text of a Markdown link [1](...)
ARTICLE_CHUNK_LINES = re.compile(r"#L(\d+)(?:-L(\d+))?$")
WORD = re.compile(r"\S+\s*")
RANGE_DASH = "\u2013"
SHOWN_QUESTION_CHARS = 2000
RED_FLAG_BANNER = ('<div class="glute-red-flag" role="alert">&#9888;&#65039; <strong>Red flag: this may need '
                   "medical care now.</strong> Please read this first.</div>\n\n")
FACTS = (("Targets", "targets"), ("Equipment", "equipment"), ("Position", "position"), ("Level", "level"),
         ("Dosage", "dosage"))


def escape(text: str) -> str:
    """Text that may carry Markdown (answers, corpus passages), with HTML neutralised."""
    return html.escape(text, quote=False)


def as_plain_text(text: str) -> str:
    """Text typed by a user, shown literally: no HTML and no Markdown take effect."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", escape(text))


def question_markdown(question: str) -> str:
    """The user's bubble; very long input is cut for display (the assistant still sees all of it)."""
    if len(question) > SHOWN_QUESTION_CHARS:
        return as_plain_text(question[:SHOWN_QUESTION_CHARS]) + f" … ({len(question):,} characters in all)"
    return as_plain_text(question)


def marker_html(number: int | str) -> str:
    """A marker as the page shows it: "[1]" to the eye, "source 1" to a screen reader. The chat's sanitizer drops
    aria-* attributes, so the spoken text is visually hidden text; the page's script hides "[1]" from screen
    readers (`glute-marker-shown`)."""
    return (f'<span class="glute-marker"><span class="glute-marker-shown">[{number}]</span>'
            f'<span class="glute-sr-only">source {number}</span></span>')


def with_markers(text: str) -> str:
    """Escaped answer text with each [n] marker given its accessible text."""
    return MARKER.sub(lambda m: marker_html(m.group(1)), text)


def answer_markdown(answer: Answer, words: int | None = None) -> str:
    """The answer bubble, optionally only its first `words` words (for streaming); red flags lead with a banner
    (role=alert). The answer's own text (`Answer.answer`) is untouched: only its rendering carries the markup."""
    body = answer.answer if words is None else "".join(WORD.findall(answer.answer)[:words])
    banner = RED_FLAG_BANNER if answer.safety == "red_flag" else ""
    return banner + with_markers(escape(body.rstrip() if words is not None else body))


def streamed(answer: Answer, step: int = 4) -> Iterator[str]:
    """Progressively longer versions of the answer bubble, ending with the whole of it."""
    total = len(WORD.findall(answer.answer))
    for words in range(step, total, step):
        yield answer_markdown(answer, words)
    yield answer_markdown(answer)


def source_label(citation: Citation) -> str:
    """Where a passage comes from; article chunks (`source#L35-L36`) also give their line range."""
    match = ARTICLE_CHUNK_LINES.search(citation.chunk_id)
    if not match:
        return citation.source
    first, last = match.group(1), match.group(2)
    if not last or last == first:
        return f"{citation.source}, line {first}"
    return f"{citation.source}, lines {first}{RANGE_DASH}{last}"


def origin_markdown(origin: dict) -> str:
    """'from: source article, line 36' (opening the article at that line) or 'from: MSD Manual — Clamshell' with
    a link when the reference has a web address; only http(s) addresses become links."""
    if origin["kind"] == "article":
        return f"[source article, line {origin['line']}](/article#L{origin['line']})"
    who = origin.get("publisher") or origin.get("authors")
    label = f"{who} — {origin['title']}" if who else str(origin["title"])
    year = f" ({origin['year']})" if origin.get("year") else ""
    url = str(origin.get("url") or "")
    return (_link(label, url) if re.match(r"^https?://", url) else escape(label)) + year


def sources_markdown(citations: Sequence[Citation]) -> str:
    """Each marker with its entry and section, the exact passage cited and the file it comes from, then each
    statement quoted from it with where it really comes from (an article line or a reference)."""
    blocks = []
    for c in citations:
        passage = "\n".join(f"> {escape(line)}" for line in c.text.splitlines() if line.strip())
        origins = "\n".join(
            f"- \u201c{escape(s['text'])}\u201d <small>from: "
            f"{'; '.join(origin_markdown(o) for o in s['provenance']) or 'no source tag'}</small>"
            for s in c.statements)
        blocks.append(f"**{marker_html(c.marker)} {escape(c.title)} — {escape(c.section)}**\n\n{passage}\n\n"
                      + (f"{origins}\n\n" if origins else "") + f"*Source: {escape(source_label(c))}*")
    return "\n\n".join(blocks)


def sources_block(citations: Sequence[Citation], title: str = "Sources") -> str:
    """The Sources message: a native <details> disclosure, closed until opened (Enter or Space on its summary).
    Gradio's own collapsible block nests a nameless button inside its role=button title; this has neither."""
    return (f'<details class="glute-sources"><summary>{escape(title)}</summary>\n\n'
            f"{sources_markdown(citations)}\n\n</details>")


ARTICLE_PAGE_CSS = """
body { font: 1.0625rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2937;
       background: #fff; margin: 0 auto; max-width: 48rem; padding: 1rem; overflow-wrap: anywhere; }
a { color: #1d4ed8; }
a:focus-visible, li:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.back { display: inline-flex; align-items: center; min-height: 44px; }
ol { padding-left: 3.5em; }
li { padding: 0.15em 0.4em; scroll-margin-top: 4rem; }
li::marker { color: #4b5563; }
li:target { background: #fef3c7; outline: 3px solid #b45309; }
"""

# The line in the address gets the focus, so keyboard and screen-reader users start reading there.
ARTICLE_PAGE_JS = """
function focusLine() { const line = document.getElementById(location.hash.slice(1)); if (line) line.focus(); }
window.addEventListener("hashchange", focusLine); focusLine();
"""


def article_html(lines: Sequence[str], title: str, file: str) -> str:
    """The /article page: the source article as an ordered list, one item per line with id "L<n>", so that
    "source article, line 36" opens at /article#L36 (that line highlighted). Every line is HTML-escaped."""
    items = "\n".join(f'<li id="L{n}" tabindex="-1">{html.escape(line)}</li>' for n, line in enumerate(lines, 1))
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)} · glute</title>\n<style>{ARTICLE_PAGE_CSS}</style>\n</head>\n<body>\n"
            f'<nav aria-label="glute"><a class="back" href="./">Back to the glute chat</a></nav>\n<main>\n'
            f"<h1>{html.escape(title)}</h1>\n<p>The text glute cites as \u201csource article, line <i>n</i>\u201d, "
            f"line by line ({html.escape(file)}).</p>\n<ol>\n{items}\n</ol>\n</main>\n"
            f"<script>{ARTICLE_PAGE_JS}</script>\n</body>\n</html>\n")


def compress_numbers(numbers: Sequence[int]) -> str:
    """[14, 27, 35, 36, 51, 52, 53] -> '14, 27, 35-36, 51-53' (with en dashes)."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}{RANGE_DASH}{r[-1]}" for r in runs)


def _link(label: str, url: str) -> str:
    if not re.match(r"^https?://", url):
        return escape(url)
    return f"[{escape(label)}]({quote(url, safe=':/?#=&%.-_~')})"


def reference_markdown(key: str, ref: dict | None, article_lines: Sequence[int] = ()) -> str:
    """One reference as a citation line: authors (year). Title. Journal volume. DOI or URL."""
    if not ref:
        return escape(key)
    if key == ARTICLE_KEY:
        where = f", lines {compress_numbers(article_lines)}" if article_lines else ""
        return f"{escape(str(ref.get('title', key)))}{where} ({escape(str(ref.get('file', '')))})"
    parts = []
    if ref.get("authors"):
        year = f" ({ref['year']})" if ref.get("year") else ""
        parts.append(f"{escape(str(ref['authors']))}{year}.")
    if ref.get("title"):
        parts.append(f"{escape(str(ref['title']).rstrip('.'))}.")
    journal = " ".join(escape(str(ref[k])) for k in ("journal", "volume") if ref.get(k))
    if journal:
        parts.append(f"*{journal}*.")
    if ref.get("publisher"):
        parts.append(f"{escape(str(ref['publisher']))}.")
    if not ref.get("authors") and ref.get("year"):
        parts.append(f"{ref['year']}.")
    if ref.get("doi"):
        doi = str(ref["doi"])
        parts.append(_link(f"doi:{doi}", f"https://doi.org/{doi}"))
    elif ref.get("url"):
        parts.append(_link(str(ref["url"]), str(ref["url"])))
    return " ".join(parts)


def _section_markdown(lines) -> str:
    """Consecutive list items stay one list; plain sentences form a paragraph."""
    blocks: list[list[str]] = []
    kind = None
    for line in lines:
        line_kind = "list" if line.marker else "text"
        if line_kind != kind:
            blocks.append([])
            kind = line_kind
        blocks[-1].append(f"{line.marker} {escape(line.text)}" if line.marker else escape(line.text))
    return "\n\n".join("\n".join(block) for block in blocks)


def exercise_markdown(entry: Entry, references: dict[str, dict]) -> str:
    """An exercise page drawn from its corpus entry: facts, every section, and its references resolved."""
    meta = entry.meta
    parts = [f"## {escape(meta.name)}"]
    facts = []
    for label, name in FACTS:
        value = getattr(meta, name, None)
        if value:
            value = ", ".join(value) if isinstance(value, list) else str(value)
            facts.append(f"- **{label}:** {escape(value)}")
    if facts:
        parts.append("\n".join(facts))
    for section in entry.sections:
        if section.lines:
            parts.append(f"### {escape(section.title)}\n\n{_section_markdown(section.lines)}")
    refs = []
    if meta.references.article:
        refs.append(reference_markdown(ARTICLE_KEY, references.get(ARTICLE_KEY) or {"title": "Source article"},
                                       meta.references.article))
    refs += [reference_markdown(key, references.get(key)) for key in meta.references.sources]
    if refs:
        parts.append("### References\n\n" + "\n".join(f"{n}. {ref}" for n, ref in enumerate(refs, start=1)))
    return "\n\n".join(parts)
