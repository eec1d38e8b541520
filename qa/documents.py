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
    """Read one file; raises DocumentError with a one-line reason when it cannot be indexed."""
    path = Path(path)
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise DocumentError(f"unsupported file type {path.suffix or '(none)'}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror or exc}") from exc
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
        if not text.strip():
            raise DocumentError("empty file" if kind != "html" else "no visible text")
        pages = (Page(1, text),)
    return Document(path=str(path.resolve()), name=name or path.name, kind=kind,
                    sha256=file_sha256(path), pages=pages)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 if it looks like text."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError("damaged UTF-16 text") from exc
    sample = data[:65536]
    if b"\x00" in sample:
        raise DocumentError("binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.01 * min(len(text), 65536) + 2:
        raise DocumentError("binary file, not text")
    return text


def clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return re.sub(r"[ \t\f\v]+\n", "\n", text)


class _Visible(HTMLParser):
    """Collects the text a browser would show: no scripts, styles or comments."""

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

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    body = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in unescape(body).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    title = " ".join("".join(parser.title).split())
    if title and not text.startswith(title):
        text = f"{title}\n\n{text}"
    return text


def read_pdf(path: Path) -> tuple[Page, ...]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                reader = PdfReader(str(path), strict=False)
                if reader.is_encrypted:
                    try:
                        if not reader.decrypt(""):
                            raise DocumentError("encrypted PDF (password required)")
                    except (FileNotDecryptedError, NotImplementedError) as exc:
                        raise DocumentError("encrypted PDF (password required)") from exc
                pages = []
                for number, page in enumerate(reader.pages, 1):
                    try:
                        text = page.extract_text() or ""
                    except Exception:  # one bad page must not lose the others
                        text = ""
                    text = clean(text)
                    if text.strip():
                        pages.append(Page(number, text))
            except DocumentError:
                raise
            except FileNotDecryptedError as exc:
                raise DocumentError("encrypted PDF (password required)") from exc
            except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError,
                    RecursionError, AssertionError) as exc:
                raise DocumentError(f"damaged PDF: {str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}") from exc
    finally:
        logger.setLevel(level)
    if not pages:
        raise DocumentError("no text layer (scanned PDF?); OCR it first")
    return tuple(pages)
