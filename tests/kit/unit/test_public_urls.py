"""`passhub dev up --host/--public-url`: the address phones reach each service at."""

from __future__ import annotations

import pytest

from passhub_shared.dev.devrun import DevRunError, public_urls

PORTS = {"attendance": 8003, "recognition": 8004}


def test_the_public_url_gives_scheme_and_host_and_each_service_keeps_its_port() -> None:
    assert public_urls("http://192.168.1.20", "0.0.0.0", PORTS) == {
        "attendance": "http://192.168.1.20:8003",
        "recognition": "http://192.168.1.20:8004",
    }
    assert public_urls("https://pilot.example.ac.uk/", "0.0.0.0", PORTS)["attendance"] == (
        "https://pilot.example.ac.uk:8003"
    )
    assert public_urls("http://[fe80::1]", "::", PORTS)["attendance"] == "http://[fe80::1]:8003"


def test_without_a_public_url_the_host_or_localhost_is_used() -> None:
    assert public_urls(None, "127.0.0.1", PORTS)["recognition"] == "http://127.0.0.1:8004"
    assert public_urls(None, "10.1.2.3", PORTS)["attendance"] == "http://10.1.2.3:8003"
    assert public_urls(None, "0.0.0.0", PORTS)["attendance"] == "http://localhost:8003"


@pytest.mark.parametrize(
    "bad", ["192.168.1.20", "ftp://host", "http://host:9000", "http://host/pass", "http://"]
)
def test_a_public_url_that_is_not_a_scheme_and_host_is_refused(bad: str) -> None:
    with pytest.raises(DevRunError, match="--public-url"):
        public_urls(bad, "0.0.0.0", PORTS)
