"""Errors a service raises for bad requests; the app turns each into a clear 4xx."""

from __future__ import annotations

from typing import Any

#: a rejection lists at most this many particulars; `error_count` always gives the total
MAX_LISTED_DETAILS = 200


class Rejected(Exception):
    """A command broke a rule. `status_code` is 422 unless a subclass says otherwise."""

    status_code = 422

    def __init__(
        self, message: str, *, code: str = "rejected", details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        #: structured particulars (e.g. one entry per bad CSV line), returned as `errors`
        #: (the first MAX_LISTED_DETAILS of them) with their total as `error_count`
        self.details = details or []


class NotFound(Rejected):
    status_code = 404

    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_found")


class Conflict(Rejected):
    status_code = 409

    def __init__(self, message: str) -> None:
        super().__init__(message, code="conflict")


class Forbidden(Rejected):
    status_code = 403

    def __init__(self, message: str) -> None:
        super().__init__(message, code="forbidden")
