"""The registry wording of an award: descriptions within the limit, criteria in words."""

from __future__ import annotations

from passhub_recognition.domain.policy import DESCRIPTION_LIMIT, Requirements, default_rules
from passhub_recognition.domain.wording import Fill, clip, description, requirements_narrative

YEAR = "2026-27"


def test_the_description_fits_the_registry_limit_however_long_the_scheme_names() -> None:
    fill = Fill(
        role="PASS Leader",
        schemes=[f"Advanced Interdisciplinary Studies in Topic {i}" for i in range(20)],
        year=YEAR,
        sessions=24,
        hours=36,
    )
    text = description(default_rules("hear"), fill)
    assert len(text) <= DESCRIPTION_LIMIT
    assert text.endswith("…") and text.startswith("Completed training and volunteered as a PASS")
    short = description(default_rules("hear"), Fill("PASS Leader", ["Physics"], YEAR, 8, 12.5))
    assert "Physics (2026-27)" in short and "8 weekly study sessions (12.5 hours)" in short
    assert not short.endswith("…")


def test_clip_cuts_at_a_word() -> None:
    assert clip("one two three", 9) == "one two…"
    assert clip("  spaced   out  ", 100) == "spaced out"


def test_the_criteria_narrative_is_written_from_the_requirements() -> None:
    narrative = requirements_narrative(
        Requirements(min_sessions=None, min_session_hours=15, min_training_admin_hours=10),
        "PASS Mentor",
    )
    assert narrative == (
        "The PASS Mentor completed the core training, delivered at least 15 hours of sessions "
        "and spent at least 10 hours in training and scheme administration."
    )
