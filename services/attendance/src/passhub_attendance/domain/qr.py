"""QR sign-in codes: `<session_id>.<timestamp>.<HMAC-SHA256>` (itsdangerous' timestamp
signer), valid for `validity` after they are shown and never longer, so a photo of the code sent
to a friend stops working.

A student who opens the sign-in page with a still-valid code may need longer than that to log in
and press "Sign me in". The page then holds a scan receipt, not the code: the same kind of
signature under another salt, stamped with the moment the page was opened and valid for `grace`
from then. The receipt does not extend the code: a code opened after its validity gets no receipt.
Pure: the clock comes in as `now`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, TimestampSigner

from passhub_shared.web.errors import Rejected

SALT = "passhub.attendance.qr-sign-in"
RECEIPT_SALT = "passhub.attendance.qr-scan-receipt"
#: how far ahead of this service's clock a code's stamp may be (another replica's clock)
CLOCK_SKEW = timedelta(seconds=5)


class InvalidCode(Rejected):
    status_code = 403

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code=code)


class _Signer(TimestampSigner):
    """A timestamp signer whose clock is given, not read."""

    def __init__(self, secret: str, now: datetime, salt: str = SALT) -> None:
        super().__init__(secret, salt=salt, digest_method=hashlib.sha256)
        self._now = now

    def get_timestamp(self) -> int:
        return int(self._now.timestamp())


class QrCodes:
    def __init__(self, secret: str, validity: timedelta, grace: timedelta = timedelta(0)) -> None:
        self.secret = secret
        self.validity = validity
        self.grace = grace

    def issue(self, session_id: str, now: datetime) -> str:
        return _Signer(self.secret, now).sign(session_id).decode()

    def issued_at(self, token: str) -> datetime:
        _, issued = self._unsign(token, SALT, "code")
        return issued

    def verify(self, token: str, now: datetime) -> str:
        """The session the code was issued for; `InvalidCode` if it was tampered with or is
        older than `validity`."""
        session_id, issued = self._unsign(token, SALT, "code")
        _check_age(
            issued, now, self.validity, "this code has expired: scan the code on the screen again"
        )
        return session_id

    def receipt(self, token: str, now: datetime) -> str:
        """A scan receipt for a code that is valid `now`: it lets its holder sign in to the
        code's session until `grace` after `now`."""
        session_id = self.verify(token, now)
        return _Signer(self.secret, now, RECEIPT_SALT).sign(session_id).decode()

    def redeem(self, receipt: str, now: datetime) -> str:
        """The session of a scan receipt taken at most `grace` before `now`."""
        session_id, scanned = self._unsign(receipt, RECEIPT_SALT, "receipt")
        _check_age(
            scanned,
            now,
            self.grace,
            "the time to sign in after scanning has run out: scan the code on the screen again",
        )
        return session_id

    def _unsign(self, token: str, salt: str, what: str) -> tuple[str, datetime]:
        try:
            value, stamp = _Signer(self.secret, datetime.now(UTC), salt).unsign(
                token, return_timestamp=True
            )
        except BadSignature:
            raise InvalidCode(f"this is not a valid sign-in {what}", "code_invalid") from None
        return value.decode(), stamp


def _check_age(stamp: datetime, now: datetime, lifetime: timedelta, expired: str) -> None:
    if now > stamp + lifetime:
        raise InvalidCode(expired, "code_expired")
    if stamp > now + CLOCK_SKEW:
        raise InvalidCode("this code is not valid yet", "code_invalid")
