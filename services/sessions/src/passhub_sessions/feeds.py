"""iCalendar (RFC 5545) feeds, made with the `icalendar` library, and their signed links.

One VEVENT per session, UID `<session_id>@<calendar_domain>`, times in the institution's time
zone (with its VTIMEZONE). SEQUENCE is the number of changes since the session was scheduled,
so calendar apps take a moved session as an update. DTSTAMP and LAST-MODIFIED are the time of
the last change (there is no METHOD, so RFC 5545 reads DTSTAMP that way), which keeps a feed
byte-for-byte the same until something changes. A cancelled session stays in the feed with
STATUS:CANCELLED; in a leader's feed, so does a session they were taken off.

A feed link may carry `?token=`: an HMAC-SHA256 of the feed's identity under the feed secret,
so calendar apps (which cannot send a bearer token) can subscribe. Rotating the secret revokes
every link at once.

A concern of its own beside the template's files: it renders a file format (like a PDF renderer
would) and signs links, neither a rule of the domain nor a read of the tables; the routes in
`api/feeds.py` read the rows and hand them here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vText

FEED_KINDS = ("leader", "scheme")


def feed_token(secret: str, kind: str, ident: str) -> str:
    digest = hmac.new(
        secret.encode(), f"passhub-feed:{kind}:{ident}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_matches(secret: str, kind: str, ident: str, token: str) -> bool:
    # compare_digest refuses str with non-ASCII characters: compare the UTF-8 bytes
    return hmac.compare_digest(feed_token(secret, kind, ident).encode(), token.encode())


@dataclass(frozen=True)
class FeedEntry:
    session_id: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str
    cancelled: bool
    sequence: int
    created: datetime
    changed: datetime


def render(name: str, entries: Sequence[FeedEntry], tz: ZoneInfo, domain: str = "passhub") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//{domain}//passhub sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", vText(name))  # escaped: a name may hold a new line
    calendar.add("x-wr-timezone", str(tz))
    for entry in entries:
        event = Event()
        event.add("uid", f"{entry.session_id}@{domain}")
        event.add("dtstamp", entry.changed.astimezone(UTC))
        event.add("created", entry.created.astimezone(UTC))
        event.add("last-modified", entry.changed.astimezone(UTC))
        event.add("dtstart", entry.starts_at.astimezone(tz))
        event.add("dtend", entry.ends_at.astimezone(tz))
        event.add("summary", vText(entry.summary))
        event.add("location", vText(entry.location))
        if entry.description:
            event.add("description", vText(entry.description))
        event.add("sequence", entry.sequence)
        event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if entry.cancelled else "OPAQUE")
        calendar.add_component(event)
    if entries:
        # the zone's rules over whole years around the sessions, clock changes included
        first = min(e.starts_at for e in entries).year - 1
        last = max(e.ends_at for e in entries).year + 2
        calendar.add_missing_timezones(first_date=date(first, 1, 1), last_date=date(last, 1, 1))
    return calendar.to_ical()
