"""Published event contracts: the bodies of the CloudEvents each service publishes.

These are the public, versioned interface between services and to systems outside passhub.
A breaking change is a new class with `event_version = N + 1`; the old one stays while
consumers move. Additive optional fields are not breaking.
"""

from passhub_shared.contracts import attendance, recognition, recruitment, sessions

__all__ = ["attendance", "recognition", "recruitment", "sessions"]
