"""passhub's attendance as xAPI statements in a Learning Record Store.

A bridge outside passhub: it reads the published attendance and sessions streams (the
CloudEvents of docs/integrators.md) and imports no passhub package.
"""
