"""Loaders on real files: every kind of document, and every kind of bad input skipped with a reason."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from pdfgen import make_pdf
from qa.documents import discover, load
from qa.errors import DocumentError, UserInputError

SHARED_PDFS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdfs"
FIXTURES = Path(__file__).resolve().parent / "data" / "pdfs"


def reason(path: Path, **kw) -> str:
    with pytest.raises(DocumentError) as info:
        load(path, **kw)
    return str(info.value)


def test_text_encodings(tmp_path: Path) -> None:
    utf8 = tmp_path / "utf8.txt"
    utf8.write_text("Café au lait costs €3.\r\nSecond line.", encoding="utf-8")
    assert load(utf8).pages[0].text == "Café au lait costs €3.\nSecond line."
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Crème brûlée for señor Muñoz.".encode("latin-1"))
    assert load(latin).pages[0].text == "Crème brûlée for señor Muñoz."
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes("\ufeffNaïve façade, 東京.".encode("utf-16-le"))
    assert load(utf16).pages[0].text == "Naïve façade, 東京."
    for name, text, encoding in [
        ("gbk.txt", "北京是中华人民共和国的首都，也是全国的政治和文化中心。这座城市有三千多年的历史。", "gbk"),
        ("sjis.txt", "東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。桜の季節には多くの人が公園を訪れます。", "shift_jis"),
        ("pl.txt", "Zażółć gęślą jaźń. Wczoraj w Łodzi padał śnieg, a dzieci lepiły bałwana przed szkołą. "
                   "Nauczycielka powiedziała, że jutro będzie cieplej.", "iso8859_2"),
        ("cs.txt", "Příliš žluťoučký kůň úpěl ďábelské ódy. Včera v Brně pršelo a děti si hrály na zahradě. "
                   "Učitelka řekla, že zítra bude tepleji.", "iso8859_2"),
        ("cs1250.txt", "Příliš žluťoučký kůň úpěl ďábelské ódy. Včera v Brně pršelo.", "cp1250"),
        ("fr.txt", "Le café coûte trois euros. Où est la gare ? Ça dépend de l'été. Les élèves ont déjà "
                   "mangé leur goûter près de la fenêtre.", "cp1252"),
        ("ru.txt", "Москва — столица России, крупнейший по численности населения город страны.", "cp1251"),
    ]:
        (tmp_path / name).write_bytes(text.encode(encoding))
        assert load(tmp_path / name).pages[0].text == text, name
    bom = tmp_path / "bom.md"
    bom.write_bytes(b"\xef\xbb\xbf# Title\n\nBody text.")
    doc = load(bom)
    assert doc.kind == "md" and doc.pages[0].text.startswith("# Title")


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>Harbor news</title><style>p {color: red}</style>"
                    "<script>var secret = 'do not index';</script></head><body>"
                    "<h1>Dredging</h1><p>The harbor was dredged &amp; deepened.</p>"
                    "<!-- hidden comment --><noscript>enable js</noscript><ul><li>One</li><li>Two</li></ul>"
                    "</body></html>")
    text = load(page).pages[0].text
    assert "Harbor news" in text and "Dredging" in text and "dredged & deepened." in text
    for hidden in ("color: red", "secret", "hidden comment", "enable js"):
        assert hidden not in text
    assert "One\n" in text


def test_multipage_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "three.pdf", ["Alpha page text.", "Beta page text.", "Gamma page text."])
    doc = load(pdf)
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert "Beta" in doc.pages[1].text and doc.kind == "pdf"


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: make_pdf(p, ["Secret vault code."], encrypt_password="hunter2"), "encrypted PDF"),
    (lambda p: p.write_bytes(make_pdf(p, ["Some text here.", "More text."]).read_bytes()[:300]), "damaged PDF"),
    (lambda p: make_pdf(p, ["", ""], text_layer=False), "no text layer"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_bytes(b"%PDF-1.7\nthis is not a pdf at all"), "damaged PDF"),
])
def test_bad_pdfs_have_reasons(tmp_path: Path, make, expected: str) -> None:
    path = tmp_path / "bad.pdf"
    make(path)
    assert expected in reason(path)


@pytest.mark.parametrize("algorithm", ["AES-256", "AES-128", "RC4-128"])
def test_pdf_with_empty_user_password_is_read(tmp_path: Path, algorithm: str) -> None:
    pdf = make_pdf(tmp_path / "open.pdf", ["Readable despite encryption."], encrypt_password="",
                   algorithm=algorithm)
    assert "Readable despite encryption." in load(pdf).pages[0].text


@pytest.mark.parametrize("algorithm", ["AES-256", "RC4-128"])
def test_pdf_with_user_password_is_skipped(tmp_path: Path, algorithm: str) -> None:
    pdf = make_pdf(tmp_path / "locked.pdf", ["Secret."], encrypt_password="hunter2", algorithm=algorithm)
    assert reason(pdf) == "encrypted PDF (password required)"


def test_missing_crypto_library_is_named(tmp_path: Path) -> None:
    """Without `cryptography` pypdf cannot decrypt AES: the reason says so, not 'scanned PDF?'."""
    pdf = make_pdf(tmp_path / "aes.pdf", ["Readable with AES."], encrypt_password="", algorithm="AES-256")
    probe = ("import sys; sys.modules['cryptography'] = None; sys.modules['Crypto'] = None\n"
             "from qa.documents import load\nfrom qa.errors import DocumentError\n"
             f"try:\n    load({str(pdf)!r})\nexcept DocumentError as exc:\n    print(exc)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.stdout.startswith("cannot decrypt PDF: "), out.stdout + out.stderr
    assert "cryptography" in out.stdout


def _broken(good: bytes) -> dict[str, bytes]:
    xref = good.index(b"xref")
    return {
        "truncated.pdf": good[: len(good) // 2],
        "xref.pdf": good[:xref] + b"xref\n0 9\nnot a table, just junk\n" + good[good.index(b"trailer"):],
        "loop.pdf": good.replace(b"/Kids [3 0 R 5 0 R] /Count 2", b"/Kids [2 0 R 3 0 R] /Count 2"),
        "deep.pdf": good.replace(b"/Contents 4 0 R", b"/Contents " + b"[" * 5000 + b"4 0 R" + b"]" * 5000),
        "noise.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 50,
    }


def test_broken_pdfs_are_skipped_with_their_cause(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", ["Alpha page text here.", "Beta page text here."]).read_bytes()
    reasons = {}
    for name, data in _broken(good).items():
        assert data != good
        (tmp_path / name).write_bytes(data)
        reasons[name] = reason(tmp_path / name)
    assert reasons == {
        "truncated.pdf": "damaged PDF: Stream has ended unexpectedly",
        "xref.pdf": "damaged PDF: Unexpected empty line in Xref table.",
        "loop.pdf": "damaged PDF: Detected cyclic page references.",
        "deep.pdf": "damaged PDF: Error reading PDF file.",
        "noise.pdf": "damaged PDF: Stream has ended unexpectedly",
    }
    # a page that cannot be read is dropped, the others kept
    (tmp_path / "half.pdf").write_bytes(good.replace(b"/Contents 4 0 R", b"/Contents 99 0 R"))
    assert [p.number for p in load(tmp_path / "half.pdf").pages] == [2]


def test_a_build_survives_every_broken_file(tmp_path: Path) -> None:
    from qa import Index

    docs = tmp_path / "docs"
    docs.mkdir()
    good = make_pdf(docs / "good.pdf", ["The lighthouse keeper is Ada Quill.", "Second page."]).read_bytes()
    for name, data in _broken(good).items():
        (docs / name).write_bytes(data)
    make_pdf(docs / "locked.pdf", ["Secret."], encrypt_password="pw", algorithm="AES-256")
    report = Index.build([docs], path=tmp_path / "index").last_report
    assert report.added == ("docs/good.pdf",)
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped["docs/locked.pdf"] == "encrypted PDF (password required)"
    assert skipped["docs/loop.pdf"] == "damaged PDF: Detected cyclic page references."
    assert len(skipped) == 6 and all(r.startswith(("damaged PDF: ", "encrypted")) for r in skipped.values())


def test_loader_boundary_names_any_parser_failure(tmp_path: Path) -> None:
    """A parser bug outside pypdf's own errors still gives one line naming it."""
    page = tmp_path / "deep.html"
    page.write_text("<div>" * 200_000 + "Deep text." + "</div>" * 200_000)
    assert "Deep text." in load(page).pages[0].text  # HTMLParser is not recursive: it copes
    from qa.documents import describe
    assert describe(KeyError("/Root")) == "KeyError: '/Root'"
    assert describe(RecursionError()) == "RecursionError"


