"""The printable paper sign-in sheet of a session (the fallback when QR codes and kiosks are
not working): A4, the session's reference at the top, and a column per field of the CSV import
(`POST /imports`), so what is written on it is typed up line by line, column by column.

A concern of its own beside the service's layers: a PDF renderer (reportlab), given the facts
of one session and knowing nothing of HTTP or the database; the route is in `api/sheets.py`."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_VERA = Path(reportlab.__file__).parent / "fonts"
#: the columns of the sheet: the import's fields, in the import's words, and a signature
COLUMNS = (
    ("name", "Name"),
    ("student_number", "Student number"),
    ("signed_in_at", "Time (HH:MM)"),
    ("role", "Role (blank = student)"),
    ("signature", "Signature"),
)
ROWS_PER_PAGE = 25
MAX_PAGES = 8


@dataclass(frozen=True)
class SheetFacts:
    reference: str
    session_id: str
    scheme_title: str
    room: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    tz: tzinfo


@cache
def _fonts() -> tuple[str, str]:
    regular, bold = _VERA / "Vera.ttf", _VERA / "VeraBd.ttf"
    if regular.is_file() and bold.is_file():
        pdfmetrics.registerFont(TTFont("SheetRegular", str(regular)))
        pdfmetrics.registerFont(TTFont("SheetBold", str(bold)))
        return "SheetRegular", "SheetBold"
    return "Helvetica", "Helvetica-Bold"  # pragma: no cover - reportlab ships Vera


def rows_for(capacity: int) -> int:
    """Enough lines for the room's capacity, in whole pages (one to `MAX_PAGES`)."""
    pages = min(MAX_PAGES, max(1, -(-capacity // ROWS_PER_PAGE)))
    return pages * ROWS_PER_PAGE


def sign_in_sheet_pdf(facts: SheetFacts) -> bytes:
    regular, bold = _fonts()
    out = io.BytesIO()
    starts = facts.starts_at.astimezone(facts.tz)
    ends = facts.ends_at.astimezone(facts.tz)
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Sign-in sheet {facts.reference}",
        author="passhub",
    )
    heading = ParagraphStyle("heading", fontName=bold, fontSize=15, leading=19)
    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=12.5)
    story = [
        Paragraph(f"PASS sign-in sheet: {_escape(facts.scheme_title)}", heading),
        Spacer(1, 2 * mm),
        Paragraph(
            f"<b>Session reference: {_escape(facts.reference)}</b> &nbsp; "
            f"{starts:%A %d %B %Y, %H:%M} to {ends:%H:%M}, room {_escape(facts.room)}",
            body,
        ),
        Paragraph(
            "Write one person per line. A leader writes <i>leader</i> under Role. "
            "To type it up: one CSV line per row with the columns "
            f"session ({_escape(facts.reference)}), student_number, signed_in_at, role, "
            f"room ({_escape(facts.room)}), name; then import it in the console.",
            body,
        ),
        Spacer(1, 3 * mm),
    ]
    data = [[label for _, label in COLUMNS]]
    data += [["" for _ in COLUMNS] for _ in range(rows_for(facts.capacity))]
    table = Table(
        data,
        colWidths=[52 * mm, 34 * mm, 24 * mm, 30 * mm, 46 * mm],
        rowHeights=[8 * mm] + [8.6 * mm] * (len(data) - 1),
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), bold, 9),
                ("FONT", (0, 1), (-1, -1), regular, 9),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#555555")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(table)

    def footer(canvas: Canvas, document: object) -> None:
        canvas.setFont(regular, 8)
        canvas.drawString(
            12 * mm,
            7 * mm,
            f"{facts.reference}  ·  session {facts.session_id}  ·  page {canvas.getPageNumber()}",
        )

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
