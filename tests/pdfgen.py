"""A tiny PDF writer for tests: real PDFs with a text layer, one page per string."""

from __future__ import annotations

from pathlib import Path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(path: Path, pages: list[str], encrypt_password: str | None = None,
             text_layer: bool = True, algorithm: str = "AES-128") -> Path:
    """Write `pages` (lines split on newlines) as a Helvetica PDF in WinAnsi (Windows-1252) encoding;
    optionally encrypt it with pypdf (`algorithm`: RC4-40, RC4-128, AES-128, AES-256)."""
    objects: list[bytes] = []
    kids = []
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    for i, text in enumerate(pages):
        page_id, content_id = 3 + 2 * i, 4 + 2 * i
        kids.append(f"{page_id} 0 R")
        if text_layer:
            lines = ["BT /F1 11 Tf 72 720 Td 14 TL"]
            lines += [f"({_escape(line)}) Tj T*" for line in text.split("\n")]
            lines.append("ET")
            stream = "\n".join(lines).encode("cp1252", errors="replace")
        else:
            stream = b"0 0 1 rg 72 600 200 100 re f"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    header = [b"<< /Type /Catalog /Pages 2 0 R >>",
              f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {n_pages} >>".encode()]
    font = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    body = header + objects + font
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(body, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(body) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(body) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path = Path(path)
    path.write_bytes(bytes(out))
    if encrypt_password is not None:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(str(path)))
        writer.encrypt(user_password=encrypt_password, owner_password="owner", algorithm=algorithm)
        with open(path, "wb") as handle:
            writer.write(handle)
    return path
