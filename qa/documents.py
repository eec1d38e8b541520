"""Read files into `Document`s; a file that cannot be read raises `DocumentError` with a short reason."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import warnings
from collections.abc import Iterable
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

from .errors import DocumentError, UserInputError
from .models import Document, Page, Skipped
from .text import normalize

SUPPORTED = {".pdf": "pdf", ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md",
             ".html": "html", ".htm": "html"}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[tuple[Path, str]], list[Skipped]]:
    """Files to index (absolute path, display name) and the files skipped for their type."""
    found: dict[Path, str] = {}
    skipped: list[Skipped] = []
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise UserInputError(f"No such file or folder: {given}")
        if path.is_dir():
            base = path.resolve()
            for file in sorted(base.rglob("*")):
                rel = file.relative_to(base)
                if any(part.startswith(".") for part in rel.parts) or not file.is_file():
                    continue
                name = f"{base.name}/{rel.as_posix()}"
                if file.suffix.lower() in SUPPORTED:
                    found.setdefault(file.resolve(), name)
                else:
                    skipped.append(Skipped(name, f"unsupported file type {file.suffix or '(none)'}"))
        elif path.suffix.lower() in SUPPORTED:
            found.setdefault(path.resolve(), path.name)
        else:
            skipped.append(Skipped(path.name, f"unsupported file type {path.suffix or '(none)'}"))
    return list(found.items()), skipped


def load(path: Path, name: str | None = None, *, max_bytes: int = 20 * 1024 * 1024) -> Document:
    """Read one file; raises DocumentError with a one-line reason when it cannot be indexed.

    This is the loader boundary: whatever a parser raises on a strange file becomes a DocumentError
    naming the cause, so one file never stops a build."""
    path = Path(path)
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise DocumentError(f"unsupported file type {path.suffix or '(none)'}")
    try:
        return _load(path, kind, name, max_bytes)
    except DocumentError:
        raise
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror or exc}") from exc
    except RecursionError as exc:
        raise DocumentError(f"damaged {kind.upper()}: objects nested too deeply or in a loop") from exc
    except Exception as exc:  # the boundary: any parser failure is this one file's problem
        raise DocumentError(f"damaged {kind.upper()}: {describe(exc)}") from exc


def describe(exc: BaseException) -> str:
    """One line naming an exception: its message, with its type when the message alone is unclear."""
    message = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    if type(exc).__module__.startswith("pypdf") and message:
        return message
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _load(path: Path, kind: str, name: str | None, max_bytes: int) -> Document:
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(f"file too large ({size / 2**20:.1f} MB > {max_bytes / 2**20:g} MB limit; "
                            "raise it with QA_MAX_FILE_MB)")
    if size == 0:
        raise DocumentError("empty file")
    if kind == "pdf":
        pages = read_pdf(path)
    else:
        text = decode(path.read_bytes())
        if kind == "html":
            text = html_to_text(text)
        text = clean(text)
        headings: tuple[tuple[int, int], ...] = ()
        if kind == "html":
            text, headings = take_marks(text)
        elif kind == "md":
            headings = markdown_headings(text)
        if not text.strip():
            raise DocumentError("empty file" if kind != "html" else "no visible text")
        pages = (Page(1, text, headings),)
    return Document(path=str(path.resolve()), name=name or path.name, kind=kind,
                    sha256=file_sha256(path), pages=pages)


# Legacy code pages people's files are really in, most likely first (ties go to the earlier one).
# Rarer Latin pages (Baltic, Turkish, ISO-8859-4/10...) are left out: on short Western text they
# score as well as the right one and would win by accident.
ENCODINGS = ("cp1252", "iso8859_2", "cp1250", "cp1251", "koi8_r", "cp1253", "iso8859_7", "cp1255",
             "cp1256", "gb18030", "big5", "cp932", "euc_jp", "euc_kr")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else the legacy code page charset-normalizer
    finds most plausible (GBK, Shift-JIS, Latin-2, Windows-1252...); binary data is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError("damaged UTF-16 text") from exc
    if b"\x00" in data[:65536]:
        raise DocumentError("binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode(_legacy_encoding(data), errors="replace")
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.01 * min(len(text), 65536) + 2:
        raise DocumentError("binary file, not text")
    return text


def _legacy_encoding(data: bytes) -> str:
    from charset_normalizer import from_bytes

    results = list(from_bytes(data, cp_isolation=list(ENCODINGS)))
    if not results:
        raise DocumentError("binary file, not text (or an unknown encoding: save it as UTF-8)")
    best = min(results, key=lambda m: (m.chaos, -m.coherence, ENCODINGS.index(m.encoding)))
    if best.encoding == "cp1250" and not any(0x80 <= byte <= 0x9F for byte in data):
        return "iso8859_2"  # Windows-1250 puts š, ž, ś, ź at 0x8A-0x9F: without them it is Latin-2
    return best.encoding


def clean(text: str) -> str:
    """The page text that is stored and quoted: Unix line ends, no NULs or trailing blanks, and
    `normalize`d letters (ligatures spelt out), so offsets into it stay exact."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return re.sub(r"[ \t\f\v]+\n", "\n", normalize(text))


