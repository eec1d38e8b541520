"""Turn qa results into what the page shows: chat Markdown, sources HTML, the documents table.

Everything taken from a document (quotes, passages, names) is escaped here, so a document that
contains `<script>` or `<img onerror=...>` is shown as text and never runs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from qa.display import shown_score

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~$])")


# --- chat ---------------------------------------------------------------------------------
def escape_markdown(text: str) -> str:
    """Document text as literal chat text: no Markdown, no HTML, no LaTeX; whitespace collapsed."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"\s+", " ", html.escape(text, quote=False))


def _emphasised(text: str, span: tuple[int, int] | None) -> str:
    """Escaped quote text with the span that best matches the question in bold."""
    if not span or not (0 <= span[0] < span[1] <= len(text)):
        return escape_markdown(text)
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return escape_markdown(text)
    return (escape_markdown(text[:start]) + "**" + escape_markdown(text[start:end]) + "**"
            + escape_markdown(text[end:]))


def answer_markdown(answer: Any) -> str:
    """The assistant's chat message: each quote verbatim, with its citation, document and page."""
    if answer.abstained or not answer.quotes:
        return (f"**Not in your documents.** {escape_markdown(answer.answer)}\n\n"
                "The closest passages are under *Sources*, marked *not answering*.")
    blocks = []
    if answer.short_answer is not None:
        blocks.append(f"**{escape_markdown(answer.short_answer.text)}**")
    for n, quote in enumerate(answer.quotes):
        if n == 1:
            blocks.append("*Related sentences:*")
        text = _emphasised(quote.text, quote.highlight)
        blocks.append(f"> “{text}” **\\[{quote.citation}\\]**  \n"
                      f"> — *{escape_markdown(quote.source)}*, page {quote.page}")
    return "\n\n".join(blocks)


def error_markdown(message: str) -> str:
    return f"⚠️ {escape_markdown(message)}"


# --- sources ------------------------------------------------------------------------------
def _local_spans(passage: Any, quotes: Iterable[Any]) -> list[tuple[int, int, tuple[int, int] | None]]:
    """Where each quote sits in the passage text: (start, end, highlight inside the quote)."""
    spans = []
    for quote in quotes:
        start = quote.start - passage.start
        end = start + len(quote.text)
        if not (quote.page == passage.page and 0 <= start and passage.text[start:end] == quote.text):
            start = passage.text.find(quote.text)
            if start < 0 or not quote.text:
                continue
            end = start + len(quote.text)
        spans.append((start, end, quote.highlight))
    spans.sort()
    merged: list[tuple[int, int, tuple[int, int] | None]] = []
    for start, end, highlight in spans:
        if merged and start < merged[-1][1]:
            prev = merged[-1]
            merged[-1] = (prev[0], max(prev[1], end), prev[2])
        else:
            merged.append((start, end, highlight))
    return merged


def highlight_passage(passage: Any, quotes: Iterable[Any]) -> str:
    """Escaped passage text with each quoted sentence in <mark> (its best span in <b>)."""
    text = passage.text
    out, pos = [], 0
    for start, end, highlight in _local_spans(passage, quotes):
        out.append(html.escape(text[pos:start]))
        sentence = text[start:end]
        if highlight and 0 <= highlight[0] < highlight[1] <= len(sentence):
            a, b = highlight
            inner = (html.escape(sentence[:a]) + "<b>" + html.escape(sentence[a:b]) + "</b>"
                     + html.escape(sentence[b:]))
        else:
            inner = html.escape(sentence)
        out.append(f"<mark>{inner}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def sources_html(answer: Any | None) -> str:
    """The passages behind the latest answer, numbered like the citations."""
    if answer is None:
        return ('<div class="qa-sources qa-empty">Ask a question: the passages an answer comes '
                "from are shown here, the quoted sentences highlighted.</div>")
    items = []
    for number, passage in enumerate(answer.passages, 1):
        quotes = [q for q in answer.quotes if q.citation == number]
        cited = bool(quotes) and not answer.abstained
        classes = "qa-passage" + ("" if cited else " qa-uncited")
        badge = ""
        if answer.abstained:
            classes += " qa-not-answering"
            badge = ' <span class="qa-badge">not answering</span>'
        items.append(
            f'<li class="{classes}" value="{number}">'
            f'<div class="qa-meta"><span class="qa-cite">[{number}]</span> '
            f'<span class="qa-doc">{html.escape(passage.source)}</span> · page {int(passage.page)}'
            f' · score {shown_score(passage.score):.3f}{badge}</div>'
            f'<div class="qa-text">{highlight_passage(passage, quotes)}</div></li>')
    note = ""
    if answer.abstained:
        note = ('<p class="qa-note">No passage answers this question. The closest ones are below; '
                "they do not answer it.</p>")
    if not items:
        note += '<p class="qa-note">No passages were found.</p>'
    return f'<div class="qa-sources">{note}<ol class="qa-list">{"".join(items)}</ol></div>'


# --- documents ----------------------------------------------------------------------------
def documents_html(documents: Sequence[Any]) -> str:
    """The indexed documents as a table: name, type, pages, chunks."""
    if not documents:
        return '<p class="qa-empty">No documents are indexed yet: upload one below.</p>'
    rows = "".join(
        f"<tr><td class=\"qa-doc\">{html.escape(d.name)}</td><td>{html.escape(d.kind)}</td>"
        f"<td class=\"qa-num\">{int(d.pages)}</td><td class=\"qa-num\">{int(d.chunks)}</td></tr>"
        for d in documents)
    return ('<table class="qa-docs"><thead><tr><th>Document</th><th>Type</th>'
            f'<th class="qa-num">Pages</th><th class="qa-num">Chunks</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def status_markdown(report: Any, *, rejected: Sequence[tuple[str, str]] = ()) -> str:
    """One line per outcome of an upload or removal; names and reasons escaped."""
    lines = []
    for label, names in (("Added", report.added), ("Updated", report.updated),
                         ("Already indexed", report.unchanged), ("Removed", report.removed)):
        if names:
            lines.append(f"**{label}:** " + ", ".join(escape_markdown(n) for n in names))
    for old, new in getattr(report, "renamed", ()):
        lines.append(f"**Renamed:** {escape_markdown(old)} → {escape_markdown(new)}")
    for item in report.skipped:
        lines.append(f"**Not indexed:** {escape_markdown(item.path)}: {escape_markdown(item.reason)}")
    for name, reason in rejected:
        lines.append(f"**Not indexed:** {escape_markdown(name)}: {escape_markdown(reason)}")
    return "  \n".join(lines) or "Nothing changed."
