"""Certificate PDFs: one A4 landscape page per award, drawn with reportlab, with a QR code
(segno) that opens the public verification page.

Text is set in an embedded TrueType font so any name prints as written (DejaVu Sans when the
system has it, else the Bitstream Vera that ships with reportlab, or the configured fonts).

A concern of its own beside the service's layers: it draws a page from an award's figures and
reads fonts from disk, so it is neither a pure rule (`domain/`) nor a use case; the routes call
it on a worker thread.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import reportlab
import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from passhub_recognition.domain.requirements import hours_text
from passhub_recognition.domain.wording import join_names

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_VERA = Path(reportlab.__file__).parent / "fonts"
INK = colors.HexColor("#1f2a44")
ACCENT = colors.HexColor("#8a6d1d")


@dataclass(frozen=True)
class Certificate:
    """What a certificate shows, and nothing more."""

    name: str
    role: str
    kind_title: str
    schemes: Sequence[str]
    academic_year: str
    sessions_delivered: int
    hours: float
    verification_code: str
    verify_url: str
    institution: str
    verifying_body: str
    issued_on: date


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str


@cache
def register_fonts(regular_path: str = "", bold_path: str = "") -> Fonts:
    """Register the certificate fonts once per process."""
    candidates = [
        (regular_path, bold_path or regular_path),
        (str(_DEJAVU / "DejaVuSans.ttf"), str(_DEJAVU / "DejaVuSans-Bold.ttf")),
        (str(_VERA / "Vera.ttf"), str(_VERA / "VeraBd.ttf")),
    ]
    for regular, bold in candidates:
        if regular and os.path.isfile(regular) and os.path.isfile(bold):
            pdfmetrics.registerFont(TTFont("CertRegular", regular))
            pdfmetrics.registerFont(TTFont("CertBold", bold))
            return Fonts("CertRegular", "CertBold")
    return Fonts("Helvetica", "Helvetica-Bold")  # pragma: no cover - reportlab ships Vera


def _centred(canvas: Canvas, text: str, top: float, font: str, size: float, width: float) -> float:
    """Draw `text` centred below `top`, wrapped to `width`; returns the y under it."""
    lines = simpleSplit(text, font, size, width) or [""]
    canvas.setFont(font, size)
    y = top
    for line in lines:
        y -= size
        canvas.drawCentredString(A4[1] / 2, y, line)
        y -= size * 0.35
    return y


def _qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code as vector squares: one path, a rectangle per dark run of a row, drawn in
    module units (whole numbers keep the page small and quick to write)."""
    qr = segno.make(url, error="m", boost_error=False)
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=0)]
    canvas.saveState()
    canvas.translate(x, y + size)
    canvas.scale(size / len(rows), -size / len(rows))
    canvas.setFillColor(colors.black)
    path = canvas.beginPath()
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(start, r, c - start, 1)
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def _page(canvas: Canvas, cert: Certificate, fonts: Fonts) -> None:
    width, height = landscape(A4)
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(3)
    canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    canvas.setLineWidth(0.8)
    canvas.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)
    text_width = width - 70 * mm

    canvas.setFillColor(INK)
    y = height - 32 * mm
    y = _centred(canvas, cert.institution, y, fonts.regular, 16, text_width)
    y = _centred(canvas, "Peer Assisted Study Sessions", y, fonts.regular, 12, text_width)
    canvas.setFillColor(ACCENT)
    y = _centred(canvas, cert.kind_title, y - 6 * mm, fonts.bold, 30, text_width)
    canvas.setFillColor(INK)
    y = _centred(canvas, "This is to certify that", y - 6 * mm, fonts.regular, 13, text_width)
    y = _centred(canvas, cert.name, y - 3 * mm, fonts.bold, 26, text_width)
    y -= 4 * mm
    schemes = join_names(list(cert.schemes)) or "the PASS scheme"
    sessions = "session" if cert.sessions_delivered == 1 else "sessions"
    delivered = f"delivering {cert.sessions_delivered} {sessions}"
    if cert.hours:
        delivered += f" ({hours_text(cert.hours)} hours)"
    for line in (
        f"served as {cert.role}",
        f"for {schemes}",
        f"in the academic year {cert.academic_year},",
        delivered + ".",
    ):
        y = _centred(canvas, line, y, fonts.regular, 14, text_width)

    # foot: issue details on the left, QR code and verification on the right
    canvas.setFont(fonts.regular, 10)
    canvas.drawString(26 * mm, 34 * mm, f"Issued on {cert.issued_on.isoformat()}")
    canvas.drawString(26 * mm, 28 * mm, f"Verified by {cert.verifying_body}")
    qr_size = 30 * mm
    qr_x = width - 26 * mm - qr_size
    _qr(canvas, cert.verify_url, qr_x, 26 * mm, qr_size)
    canvas.setFont(fonts.regular, 9)
    canvas.drawRightString(qr_x - 4 * mm, 44 * mm, f"Verification code: {cert.verification_code}")
    canvas.drawRightString(qr_x - 4 * mm, 38 * mm, f"Verify at {cert.verify_url}")


def render(
    certificates: Sequence[Certificate],
    fonts: Fonts,
    title: str = "Certificates",
    on_page: Callable[[int], None] | None = None,
) -> bytes:
    """One PDF with a page per certificate; `on_page(n)` is told each time n pages are
    drawn."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=landscape(A4), pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(certificates[0].verifying_body if certificates else "")
    canvas.setSubject("Peer Assisted Study Sessions recognition")
    for drawn, cert in enumerate(certificates, start=1):
        _page(canvas, cert, fonts)
        canvas.showPage()
        if on_page is not None:
            on_page(drawn)
    canvas.save()
    return buffer.getvalue()