def test_ligatures_are_spelt_out_and_apostrophes_kept(tmp_path: Path) -> None:
    text = load(FIXTURES / "crazyones-pdfa.pdf").pages[0].text
    assert "The misfits." in text and "differently" in text and "\ufb01" not in text
    # The file itself has no apostrophe: its font lacks the glyph and the page draws "Heres".
    assert "Heres to the crazy ones" in text
    pdf = make_pdf(tmp_path / "apostrophe.pdf", ["Here\u2019s the plan, and here's another."])
    assert "Here\u2019s the plan, and here's another." in load(pdf).pages[0].text
    note = tmp_path / "note.txt"
    note.write_text("A small o\ufb03ce of e\u0301lite misﬁts.")
    assert load(note).pages[0].text == "A small office of \u00e9lite misfits."


def test_ligature_word_is_found_by_bm25_and_answer_scoring(tmp_path: Path) -> None:
    from qa import Index, Retriever
    from qa.answerer import lexical_overlap
    from qa.text import stems

    index = Index.build([FIXTURES / "crazyones-pdfa.pdf"], path=tmp_path / "index")
    retriever = Retriever(index, mode="bm25")
    passages = retriever.search("misfits", k=1)
    assert passages and "misfits" in passages[0].text
    sentence = next(s for s in passages[0].sentences if "misfits" in s.text)
    assert lexical_overlap(set(stems(["misfits"])), sentence.text) == 1.0


