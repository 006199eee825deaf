"""Every page of the portal has its row in docs/access.md: a console page in the `## portal
console` table, any other in `## portal pages` (the tables the browser tests walk as every
role), and neither table names a page that is gone."""

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


def test_every_other_portal_route_has_a_row_and_every_row_a_route() -> None:
    from tests.portal.test_pages_access import page_rules

    app = create_portal(
        settings(signing_key=generate_private_key_pem()),
        support.service_settings("", "nats://127.0.0.1:4222"),
    )
    routes = {
        route for route in app_routes(app) if not route.split(" ", 1)[1].startswith("/console")
    }
    assert "GET /me" in routes
    rows = set(page_rules())
    assert routes - rows == set(), "portal routes without a row in docs/access.md"
    assert rows - routes == set(), "rows in docs/access.md for portal routes that do not exist"
