"""QR sign-in codes: signed, short-lived, bound to one session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from passhub_attendance.domain.qr import InvalidCode, QrCodes

NOW = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)
KEY = "q" * 43
CODES = QrCodes(KEY, timedelta(seconds=60), grace=timedelta(seconds=120))


def test_a_code_names_its_session() -> None:
    code = CODES.issue("2026-27-PHYS-w3", NOW)
    assert CODES.verify(code, NOW + timedelta(seconds=60)) == "2026-27-PHYS-w3"


def test_a_code_expires_after_its_validity() -> None:
    code = CODES.issue("S1", NOW)
    with pytest.raises(InvalidCode) as refused:
        CODES.verify(code, NOW + timedelta(seconds=61))
    assert refused.value.code == "code_expired"


def test_a_code_is_valid_to_the_second_and_no_longer_whatever_the_grace() -> None:
    code = CODES.issue("S1", NOW)
    assert CODES.verify(code, NOW + timedelta(seconds=60)) == "S1"
    with pytest.raises(InvalidCode):
        CODES.verify(code, NOW + timedelta(seconds=60, microseconds=1))


def test_a_receipt_gives_the_grace_from_the_moment_of_the_scan() -> None:
    code = CODES.issue("S1", NOW)
    scanned = NOW + timedelta(seconds=59)
    receipt = CODES.receipt(code, scanned)
    assert CODES.redeem(receipt, scanned + timedelta(seconds=120)) == "S1"
    with pytest.raises(InvalidCode) as refused:
        CODES.redeem(receipt, scanned + timedelta(seconds=121))
    assert refused.value.code == "code_expired"


def test_an_expired_code_gets_no_receipt() -> None:
    code = CODES.issue("S1", NOW)
    with pytest.raises(InvalidCode) as refused:
        CODES.receipt(code, NOW + timedelta(seconds=61))
    assert refused.value.code == "code_expired"


def test_a_receipt_is_not_a_code_and_a_code_is_not_a_receipt() -> None:
    code = CODES.issue("S1", NOW)
    receipt = CODES.receipt(code, NOW)
    with pytest.raises(InvalidCode):
        CODES.verify(receipt, NOW)
    with pytest.raises(InvalidCode):
        CODES.redeem(code, NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c.replace("S1", "S2", 1),  # another session
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),  # signature
        lambda c: "S1.AAAAAA." + c.rsplit(".", 1)[1],  # timestamp
        lambda c: c.split(".")[0],  # no signature at all
    ],
    ids=["session", "signature", "timestamp", "unsigned"],
)
def test_a_tampered_code_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    code = CODES.issue("S1", NOW)
    with pytest.raises(InvalidCode) as refused:
        CODES.verify(tamper(code), NOW)
    assert refused.value.code == "code_invalid"


def test_a_code_signed_with_another_key_is_refused() -> None:
    code = QrCodes("k" * 43, timedelta(seconds=60)).issue("S1", NOW)
    with pytest.raises(InvalidCode):
        CODES.verify(code, NOW)