def test_fixture_pdfs_are_indexed_or_reported() -> None:
    results = {}
    for pdf in sorted(FIXTURES.glob("*.pdf")):
        try:
            results[pdf.name] = len(load(pdf).pages)
        except DocumentError as exc:
            results[pdf.name] = str(exc)
    assert results == {"crazyones-pdfa.pdf": 1, "habibi.pdf": 1,
                       "libreoffice-writer-password.pdf": "encrypted PDF (password required)",
                       "minimal-document.pdf": 1, "pdflatex-4-pages.pdf": 4}
    assert "Lorem ipsum" in load(FIXTURES / "minimal-document.pdf").pages[0].text
    assert "habibi" in load(FIXTURES / "habibi.pdf").pages[0].text


def test_bad_text_inputs(tmp_path: Path) -> None:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 40)
    assert reason(binary) == "binary file, not text"
    blank = tmp_path / "blank.md"
    blank.write_text("   \n\n\t ")
    assert reason(blank) == "empty file"
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000)
    assert reason(big, max_bytes=1000).startswith("file too large")
    scripts_only = tmp_path / "scripts.html"
    scripts_only.write_text("<script>alert(1)</script><style>b{}</style>")
    assert reason(scripts_only) == "no visible text"
    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"PK\x03\x04")
    assert reason(odd) == "unsupported file type .docx"


def test_discover_walks_folders(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "a.txt").write_text("A.")
    (root / "sub" / "b.md").write_text("B.")
    (root / "sub" / "deeper" / "c.HTML").write_text("<p>C.</p>")
    (root / ".hidden" / "d.txt").write_text("D.")
    (root / ".e.txt").write_text("E.")
    (root / "image.png").write_bytes(b"\x89PNG")
    files, skipped = discover([root, root / "a.txt"])
    assert [name for _, name in files] == ["docs/a.txt", "docs/sub/b.md", "docs/sub/deeper/c.HTML"]
    assert all(path.is_absolute() for path, _ in files)
    assert [(s.path, s.reason) for s in skipped] == [("docs/image.png", "unsupported file type .png")]
    with pytest.raises(UserInputError, match="No such file or folder: nowhere"):
        discover(["nowhere"])


@pytest.mark.skipif(not SHARED_PDFS.is_dir(), reason="shared sample PDFs not present")
def test_real_world_pdfs_are_indexed_or_reported(capfd, caplog) -> None:
    caplog.set_level(logging.WARNING)
    results = {}
    for pdf in sorted(SHARED_PDFS.glob("*.pdf")):
        try:
            doc = load(pdf)
            results[pdf.name] = f"{len(doc.pages)} pages"
            assert sum(len(p.text) for p in doc.pages) > 0
        except DocumentError as exc:
            results[pdf.name] = str(exc)
    assert results["libreoffice-writer-password.pdf"] == "encrypted PDF (password required)"
    assert results["unreadablemetadata.pdf"].startswith("damaged PDF")
    assert results["pdflatex-4-pages.pdf"] == "4 pages"
    assert results["GeoTopo-komprimiert.pdf"].endswith("pages")
    assert results["crazyones-pdfa.pdf"] == "1 pages"
    out, err = capfd.readouterr()
    assert "fontTools" not in out + err and "fontTools" not in caplog.text
    assert len((out + err).splitlines()) < 5
