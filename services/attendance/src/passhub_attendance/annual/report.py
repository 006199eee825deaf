"""Building the annual report from its facts: pure (no I/O), so every figure can be checked
against counts worked out by hand.

The report is a plain JSON-able dict, in a fixed order of keys, so that the same facts always
give the same bytes (a replay of the log gives back the same report). Every figure is an
aggregate; a group of fewer than `min_group_size` people shows no rate and no count that could
single anyone out (`"suppressed": true`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from passhub_attendance.annual.commentary import commentary
from passhub_attendance.annual.facts import (
    GraduateCount,
    ModeRow,
    SessionFacts,
    YearFacts,
    YearHeadline,
)
from passhub_attendance.annual.proportions import newcombe, wilson
from passhub_attendance.annual.settings import AnnualSettings
from passhub_attendance.evaluation.report import TrendRow
from passhub_attendance.evaluation.settings import EvaluationSettings

Audience = Literal["coordinator", "organiser", "academic"]

ITEMS = ("understanding", "enjoyable", "recommend")
STATEMENTS = {
    "understanding": "attending improved my understanding of the subject",
    "enjoyable": "the sessions were enjoyable",
    "recommend": "I would recommend the sessions to other students",
}
MODES = ("opt_in", "opt_out")
MODE_NAMES = {"opt_in": "opt-in", "opt_out": "opt-out (timetabled)"}


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def small(count: int, min_size: int) -> int | None:
    """A count of people, or None when it is 1 to `min_size` - 1 (0 says nobody, safely)."""
    return count if count == 0 or count >= min_size else None


def week_of(session: SessionFacts, tz: tzinfo) -> tuple[str, str]:
    """(sort key, label): the teaching week (`S1W3`) when the session has one, else the week
    commencing Monday of its local date."""
    if session.starts_at is None:
        return ("~", "unscheduled")
    local = session.starts_at.astimezone(tz).date()
    monday = local - timedelta(days=local.weekday())
    label = session.teaching_week or f"w/c {monday.isoformat()}"
    return (monday.isoformat() + label, label)


def _sessions(facts: YearFacts, tz: tzinfo) -> dict[str, Any]:
    now = facts.now
    ran = [
        s
        for s in facts.sessions
        if not s.cancelled and s.starts_at is not None and s.starts_at <= now
    ]
    ran_ids = {s.session_id for s in ran}
    upcoming = [s for s in facts.sessions if not s.cancelled and s.session_id not in ran_ids]
    counts = [s.attendance for s in ran]
    weeks: dict[tuple[str, str], list[SessionFacts]] = defaultdict(list)
    for s in ran:
        weeks[week_of(s, tz)].append(s)
    return {
        "scheduled": len(facts.sessions),
        "run": len(ran),
        "cancelled": sum(1 for s in facts.sessions if s.cancelled),
        "upcoming": len(upcoming),
        "attendances": sum(counts),
        "mean_per_session": round(statistics.fmean(counts), 6) if counts else None,
        "median_per_session": statistics.median(counts) if counts else None,
        "max_per_session": max(counts) if counts else None,
        "with_leader": sum(1 for s in ran if s.leaders),
        "per_week": [
            {
                "week": label,
                "sessions": len(group),
                "attendances": sum(s.attendance for s in group),
                "mean_per_session": round(statistics.fmean(s.attendance for s in group), 6),
            }
            for (_, label), group in sorted(weeks.items())
        ],
        "per_session": [
            {
                "session_id": s.session_id,
                "scheme_id": s.scheme_id,
                "starts_at": s.starts_at.isoformat() if s.starts_at else None,
                "week": week_of(s, tz)[1],
                "status": "cancelled"
                if s.cancelled
                else ("run" if s.session_id in ran_ids else "upcoming"),
                "attendance": s.attendance,
            }
            for s in facts.sessions
        ],
    }


def _survey(facts: YearFacts, min_size: int) -> dict[str, Any]:
    totals: dict[str, list[int]] = {i: [0, 0] for i in ITEMS}
    for counts in facts.survey.values():
        for key, (agree, n) in counts.items():
            if key in totals:
                totals[key][0] += agree
                totals[key][1] += n
    items = []
    for item in ITEMS:
        agree, n = totals[item]
        shown = n >= min_size
        items.append(
            {
                "item": item,
                "statement": STATEMENTS[item],
                "responses": n,
                "agree": agree if shown else None,
                "percent_agree": round(100 * agree / n, 6) if shown and n else None,
                "suppressed": not shown and n > 0,
            }
        )
    per_scheme = []
    for scheme in facts.schemes:
        counts = facts.survey.get(scheme.scheme_id, {})
        # every sheet answers every item: a scheme's sheets are its responses to the first
        row: dict[str, Any] = {
            "scheme_id": scheme.scheme_id,
            "responses": counts.get(ITEMS[0], (0, 0))[1],
        }
        for item in ITEMS:
            agree, n = counts.get(item, (0, 0))
            row[item] = round(100 * agree / n, 6) if n >= min_size else None
        per_scheme.append(row)
    return {"responses": totals[ITEMS[0]][1], "items": items, "per_scheme": per_scheme}


def _r(value: float | None, places: int = 6) -> float | None:
    """Figures as the report states them: to 6 decimal places (the evaluation sums in the order
    the database hands the rows over, so the last bits of a float may differ after a replay)."""
    return None if value is None else round(value, places)


def _outcome(row: TrendRow) -> dict[str, Any]:
    return {
        "scope": row.scope,
        "module": row.module,
        "title": row.title,
        "measure": row.measure,
        "enrolled": row.enrolled,
        "participants": row.participants,
        "participation_rate": _r(row.participation_rate),
        "raw_difference": _r(row.raw_difference),
        "raw_ci_low": _r(row.raw_ci_low),
        "raw_ci_high": _r(row.raw_ci_high),
        "raw_p_value": _r(row.raw_p_value, 9),
        "adjusted_status": row.adjusted_status,
        "adjusted_note": row.adjusted_note,
        "adjusted_difference": _r(row.adjusted_difference),
        "adjusted_ci_low": _r(row.adjusted_ci_low),
        "adjusted_ci_high": _r(row.adjusted_ci_high),
        "matched_difference": _r(row.matched_difference),
        "raw_pass_rate_difference": _r(row.raw_pass_rate_difference),
        "adjusted_pass_rate_difference": _r(row.adjusted_pass_rate_difference),
    }


def _leaders(facts: YearFacts, min_size: int) -> dict[str, Any]:
    lf = facts.leaders
    awards: dict[str, dict[str, int | None]] = {}
    for a in lf.awards:
        awards.setdefault(a.kind, {"granted": 0, "withheld": 0, "withdrawn": 0})[a.status] = small(
            a.count, min_size
        )
    return {
        "appointed": lf.appointed,
        "organisers": lf.organisers,
        "trained": lf.trained,
        "stood_down": small(lf.stood_down, min_size),
        "delivering_sessions": lf.delivering,
        "sessions_delivered": lf.sessions_delivered,
        "leader_sign_ins": lf.leader_sign_ins,
        "awards": awards,
        "suppressed": any(v is None for k in awards.values() for v in k.values())
        or (lf.stood_down > 0 and small(lf.stood_down, min_size) is None),
    }


def _mode_groups(rows: Sequence[ModeRow], min_size: int) -> list[dict[str, Any]]:
    by: dict[tuple[str, str], list[ModeRow]] = defaultdict(list)
    for r in rows:
        by[(r.academic_year, r.mode)].append(r)
    out = []
    for (year, mode), group in sorted(by.items()):
        enrolled = sum(r.enrolled for r in group)
        participants = sum(r.participants for r in group)
        attendances = sum(r.attendances for r in group)
        shown = enrolled >= min_size
        out.append(
            {
                "academic_year": year,
                "mode": mode,
                "schemes": len(group),
                "enrolled": enrolled,
                "participants": participants if shown else None,
                "participation_rate": rate(participants, enrolled) if shown else None,
                "attendances": attendances,
                "attendances_per_enrolled": rate(attendances, enrolled) if shown else None,
                "suppressed": not shown,
            }
        )
    return out


def _modes(facts: YearFacts, min_size: int) -> dict[str, Any]:
    schemes = [
        {
            "academic_year": r.academic_year,
            "scheme_id": r.scheme_id,
            "mode": r.mode,
            "enrolled": r.enrolled,
            "participants": r.participants,
            "participation_rate": rate(r.participants, r.enrolled),
            "attendances_per_enrolled": rate(r.attendances, r.enrolled),
        }
        for r in facts.modes
        if r.academic_year == facts.academic_year
    ]
    return {
        "by_year": _mode_groups(facts.modes, min_size),
        "schemes": schemes,
        "note": (
            "Schemes differ in more than their mode: subject, year of study, timetable, leaders "
            "and the students they serve. A difference between opt-in and opt-out schemes is a "
            "difference between those schemes, not the effect of the mode alone."
        ),
    }


def _group(successes: int, n: int, min_size: int) -> dict[str, Any]:
    if n < min_size:
        return {
            "n": None,
            "positive": None,
            "rate": None,
            "ci_low": None,
            "ci_high": None,
            "suppressed": n > 0,
        }
    low, high = wilson(successes, n)
    return {
        "n": n,
        "positive": successes,
        "rate": rate(successes, n),
        "ci_low": round(low, 6),
        "ci_high": round(high, 6),
        "suppressed": False,
    }


def graduate_outcomes(
    counts: Sequence[GraduateCount], year: str, annual: AnnualSettings, min_size: int
) -> dict[str, Any] | None:
    rows = [c for c in counts if c.academic_year == year]
    if not rows:
        return None
    positive = set(annual.positive_outcomes)
    tally = {True: [0, 0], False: [0, 0]}
    categories: dict[str, int] = defaultdict(int)
    for c in rows:
        tally[c.leader][1] += c.count
        if c.outcome in positive:
            tally[c.leader][0] += c.count
        categories[c.outcome] += c.count
    (lp, ln), (op, on) = tally[True], tally[False]
    leaders = _group(lp, ln, min_size)
    others = _group(op, on, min_size)
    difference = None
    if not leaders["suppressed"] and not others["suppressed"] and ln and on:
        low, high = newcombe(lp, ln, op, on)
        difference = {
            "difference": round(lp / ln - op / on, 6),
            "ci_low": round(low, 6),
            "ci_high": round(high, 6),
        }
    return {
        "academic_year": year,
        "positive_label": annual.positive_label,
        "positive_categories": sorted(positive),
        "leaders": leaders,
        "cohort": _group(lp + op, ln + on, min_size),
        "non_leaders": others,
        "leaders_minus_non_leaders": difference,
        "categories": {k: small(v, min_size) for k, v in sorted(categories.items())},
        "note": (
            "Leaders were chosen for their record and chose to apply: a higher rate among them "
            "does not show that leading caused it. The interval is a 95% Wilson interval; the "
            "difference's, Newcombe's."
        ),
    }


def _trend(
    headlines: Sequence[YearHeadline],
    graduates: Sequence[GraduateCount],
    modes: Sequence[ModeRow],
    annual: AnnualSettings,
    min_size: int,
) -> list[dict[str, Any]]:
    positive = set(annual.positive_outcomes)
    grads: dict[str, dict[bool, list[int]]] = defaultdict(lambda: {True: [0, 0], False: [0, 0]})
    for c in graduates:
        grads[c.academic_year][c.leader][1] += c.count
        if c.outcome in positive:
            grads[c.academic_year][c.leader][0] += c.count
    enrolled: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for m in modes:
        enrolled[m.academic_year][0] += m.participants
        enrolled[m.academic_year][1] += m.enrolled
    years = sorted({h.academic_year for h in headlines} | set(grads))
    by_year = {h.academic_year: h for h in headlines}
    out = []
    for y in years:
        h = by_year.get(y, YearHeadline(academic_year=y))
        run = h.sessions_run
        row: dict[str, Any] = {
            "academic_year": y,
            "participants": h.participants,
            "new_participants": h.new,
            "cumulative_participants": h.cumulative,
            "regular_participants": h.regular,
            "participation_rate": rate(*enrolled[y]) if y in enrolled else None,
            "sessions_run": run,
            "sessions_cancelled": h.sessions_cancelled,
            "mean_attendance_per_session": (
                round(h.attendances_at_sessions / run, 6)
                if run and h.attendances_at_sessions is not None
                else None
            ),
        }
        for item in ITEMS:
            agree, n = h.survey.get(item, (0, 0))
            row[f"{item}_percent_agree"] = round(100 * agree / n, 6) if n >= min_size else None
        row["leaders_appointed"] = h.leaders_appointed
        row["leaders_awarded"] = (
            small(h.leaders_awarded, min_size) if h.leaders_awarded is not None else None
        )
        g = grads.get(y)
        for key, leader in (("leaders", True), ("cohort", None)):
            if g is None:
                row[f"{key}_positive_rate"] = None
                continue
            s, n = g[True] if leader else [g[True][0] + g[False][0], g[True][1] + g[False][1]]
            row[f"{key}_positive_rate"] = rate(s, n) if n >= min_size else None
        out.append(row)
    return out


def build_annual_report(
    facts: YearFacts,
    settings: EvaluationSettings,
    annual: AnnualSettings,
    audience: Audience,
    tz: tzinfo,
    generated_at: datetime,
) -> dict[str, Any]:
    k = settings.min_group_size
    scheme = facts.scheme
    participants: dict[str, Any] = {
        "unique": facts.participants,
        "new_this_year": None,
        "cumulative": None,
        "first_year": None,
        "regular": facts.regular,
        "regular_min": settings.regular_min,
    }
    held = [h for h in facts.headlines if h.participants]
    if held:
        participants["first_year"] = held[0].academic_year
        this = next((h for h in held if h.academic_year == facts.academic_year), None)
        if this is not None:
            participants["new_this_year"] = this.new
            participants["cumulative"] = this.cumulative
        else:  # nobody yet this year: nobody new, and the total stands
            participants["new_this_year"] = 0
            participants["cumulative"] = held[-1].cumulative
    report: dict[str, Any] = {
        "academic_year": facts.academic_year,
        "scope": "scheme" if scheme else "institution",
        "scheme": (
            {
                "id": scheme.scheme_id,
                "code": scheme.code,
                "title": scheme.title,
                "mode": scheme.mode,
                "modules": scheme.modules,
            }
            if scheme
            else None
        ),
        "institution": annual.institution,
        "audience": audience,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "settings": {
            "min_group_size": k,
            "regular_min": settings.regular_min,
            "positive_outcomes": annual.positive_outcomes,
        },
        "participants": participants,
        "sessions": _sessions(facts, tz),
        "schemes": [
            {
                "scheme_id": s.scheme_id,
                "code": s.code,
                "title": s.title,
                "mode": s.mode,
                "modules": s.modules,
                "participants": s.participants,
                "regular": s.regular,
                "attendances": s.attendances,
            }
            for s in facts.schemes
        ],
        "survey": _survey(facts, k),
        "outcomes": [_outcome(r) for r in facts.outcomes],
        "leaders": _leaders(facts, k),
        "modes": _modes(facts, k),
        "graduate_outcomes": graduate_outcomes(facts.graduates, facts.academic_year, annual, k),
        "trend": _trend(facts.headlines, facts.graduates, facts.modes, annual, k),
    }
    report["commentary"] = commentary(report)
    if audience == "coordinator" and facts.comments is not None:
        report["comments"] = [
            {
                "scheme_id": c.scheme_id,
                "session_starts_at": (
                    c.session_starts_at.isoformat() if c.session_starts_at else None
                ),
                "comment": c.comment,
            }
            for c in facts.comments
        ]
    return report
