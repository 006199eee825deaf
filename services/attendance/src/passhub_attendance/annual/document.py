"""The annual report as a PDF: A4, reportlab's platypus (the library recognition draws its
certificates with), the commentary first, then each section's table and chart (PNG images from
`charts`). Text is set in an embedded TrueType font (DejaVu Sans when the system has it, else
the Bitstream Vera that ships with reportlab) so any scheme title prints as written, and stays
text: a reader can search and copy it, and the tests read it back.

`invariant` keeps the file's dates and identifiers fixed, so the same report gives the same
bytes; the generation time is printed on the first page, from the report.
"""

from __future__ import annotations

import io
import os
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from passhub_attendance.annual.commentary import num, pct, pct100, signed
from passhub_attendance.annual.report import MODE_NAMES

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_VERA = Path(reportlab.__file__).parent / "fonts"
INK = colors.HexColor("#1f2a44")
RULE = colors.HexColor("#c8ccd4")
SHADE = colors.HexColor("#eef1f6")
WIDTH = A4[0] - 36 * mm
#: what an empty or suppressed cell shows (an en dash)
DASH = "\u2013"


@cache
def _fonts() -> tuple[str, str]:
    for regular, bold in (
        (_DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"),
        (_VERA / "Vera.ttf", _VERA / "VeraBd.ttf"),
    ):
        if os.path.isfile(regular) and os.path.isfile(bold):
            pdfmetrics.registerFont(TTFont("AnnualRegular", str(regular)))
            pdfmetrics.registerFont(TTFont("AnnualBold", str(bold)))
            return "AnnualRegular", "AnnualBold"
    return "Helvetica", "Helvetica-Bold"  # pragma: no cover - reportlab ships Vera


@cache
def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=13, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5),
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=20, leading=25),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=12, leading=16),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=bold,
            fontSize=13,
            leading=17,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "bullet": ParagraphStyle("bullet", parent=base, leftIndent=10, bulletIndent=0),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "head": ParagraphStyle("head", parent=base, fontName=bold, fontSize=8, leading=10),
    }


def _p(text: str, style: str = "body") -> Paragraph:
    return Paragraph(escape(text), _styles()[style])


def _cell(value: Any) -> str:
    if value is None:
        return DASH
    if isinstance(value, int):
        return num(value)
    return str(value)


#: text longer than this is set as a paragraph (wrapped); shorter, as a plain cell (a table of
#: a thousand figures draws in a fraction of the time)
_WRAP = 28


def _table(header: list[str], rows: list[list[Any]], widths: list[float] | None = None) -> Table:
    s = _styles()
    regular, _ = _fonts()

    def cell(v: Any) -> Any:
        text = _cell(v)
        return Paragraph(escape(text), s["cell"]) if len(text) > _WRAP else text

    data = [[Paragraph(escape(h), s["head"]) for h in header]]
    data += [[cell(v) for v in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 1), (-1, -1), regular, 8, 10),
                ("TEXTCOLOR", (0, 1), (-1, -1), INK),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _image(png: bytes | None) -> list[Flowable]:
    if png is None:
        return []
    image = Image(io.BytesIO(png))
    scale = min(1.0, WIDTH / image.imageWidth)
    image.drawWidth = image.imageWidth * scale
    image.drawHeight = image.imageHeight * scale
    image.hAlign = "LEFT"
    return [Spacer(1, 4), image]


def _rate(value: float | None) -> str | None:
    return None if value is None else pct(value)


def _percent(value: float | None) -> str | None:
    return None if value is None else pct100(value)


def _diff(value: float | None, low: float | None = None, high: float | None = None) -> str | None:
    if value is None:
        return None
    text = signed(value)
    if low is not None and high is not None:
        text += f" ({signed(low)} to {signed(high)})"
    return text


