"""QR sign-in tokens: `<session_id>.<timestamp>.<HMAC-SHA256>` (itsdangerous' timestamp
signer), valid for a short time after they are shown, so a photo of the code sent to a friend
stops working. Pure: the clock comes in as `now`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, TimestampSigner

from passhub_shared.errors import Rejected

SALT = "passhub.attendance.qr-sign-in"


class InvalidCode(Rejected):
    status_code = 403

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code=code)


class _Signer(TimestampSigner):
    """A timestamp signer whose clock is given, not read."""

    def __init__(self, secret: str, now: datetime) -> None:
        super().__init__(secret, salt=SALT, digest_method=hashlib.sha256)
        self._now = now

    def get_timestamp(self) -> int:
        return int(self._now.timestamp())


class QrCodes:
    def __init__(self, secret: str, validity: timedelta) -> None:
        self.secret = secret
        self.validity = validity

    def issue(self, session_id: str, now: datetime) -> str:
        return _Signer(self.secret, now).sign(session_id).decode()

    def issued_at(self, token: str) -> datetime:
        _, issued = self._unsign(token)
        return issued

    def verify(self, token: str, now: datetime, grace: timedelta = timedelta(0)) -> str:
        """The session the token was issued for; `InvalidCode` if it was tampered with or
        expired (`grace` extends the validity, e.g. for the time to log in after a scan)."""
        session_id, issued = self._unsign(token)
        if now > issued + self.validity + grace:
            raise InvalidCode(
                "this code has expired: scan the code on the screen again", "code_expired"
            )
        if issued > now + timedelta(seconds=5):
            raise InvalidCode("this code is not valid yet", "code_invalid")
        return session_id

    def _unsign(self, token: str) -> tuple[str, datetime]:
        try:
            value, stamp = _Signer(self.secret, datetime.now(UTC)).unsign(
                token, return_timestamp=True
            )
        except BadSignature:
            raise InvalidCode("this is not a valid sign-in code", "code_invalid") from None
        return value.decode(), stamp
