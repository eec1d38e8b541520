"""Loaders on real files: every kind of document, and every kind of bad input skipped with a reason."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pdfgen import make_pdf
from qa.documents import discover, load
from qa.errors import DocumentError, UserInputError

SHARED_PDFS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdfs"


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


def test_pdf_with_empty_user_password_is_read(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "open.pdf", ["Readable despite encryption."], encrypt_password="")
    assert "Readable despite encryption." in load(pdf).pages[0].text


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
    out, err = capfd.readouterr()
    assert "fontTools" not in out + err and "fontTools" not in caplog.text
    assert len((out + err).splitlines()) < 5