def _sections(r: dict[str, Any], charts: dict[str, bytes]) -> list[Flowable]:
    s = _styles()
    out: list[Flowable] = []
    scheme = r["scheme"]
    scope = (
        f"{scheme['title']} ({scheme['code']}, "
        f"{MODE_NAMES.get(scheme['mode'] or '', 'mode not stated')})"
        if scheme
        else f"All schemes, {r['institution']}"
    )
    out += [
        _p(f"PASS annual report {r['academic_year']}", "title"),
        _p(scope, "subtitle"),
        _p(
            f"Generated {r['generated_at'].replace('T', ' ')} for a {r['audience']}. Every figure "
            f"counts students; groups of fewer than {r['settings']['min_group_size']} are not "
            "shown.",
            "small",
        ),
        Spacer(1, 6),
        _p("Headlines", "h2"),
    ]
    out += [Paragraph(escape(t), s["bullet"], bulletText="•") for t in r["commentary"]]

    p = r["participants"]
    out += [
        _p("Participants", "h2"),
        _table(
            [
                "unique this year",
                "new this year",
                f"cumulative since {p['first_year'] or DASH}",
                f"regular ({p['regular_min']}+ sessions)",
            ],
            [[p["unique"], p["new_this_year"], p["cumulative"], p["regular"]]],
        ),
        *_image(charts.get("participants")),
    ]

    ss = r["sessions"]
    out += [
        _p("Sessions and attendance", "h2"),
        _table(
            [
                "scheduled",
                "run",
                "cancelled",
                "to come",
                "attendances",
                "mean per session",
                "median",
                "most",
            ],
            [
                [
                    ss["scheduled"],
                    ss["run"],
                    ss["cancelled"],
                    ss["upcoming"],
                    ss["attendances"],
                    None if ss["mean_per_session"] is None else f"{ss['mean_per_session']:.1f}",
                    None if ss["median_per_session"] is None else f"{ss['median_per_session']:g}",
                    ss["max_per_session"],
                ]
            ],
        ),
        *_image(charts.get("weekly")),
    ]
    if scheme:
        out += [
            Spacer(1, 4),
            _table(
                ["session", "week", "status", "attendance"],
                [
                    [
                        x["starts_at"][:16].replace("T", " ")
                        if x["starts_at"]
                        else x["session_id"],
                        x["week"],
                        x["status"],
                        x["attendance"],
                    ]
                    for x in ss["per_session"]
                ],
                [50 * mm, 40 * mm, 30 * mm, 30 * mm],
            ),
        ]
    else:
        out += [
            Spacer(1, 4),
            _table(
                ["scheme", "title", "mode", "participants", "regular", "attendances"],
                [
                    [
                        x["code"],
                        x["title"],
                        MODE_NAMES.get(x["mode"] or "", DASH),
                        x["participants"],
                        x["regular"],
                        x["attendances"],
                    ]
                    for x in r["schemes"]
                ],
                [20 * mm, 52 * mm, 34 * mm, 24 * mm, 18 * mm, 26 * mm],
            ),
        ]

    sv = r["survey"]
    out += [
        _p("Survey", "h2"),
        _p(f"{num(sv['responses'])} feedback sheets returned.", "small"),
        _table(
            ["statement", "responses", "agreeing", "% agreeing"],
            [
                [i["statement"], i["responses"], i["agree"], _percent(i["percent_agree"])]
                for i in sv["items"]
            ],
            [90 * mm, 25 * mm, 25 * mm, 30 * mm],
        ),
        *_image(charts.get("survey")),
    ]

    if r["outcomes"]:
        out += [
            _p("Participation and outcomes", "h2"),
            _p(
                "Regular participants against students who never came: the raw difference, and "
                "the difference among students who started level in prior attainment (95% "
                "interval). Observational estimates, not experiments: students chose to attend.",
                "small",
            ),
            _table(
                [
                    "module",
                    "enrolled",
                    "participants",
                    "rate",
                    "raw difference",
                    "adjusted for prior",
                    "status",
                ],
                [
                    [
                        o["module"] if o["scope"] == "module" else "all modules",
                        o["enrolled"],
                        o["participants"],
                        _rate(o["participation_rate"]),
                        _diff(o["raw_difference"]),
                        _diff(
                            o["adjusted_difference"], o["adjusted_ci_low"], o["adjusted_ci_high"]
                        ),
                        o["adjusted_status"] or DASH,
                    ]
                    for o in r["outcomes"]
                ],
                [22 * mm, 18 * mm, 24 * mm, 16 * mm, 22 * mm, 44 * mm, 28 * mm],
            ),
        ]

    lf = r["leaders"]
    out += [
        _p("Leaders", "h2"),
        _table(
            [
                "appointed",
                "trained",
                "stood down",
                "leading sessions",
                "sessions delivered",
                "organisers",
            ],
            [
                [
                    lf["appointed"],
                    lf["trained"],
                    lf["stood_down"],
                    lf["delivering_sessions"],
                    lf["sessions_delivered"],
                    lf["organisers"],
                ]
            ],
        ),
    ]
    if lf["awards"]:
        out += [
            Spacer(1, 4),
            _table(
                ["award", "granted", "withheld", "withdrawn"],
                [
                    [kind, v["granted"], v["withheld"], v["withdrawn"]]
                    for kind, v in sorted(lf["awards"].items())
                ],
                [40 * mm, 30 * mm, 30 * mm, 30 * mm],
            ),
        ]

    md = r["modes"]
    if md["by_year"]:
        out += [
            _p("Opt-in and opt-out schemes", "h2"),
            _table(
                [
                    "year",
                    "mode",
                    "schemes",
                    "enrolled",
                    "participants",
                    "participation",
                    "attendances per enrolled student",
                ],
                [
                    [
                        m["academic_year"],
                        MODE_NAMES[m["mode"]],
                        m["schemes"],
                        m["enrolled"],
                        m["participants"],
                        _rate(m["participation_rate"]),
                        None
                        if m["attendances_per_enrolled"] is None
                        else f"{m['attendances_per_enrolled']:.2f}",
                    ]
                    for m in md["by_year"]
                ],
            ),
            *_image(charts.get("modes")),
            _p(md["note"], "small"),
        ]

    g = r["graduate_outcomes"]
    if g is not None:
        rows = []
        for key, name in (
            ("leaders", "PASS leaders"),
            ("non_leaders", "other graduates"),
            ("cohort", "all graduates"),
        ):
            v = g[key]
            ci = None if v["ci_low"] is None else f"{pct(v['ci_low'])} to {pct(v['ci_high'])}"
            rows.append([name, v["n"], v["positive"], _rate(v["rate"]), ci])
        out += [
            _p(f"Leaders' graduate outcomes ({g['academic_year']} graduates)", "h2"),
            _table(["group", "graduates", g["positive_label"], "rate", "95% interval"], rows),
        ]
        d = g["leaders_minus_non_leaders"]
        if d is not None:
            out.append(
                _p(
                    f"Leaders minus other graduates: {signed(100 * d['difference'])} percentage "
                    f"points (95% interval {signed(100 * d['ci_low'])} to "
                    f"{signed(100 * d['ci_high'])}).",
                    "small",
                )
            )
        out += [*_image(charts.get("graduates")), _p(g["note"], "small")]

    trend = r["trend"]
    if trend:
        metrics = [
            ("participants", "participants", _cell),
            ("new_participants", "new participants", _cell),
            ("cumulative_participants", "cumulative", _cell),
            ("regular_participants", "regular participants", _cell),
            ("participation_rate", "participation (of enrolled)", _rate),
            ("sessions_run", "sessions run", _cell),
            ("sessions_cancelled", "sessions cancelled", _cell),
            (
                "mean_attendance_per_session",
                "mean per session",
                lambda v: None if v is None else f"{v:.1f}",
            ),
            ("understanding_percent_agree", "% improved understanding", _percent),
            ("enjoyable_percent_agree", "% enjoyable", _percent),
            ("recommend_percent_agree", "% would recommend", _percent),
            ("leaders_appointed", "leaders appointed", _cell),
            ("leaders_awarded", "leaders awarded", _cell),
            ("leaders_positive_rate", "leaders' positive outcomes", _rate),
            ("cohort_positive_rate", "all graduates' positive outcomes", _rate),
        ]
        shown = trend[-6:]
        first = 52 * mm
        out += [
            _p("Year on year", "h2"),
            _table(
                ["", *[t["academic_year"] for t in shown]],
                [[label, *[fmt(t[key]) for t in shown]] for key, label, fmt in metrics],
                [first, *[(WIDTH - first) / len(shown)] * len(shown)],
            ),
        ]

    comments = r.get("comments")
    if comments:
        listed = comments[:40]
        out += [
            _p("Comments (coordinators only)", "h2"),
            _p(f"{len(listed)} of {len(comments)} comments, as written.", "small"),
            *[Paragraph(escape(c["comment"]), s["bullet"], bulletText=DASH) for c in listed],
        ]
    return out


def _footer(canvas: Any, doc: Any) -> None:
    regular, _ = _fonts()
    canvas.saveState()
    canvas.setFont(regular, 7.5)
    canvas.setFillColor(INK)
    canvas.drawString(18 * mm, 10 * mm, doc.title)
    canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {doc.page}")
    canvas.restoreState()


def annual_pdf(report: dict[str, Any], charts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    scheme = report["scheme"]
    title = f"PASS annual report {report['academic_year']}" + (
        f", {scheme['code']}" if scheme else ""
    )
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=report["institution"],
        subject="PASS annual report",
        creator="passhub",
        invariant=1,
    )
    doc.build(_sections(report, charts), onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
