"""ui.format: what the page shows, from hand-made answers; no model, no server."""

from __future__ import annotations

import re

from qa.models import Answer, BuildReport, Passage, Quote, Skipped
from ui import format as fmt

PAGE = ("The prison held an estimated 4,000 IS fighters. "
        "It was the largest prison run by the alliance. "
        "Shami said no inmate had escaped.")
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "<script>alert(2)</script>"


def passage(text: str = PAGE, *, start: int = 0, source: str = "news/prison.txt", page: int = 3,
            score: float = 0.71234, id: int = 1) -> Passage:
    return Passage(id=id, text=text, source=source, page=page, score=score, start=start,
                   end=start + len(text))


def quote_of(p: Passage, sentence: str, citation: int, highlight: tuple[int, int] | None = None) -> Quote:
    at = p.text.index(sentence)
    return Quote(text=sentence, source=p.source, page=p.page, start=p.start + at,
                 end=p.start + at + len(sentence), score=0.8, citation=citation, highlight=highlight)


def answered() -> Answer:
    first = passage(PAGE, start=100)
    second = passage("Unrelated words here. Shami spoke on Twitter.", start=900, id=2, score=0.4)
    quotes = (quote_of(first, "The prison held an estimated 4,000 IS fighters.", 1, (29, 34)),
              quote_of(second, "Shami spoke on Twitter.", 2))
    return Answer("How many?", "…", False, quotes, (first, second))


# --- chat -----------------------------------------------------------------------------
def test_answer_markdown_quotes_verbatim_with_citation_document_and_page() -> None:
    text = fmt.answer_markdown(answered())
    assert "“The prison held an estimated **4,000** IS fighters.” **\\[1\\]**" in text
    assert "“Shami spoke on Twitter.” **\\[2\\]**" in text
    assert text.count("*news/prison.txt*, page 3") == 2
    assert text.startswith("> ")


def test_answer_markdown_escapes_document_text() -> None:
    p = passage(f"Before. Look {XSS_IMG} and {XSS_SCRIPT} *now* [x](y) $a$.", start=0)
    sentence = p.text[len("Before. "):]
    text = fmt.answer_markdown(Answer("q", "…", False, (quote_of(p, sentence, 1),), (p,)))
    assert "<img" not in text and "<script" not in text
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in text
    assert "&lt;script&gt;alert\\(2\\)&lt;/script&gt;" in text
    assert "\\*now\\*" in text and "\\[x\\]\\(y\\)" in text and "\\$a\\$" in text


def test_answer_markdown_escapes_source_name() -> None:
    p = passage(PAGE, source=f"{XSS_IMG}.txt")
    text = fmt.answer_markdown(Answer("q", "…", False, (quote_of(p, "Shami said no inmate had escaped.", 1),), (p,)))
    assert "<img" not in text and "&lt;img" in text


def test_abstained_answer_says_so_plainly() -> None:
    answer = Answer("Who won?", "The documents don't say. None of the passages answers “Who won?”.",
                    True, (), (passage(),))
    text = fmt.answer_markdown(answer)
    assert text.startswith("**Not in your documents.**")
    assert "The documents don't say." in text
    assert "not answering" in text


def test_error_markdown_is_escaped() -> None:
    assert fmt.error_markdown("No index at <b>x</b>") == "⚠️ No index at &lt;b&gt;x&lt;/b&gt;"


# --- sources --------------------------------------------------------------------------
def test_highlight_marks_the_quoted_sentence_at_its_offsets() -> None:
    p = passage(PAGE, start=100)
    sentence = "It was the largest prison run by the alliance."
    out = fmt.highlight_passage(p, [quote_of(p, sentence, 1)])
    assert out.count("<mark>") == 1
    assert f"<mark>{sentence}</mark>" in out
    assert out.startswith("The prison held an estimated 4,000 IS fighters. <mark>")


def test_highlight_uses_offsets_not_the_first_occurrence() -> None:
    text = "Shami spoke. Others waited. Shami spoke."
    p = passage(text, start=50)
    second = Quote(text="Shami spoke.", source=p.source, page=p.page, start=50 + 28, end=50 + 40,
                   score=0.9, citation=1)
    out = fmt.highlight_passage(p, [second])
    assert out == "Shami spoke. Others waited. <mark>Shami spoke.</mark>"


def test_highlight_bolds_the_best_span_inside_the_mark() -> None:
    p = passage(PAGE)
    q = quote_of(p, "The prison held an estimated 4,000 IS fighters.", 1, (29, 34))
    out = fmt.highlight_passage(p, [q])
    assert "<mark>The prison held an estimated <b>4,000</b> IS fighters.</mark>" in out


