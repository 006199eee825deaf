"""Every console page of the portal has its row in docs/access.md's `## portal console` table
(the table the browser test walks as every role), and the table names no page that is gone."""

from __future__ import annotations

from passhub_portal.app import create_portal
from passhub_portal.tokens import generate_private_key_pem
from tests import support
from tests.access import app_routes
from tests.portal.console import console_rules
from tests.portal.unit.test_identity import settings


def test_every_console_route_has_a_row_and_every_row_a_route() -> None:
    app = create_portal(
        settings(signing_key=generate_private_key_pem()),
        support.service_settings("", "nats://127.0.0.1:4222"),
    )
    routes = {route for route in app_routes(app) if route.split(" ", 1)[1].startswith("/console")}
    assert "GET /console" in routes
    rows = set(console_rules())
    assert routes - rows == set(), "console routes without a row in docs/access.md"
    assert rows - routes == set(), "rows in docs/access.md for console routes that do not exist"