# A Markdown ATX heading ('# Title', up to three spaces in) or a setext one (one line underlined
# with === or ---); fenced code is skipped so a '# comment' in it is not a heading.
ATX = re.compile(r"^ {0,3}#{1,6}(?:[ \t][^\n]*)?$", re.MULTILINE)
SETEXT = re.compile(r"(?:\A|(?<=\n\n)) {0,3}\S[^\n]*\n {0,3}(?:=+|-+)[ \t]*$", re.MULTILINE)
FENCE = re.compile(r"^ {0,3}(```|~~~)[^\n]*\n.*?(?:^ {0,3}\1[^\n]*$|\Z)", re.MULTILINE | re.DOTALL)


def markdown_headings(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of the heading lines of a Markdown text (without surrounding blanks)."""
    fences = [m.span() for m in FENCE.finditer(text)]
    spans = set()
    for pattern in (ATX, SETEXT):
        for match in pattern.finditer(text):
            a, b = match.span()
            if any(x <= a < y for x, y in fences):
                continue
            segment = text[a:b]
            a += len(segment) - len(segment.lstrip())
            spans.add((a, a + len(segment.strip())))
    return tuple(sorted(spans))


class _Visible(HTMLParser):
    """Collects the text a browser would show: no scripts, styles or comments."""

    HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
    HIDDEN = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
    BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td",
              "th", "table", "section", "article", "header", "footer", "blockquote", "pre", "hr",
              "dd", "dt", "figcaption", "main", "nav", "aside", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.title: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "title":
            self.in_title = True
        elif tag in self.HIDDEN:
            self.hidden += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag in self.HEADINGS:
            self.parts.append(OPEN)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        if tag in self.HEADINGS:
            self.parts.append(CLOSE)
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        data = data.replace(OPEN, "").replace(CLOSE, "")
        if self.in_title:
            self.title.append(data)
        elif not self.hidden:
            self.parts.append(data)


OPEN, CLOSE = "\ue000", "\ue001"  # private-use marks around headings until `take_marks`


def html_to_text(html: str) -> str:
    """The visible text, one block per line; headings (and the title) sit between OPEN and CLOSE."""
    parser = _Visible()
    parser.feed(html)
    parser.close()
    body = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in unescape(body).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    text = re.sub(OPEN + r"\s*", OPEN, re.sub(r"\s*" + CLOSE, CLOSE, text))
    title = " ".join("".join(parser.title).split())
    if title and not text.replace(OPEN, "").startswith(title):
        text = f"{OPEN}{title}{CLOSE}\n\n{text}"
    return text


def take_marks(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Remove the heading marks; returns the text and the spans they enclosed in it."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    length, depth, start = 0, 0, 0
    for piece in re.split(f"([{OPEN}{CLOSE}])", text):
        if piece == OPEN:
            depth += 1
            if depth == 1:
                start = length
        elif piece == CLOSE:
            if depth == 1 and length > start:
                spans.append((start, length))
            depth = max(0, depth - 1)
        else:
            out.append(piece)
            length += len(piece)
    return "".join(out), tuple(spans)


def read_pdf(path: Path) -> tuple[Page, ...]:
    """Pages with text; a page that fails is skipped, and if every page failed the reason says why."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                reader = PdfReader(str(path), strict=False)
                if reader.is_encrypted and not reader.decrypt(""):
                    raise DocumentError("encrypted PDF (password required)")
                page_list = list(reader.pages)
            except (DependencyError, NotImplementedError) as exc:  # e.g. AES without `cryptography`
                raise DocumentError(f"cannot decrypt PDF: {describe(exc)}") from exc
            except FileNotDecryptedError as exc:
                raise DocumentError("encrypted PDF (password required)") from exc
            pages, failures = [], []
            for number, page in enumerate(page_list, 1):
                try:
                    text = clean(page.extract_text() or "")
                except Exception as exc:  # one bad page must not lose the others
                    failures.append(f"page {number}: {describe(exc)}")
                    continue
                if text.strip():
                    pages.append(Page(number, text))
    finally:
        logger.setLevel(level)
    if not pages and failures:
        raise DocumentError(f"damaged PDF: {failures[0]}")
    if not pages:
        raise DocumentError("no text layer (scanned PDF?); OCR it first")
    return tuple(pages)