def test_highlight_falls_back_to_search_when_offsets_do_not_match() -> None:
    p = passage(PAGE, start=0)
    q = Quote(text="Shami said no inmate had escaped.", source=p.source, page=p.page + 1,
              start=5, end=38, score=0.5, citation=1)
    assert "<mark>Shami said no inmate had escaped.</mark>" in fmt.highlight_passage(p, [q])


def test_highlight_merges_overlapping_quotes() -> None:
    p = passage(PAGE)
    a = quote_of(p, "The prison held an estimated 4,000 IS fighters.", 1)
    b = Quote(text="4,000 IS fighters. It was", source=p.source, page=p.page, start=29, end=54,
              score=0.5, citation=1)
    out = fmt.highlight_passage(p, [a, b])
    assert out.count("<mark>") == 1 and out.count("</mark>") == 1


def test_passage_text_is_escaped_inside_and_outside_marks() -> None:
    text = f"Intro {XSS_SCRIPT} here. Quote with {XSS_IMG} inside. Tail & more."
    p = passage(text)
    out = fmt.highlight_passage(p, [quote_of(p, f"Quote with {XSS_IMG} inside.", 1)])
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in out
    assert "<mark>Quote with &lt;img src=x onerror=alert(1)&gt; inside.</mark>" in out
    assert "Tail &amp; more." in out


def test_sources_html_numbers_passages_like_citations() -> None:
    out = fmt.sources_html(answered())
    items = re.findall(r'<li class="([^"]+)" value="(\d)">', out)
    assert [n for _, n in items] == ["1", "2"]
    assert out.index("[1]") < out.index("[2]")
    assert "news/prison.txt</span> · page 3 · score 0.712" in out
    assert "<mark>The prison held an estimated <b>4,000</b> IS fighters.</mark>" in out
    assert "<mark>Shami spoke on Twitter.</mark>" in out
    assert "not answering" not in out


def test_sources_html_never_shows_a_negative_score() -> None:
    answer = Answer("q", "The documents don't say.", True, (), (passage(score=-0.0447),))
    out = fmt.sources_html(answer)
    assert "· score 0.000" in out
    assert "-0.0" not in out


def test_sources_html_escapes_document_names() -> None:
    p = passage(PAGE, source=f"{XSS_SCRIPT}{XSS_IMG}.txt")
    out = fmt.sources_html(Answer("q", "…", False, (), (p,)))
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=alert(1)&gt;" in out


def test_sources_html_abstained_marks_passages_not_answering() -> None:
    answer = Answer("q", "The documents don't say.", True, (),
                    (passage(), passage("Other text.", id=2, score=0.1)))
    out = fmt.sources_html(answer)
    assert "No passage answers this question" in out
    assert out.count("qa-not-answering") == 2
    assert out.count(">not answering</span>") == 2
    assert "<mark>" not in out


def test_sources_html_before_any_question() -> None:
    out = fmt.sources_html(None)
    assert "Ask a question" in out and "<li" not in out


# --- documents and status -------------------------------------------------------------
class Doc:
    def __init__(self, name: str, kind: str = "txt", pages: int = 1, chunks: int = 2) -> None:
        self.name, self.kind, self.pages, self.chunks = name, kind, pages, chunks


def test_documents_html_lists_name_type_pages_chunks() -> None:
    out = fmt.documents_html([Doc("seeds/a.txt", "txt", 1, 5), Doc("report.pdf", "pdf", 12, 40)])
    assert out.count("<tr>") == 3
    assert '<td class="qa-doc">report.pdf</td><td>pdf</td><td class="qa-num">12</td>' in out


def test_documents_html_escapes_file_names() -> None:
    out = fmt.documents_html([Doc(f"{XSS_IMG}{XSS_SCRIPT}.txt")])
    assert "<img" not in out and "<script" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in out


def test_documents_html_when_empty() -> None:
    assert "No documents" in fmt.documents_html([])


def test_status_markdown_reports_added_and_skipped() -> None:
    report = BuildReport(added=("a.txt",), skipped=(Skipped("broken.pdf", "damaged PDF: EOF"),))
    out = fmt.status_markdown(report, rejected=[(f"{XSS_IMG}.exe", "unsupported file type .exe")])
    assert "**Added:** a.txt" in out
    assert "**Not indexed:** broken.pdf: damaged PDF: EOF" in out
    assert "&lt;img" in out and "<img" not in out
    assert fmt.status_markdown(BuildReport()) == "Nothing changed."
    assert fmt.status_markdown(BuildReport(renamed=(("a.txt", "b/a.txt"),))) == "**Renamed:** a.txt → b/a.txt"
