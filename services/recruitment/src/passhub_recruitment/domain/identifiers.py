"""Identifiers and their formats: academic years, scheme ids, student numbers, stream ids."""

from __future__ import annotations

import re

from passhub_shared.web.errors import Rejected

_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_SCHEME = re.compile(r"^(\d{4}-\d{2})-[A-Z0-9][A-Z0-9_-]{0,31}$")
#: a student number: letters and digits, as the student records system has them
STUDENT_NUMBER_PATTERN = r"^[A-Za-z0-9]{1,32}$"
_STUDENT_NUMBER = re.compile(STUDENT_NUMBER_PATTERN)

#: the single stream every student-records import is appended to (so the last import wins,
#: in stream order, for replay as for the live tables)
RECORDS_STREAM = "student-records"


def is_academic_year(value: str) -> bool:
    match = _YEAR.match(value)
    return match is not None and (int(match.group(1)) + 1) % 100 == int(match.group(2))


def check_academic_year(value: str) -> str:
    if not is_academic_year(value):
        raise Rejected(
            f"academic year {value!r} must look like 2026-27 (two consecutive years)",
            code="bad_academic_year",
        )
    return value


def is_student_number(value: str) -> bool:
    return bool(_STUDENT_NUMBER.match(value))


def check_scheme_id(scheme_id: str, academic_year: str) -> str:
    """Scheme ids are `<academic_year>-<CODE>` (the sessions service's ids), of this year."""
    match = _SCHEME.match(scheme_id)
    if not match:
        raise Rejected(
            f"scheme id {scheme_id!r} must look like {academic_year}-PHYS "
            "(academic year, '-', an upper-case code)",
            code="bad_scheme",
        )
    if match.group(1) != academic_year:
        raise Rejected(
            f"scheme {scheme_id!r} is not a scheme of {academic_year}", code="bad_scheme"
        )
    return scheme_id


def campaign_stream(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


def application_id_for(campaign_id: str, person: str) -> str:
    """One application per student per campaign: the campaign and the applicant's pseudonym
    (their key id, from the event store), never their student number."""
    return f"{campaign_id}-{person}"


def application_stream(application_id: str) -> str:
    return f"application-{application_id}"


def training_stream(training_id: str) -> str:
    return f"training-{training_id}"
