"""A generated cohort in which stronger students attend more and attending regularly adds a known
number of marks: the raw difference is far from it, the estimates adjusted for prior attainment
find it, and the regression figures are statsmodels' OLS on the same rows."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from passhub_attendance.service import service
from passhub_shared.contracts.attendance import StudentSignedIn
from passhub_shared.messages.events import Event, Metadata
from tests.attendance.evaluation.helpers import START, launched, record_sessions_events
from tests.support import running_service

YEAR = "2026-27"
EFFECT = 6.0  # marks that attending 4+ sessions adds, planted
MODULES = ["PL1", "PL2", "PL3", "PL4"]
SCHEMES = {f"{YEAR}-PA": ["PL1", "PL2"], f"{YEAR}-PB": ["PL3", "PL4"]}
SESSIONS = 12


def generate() -> pd.DataFrame:
    """One row per enrolment: 600 students per module; the chance of attending regularly rises
    steeply with prior attainment; mark = 4 x module + 10 + 0.35 x prior + EFFECT if regular."""
    rng = np.random.default_rng(2026)
    rows = []
    for i, module in enumerate(MODULES):
        n = 600
        prior = rng.normal(120, 20, n).round(1)
        regular = rng.random(n) < 1 / (1 + np.exp(-(prior - 128) / 6))
        occasional = ~regular & (rng.random(n) < 0.15)
        sessions = np.where(
            regular,
            rng.integers(4, SESSIONS + 1, n),
            np.where(occasional, rng.integers(1, 4, n), 0),
        )
        mark = 4 * i + 10 + 0.35 * prior + EFFECT * regular + rng.normal(0, 8, n)
        for j in range(n):
            rows.append(
                {
                    "student_number": f"{module}-{j:04d}",
                    "module": module,
                    "prior": float(prior[j]),
                    "sessions": int(sessions[j]),
                    "mark": round(float(np.clip(mark[j], 0, 100)), 1),
                }
            )
    return pd.DataFrame(rows)


def to_csv(df: pd.DataFrame, columns: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student_number", "module", "academic_year", *columns])
    for row in df.itertuples(index=False):
        writer.writerow(
            [row.student_number, row.module, YEAR, *(getattr(row, c) for c in columns.values())]
        )
    return out.getvalue().encode()


def scheme_of(module: str) -> str:
    return next(s for s, ms in SCHEMES.items() if module in ms)


async def load(h, df: pd.DataFrame) -> None:
    rt = h.runtime
    await record_sessions_events(rt, [launched(s, ms) for s, ms in SCHEMES.items()])
    by_session: dict[str, list[Event]] = {}
    for row in df.itertuples(index=False):
        scheme = scheme_of(row.module)
        for k in range(row.sessions):
            session = f"{scheme}-{k:02d}"
            by_session.setdefault(session, []).append(
                StudentSignedIn(
                    session_id=session,
                    scheme_id=scheme,
                    modules=SCHEMES[scheme],
                    student_number=row.student_number,
                    signed_in_at=START,
                    method="qr",
                )
            )
    async with rt.transaction() as conn:
        for session, events in sorted(by_session.items()):
            await rt.store.append(conn, f"attendance-{session}", 0, events, Metadata(actor="t"))
    headers = h.auth("coordinator") | {"Content-Type": "text/csv"}
    r = await h.client.post(
        "/evaluation/enrolments",
        content=to_csv(df, {"prior_attainment": "prior"}),
        headers=headers,
    )
    assert r.status_code == 201, r.text
    r = await h.client.post(
        "/evaluation/results", content=to_csv(df, {"mark": "mark"}), headers=headers
    )
    assert r.status_code == 201, r.text


def statsmodels_check(adjusted: dict, part: pd.DataFrame) -> None:
    """The regression figures of the report against statsmodels' OLS on the same rows:
    mark ~ regular + prior (+ a dummy per module when pooled); pass ~ ... with HC1 errors."""
    rows = part[(part["sessions"] >= 4) | (part["sessions"] == 0)].copy()
    rows["regular"] = (rows["sessions"] >= 4).astype(float)
    rows["passed"] = (rows["mark"] >= 40).astype(float)
    pooled = rows["module"].nunique() > 1
    rhs = "regular + prior" + (" + C(module)" if pooled else "")
    for key, formula, fit_args in (
        ("outcome", f"mark ~ {rhs}", {}),
        ("pass_rate", f"passed ~ {rhs}", {"cov_type": "HC1", "use_t": True}),
    ):
        fit = smf.ols(formula, rows).fit(**fit_args)
        mine = adjusted[key]["regression"]
        assert mine["n"] == len(rows)
        assert mine["estimate"] == pytest.approx(fit.params["regular"], rel=1e-9)
        assert mine["se"] == pytest.approx(fit.bse["regular"], rel=1e-8)
        assert mine["p_value"] == pytest.approx(fit.pvalues["regular"], rel=1e-6, abs=1e-300)
        low, high = fit.conf_int().loc["regular"]
        assert mine["ci_low"] == pytest.approx(low, rel=1e-9)
        assert mine["ci_high"] == pytest.approx(high, rel=1e-9)


async def test_a_planted_effect_is_recovered_where_the_raw_difference_misleads(
    database_url, nats_url
):
    df = generate()
    async with running_service(service, database_url, nats_url, relay=False) as h:
        await load(h, df)
        r = await h.client.get(
            "/evaluation/outcomes", params={"year": YEAR}, headers=h.auth("academic")
        )
        assert r.status_code == 200, r.text
        report = r.json()
    summaries = [*report["modules"], *report["schemes"], report["overall"]]
    assert [s["id"] for s in summaries] == [*MODULES, *SCHEMES, "overall"]
    for s in summaries:
        part = df[df["module"].isin(s["modules"])]
        raw = s["comparisons"][0]["outcome"]
        adjusted = s["adjusted"][0]
        assert (adjusted["group_a"], adjusted["group_b"]) == ("regular", "non_participants")
        assert adjusted["status"] == "estimated"
        # the raw difference is mostly who came: far from the planted effect
        assert raw["difference"] > EFFECT + 8, s["id"]
        statsmodels_check(adjusted, part)
        matched = adjusted["outcome"]["matching"]
        # matching brings the groups close in prior (0.25: the usual bound for balance)
        assert matched["smd_before"] > 0.8 and abs(matched["smd_after"]) < 0.25, s["id"]
    # every estimate from the pooled rows (schemes, the whole year) holds the planted effect
    # within its 95% interval, by regression and by matching
    for s in [*report["schemes"], report["overall"]]:
        for method in ("regression", "matching"):
            estimate = s["adjusted"][0]["outcome"][method]
            assert estimate["ci_low"] < EFFECT < estimate["ci_high"], (s["id"], method)
    overall = report["overall"]["adjusted"][0]["outcome"]["regression"]
    assert overall["estimate"] == pytest.approx(EFFECT, abs=1.0)
    assert overall["strata"] == 4
