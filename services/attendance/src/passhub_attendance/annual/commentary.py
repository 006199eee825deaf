"""The report's commentary: each headline in words, with its caveats (small groups left out,
survey respondents are not all participants, outcome differences are observational). Pure: the
report's figures in, sentences out; the same figures always give the same words."""

from __future__ import annotations

from typing import Any


def num(n: int) -> str:
    return f"{n:,}"


def pct(fraction: float) -> str:
    """0.916 -> "91.6%", 0.93 -> "93%"."""
    text = f"{100 * fraction:.1f}"
    return (text.removesuffix(".0")) + "%"


def pct100(percent: float) -> str:
    return pct(percent / 100)


def signed(x: float, digits: int = 1) -> str:
    """+4.2, -0.3; a difference that rounds to nothing is +0.0, never -0.0."""
    return f"{(x if round(x, digits) != 0 else 0.0):+.{digits}f}"


def _participants(r: dict[str, Any]) -> str:
    p, year = r["participants"], r["academic_year"]
    where = f"{r['scheme']['title']}" if r["scheme"] else "PASS"
    text = f"{num(p['unique'])} students attended {where} in {year}"
    if p["new_this_year"] is not None:
        text += f" ({num(p['new_this_year'])} for the first time)"
    text += "."
    if p["cumulative"] is not None and p["first_year"]:
        text += f" {num(p['cumulative'])} students have attended since {p['first_year']}."
    text += (
        f" {num(p['regular'])} came to {p['regular_min']} or more sessions of a scheme "
        "(regular participants)."
    )
    return text


def _sessions(r: dict[str, Any]) -> str:
    s = r["sessions"]
    text = f"{num(s['run'])} sessions ran and {num(s['cancelled'])} were cancelled"
    if s["upcoming"]:
        text += f"; {num(s['upcoming'])} are still to come"
    text += "."
    if s["mean_per_session"] is not None:
        text += (
            f" On average {s['mean_per_session']:.1f} students attended a session "
            f"(median {s['median_per_session']:g}, most {num(s['max_per_session'])})."
        )
    return text


def _survey(r: dict[str, Any]) -> str | None:
    survey = r["survey"]
    if not survey["responses"]:
        return "No feedback sheets were returned this year."
    by = {i["item"]: i for i in survey["items"]}
    parts = []
    words = {
        "understanding": "agreed that attending improved their understanding of subject content",
        "enjoyable": "found it enjoyable",
        "recommend": "would recommend it",
    }
    for key in ("understanding", "enjoyable", "recommend"):
        item = by[key]
        if item["percent_agree"] is None:
            parts.append(f"too few answered '{item['statement']}' to report ({item['responses']})")
        else:
            parts.append(f"{pct100(item['percent_agree'])} {words[key]} (n = {item['responses']})")
    return (
        f"Of {num(survey['responses'])} feedback sheets returned, "
        + "; ".join(parts)
        + ". Feedback comes from the students who chose to fill in a sheet, not from every "
        "participant."
    )


def _outcomes(r: dict[str, Any]) -> list[str]:
    out = []
    overall = next((o for o in r["outcomes"] if o["scope"] == "overall"), None)
    rows = [o for o in r["outcomes"] if o["scope"] == "module"]
    if overall is not None and overall["raw_difference"] is not None:
        unit = "marks" if overall["measure"] == "mark" else "grade points"
        text = (
            f"Across {len(rows)} module(s), regular participants' results were "
            f"{signed(overall['raw_difference'])} {unit} against non-participants'"
        )
        if overall["adjusted_status"] == "estimated" and overall["adjusted_difference"] is not None:
            text += (
                f"; {signed(overall['adjusted_difference'])} among students who started level "
                f"in prior attainment (95% CI {signed(overall['adjusted_ci_low'])} to "
                f"{signed(overall['adjusted_ci_high'])})"
            )
        elif overall["adjusted_note"]:
            text += f"; no adjusted estimate: {overall['adjusted_note']}"
        text += (
            ". These are observational estimates: students chose to attend, and what else "
            "differs between those who came and those who did not is still in them."
        )
        out.append(text)
    suppressed = sum(1 for o in rows if o["raw_difference"] is None and o["enrolled"])
    if suppressed:
        out.append(
            f"{suppressed} module(s) have no comparison: a group was smaller than "
            f"{r['settings']['min_group_size']} students or had no results."
        )
    return out


def _leaders(r: dict[str, Any]) -> str:
    lf = r["leaders"]
    text = (
        f"{num(lf['appointed'])} leaders were appointed, {num(lf['trained'])} of them trained; "
        f"{num(lf['delivering_sessions'])} led {num(lf['sessions_delivered'])} sessions."
    )
    granted = sum(v.get("granted") or 0 for v in lf["awards"].values())
    withheld = sum(v.get("withheld") or 0 for v in lf["awards"].values())
    if lf["awards"]:
        text += f" {num(granted)} awards were granted and {num(withheld)} withheld."
    return text


def _modes(r: dict[str, Any]) -> str | None:
    rows = [m for m in r["modes"]["by_year"] if m["academic_year"] == r["academic_year"]]
    shown = [m for m in rows if m["participation_rate"] is not None]
    if len(shown) < 2:
        return None
    parts = []
    for m in shown:
        name = "opt-out (timetabled)" if m["mode"] == "opt_out" else "opt-in"
        parts.append(
            f"{name} schemes reached {pct(m['participation_rate'])} of their enrolled students "
            f"with {m['attendances_per_enrolled']:.2f} attendances per enrolled student "
            f"({m['schemes']} scheme(s), {num(m['enrolled'])} enrolled)"
        )
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + ". " + r["modes"]["note"]


def _graduates(r: dict[str, Any]) -> str | None:
    g = r["graduate_outcomes"]
    if g is None:
        return None
    leaders, cohort = g["leaders"], g["cohort"]
    if leaders["rate"] is None:
        return (
            f"Graduate outcomes for {g['academic_year']}: fewer than "
            f"{r['settings']['min_group_size']} leaders among the graduates, so no rate is shown."
        )
    text = (
        f"{pct(leaders['rate'])} of PASS leaders graduating in {g['academic_year']} were "
        f"{g['positive_label']} (n = {num(leaders['n'])}, 95% CI {pct(leaders['ci_low'])} to "
        f"{pct(leaders['ci_high'])})"
    )
    if cohort["rate"] is not None:
        text += f", against {pct(cohort['rate'])} of all graduates (n = {num(cohort['n'])})"
    return text + ". " + g["note"].split(":")[0] + "."


def commentary(report: dict[str, Any]) -> list[str]:
    sentences = [_participants(report), _sessions(report)]
    for extra in (
        _survey(report),
        *_outcomes(report),
        _leaders(report),
        _modes(report),
        _graduates(report),
    ):
        if extra:
            sentences.append(extra)
    sentences.append(
        f"Groups of fewer than {report['settings']['min_group_size']} students are not shown, "
        "in any figure."
    )
    return sentences
