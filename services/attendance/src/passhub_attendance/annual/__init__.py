"""The annual scheme report: a year of PASS per scheme and for the institution.

Participants (unique, new, cumulative since the first year held), sessions run and cancelled,
attendance per session and per week, regular participants, survey agreement, participation
against outcomes (raw and adjusted, from the evaluation), leaders (appointed, trained, sessions
delivered, awards), opt-in against opt-out schemes, leaders' graduate outcomes against their
cohort's, each headline beside the previous years', and a short commentary in words. As data
(JSON, CSV) and as a document (the portal's page, a PDF with charts).

Everything comes from events in the attendance log: its own sign-ins and feedback, the
evaluation's imports, the sessions service's schemes and sessions, recruitment's appointments
and training, recognition's awards, and the graduate outcome records a coordinator imports.
"""
