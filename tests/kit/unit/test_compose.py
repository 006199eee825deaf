"""docker-compose.yml is a valid Compose file (against the Compose specification's JSON schema,
pinned in docker/compose-spec.json) and requires every secret: `${VAR:?message}`, no default."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from passhub_shared.dev.devrun import DEV_SECRETS

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
#: every Compose file passhub ships: the main one and those added beside it with `-f`
COMPOSE_FILES = sorted(ROOT.glob("docker-compose*.yml"))
SCHEMA = ROOT / "docker" / "compose-spec.json"

#: every secret the file must ask for
REQUIRED = {*DEV_SECRETS, "PASSHUB_POSTGRES_PASSWORD"}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|_KEY\b|_KEYS\b|TOKEN", re.IGNORECASE)
#: ${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, ...
REFERENCE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<password>[^@\s]+)@")


def secret_problems(text: str, required: frozenset[str] | set[str] = REQUIRED) -> list[str]:
    """What makes a Compose file's secrets optional or fixed; empty when every one is required
    and each of `required` is asked for."""
    problems = []
    for found in REFERENCE.finditer(text.replace("$$", "")):
        name = found["braced"] or found["bare"]
        if not SECRET_NAME.search(name):
            continue
        rest = found["rest"] or ""
        if not (rest.startswith(":?") and rest[2:].strip()):
            problems.append(f"{found[0]}: a secret must be required as ${{{name}:?message}}")
    referenced = {m["braced"] or m["bare"] for m in REFERENCE.finditer(text)}
    problems += [f"{name} is never asked for" for name in sorted(required - referenced)]
    problems += [f"{k}: {v}" for k, v in _literal_secrets(yaml.safe_load(text))]
    for found in URL_PASSWORD.finditer(text):
        if not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}", found["password"]):
            problems.append(f"a URL holds the password {found['password']!r}")
    return problems


def _literal_secrets(node: Any, key: str = "") -> list[tuple[str, str]]:
    """Settings whose name says secret but whose value is written out."""
    if isinstance(node, dict):
        return [pair for k, v in node.items() for pair in _literal_secrets(v, str(k))]
    if isinstance(node, list):
        return [pair for item in node for pair in _literal_secrets(item, key)]
    if isinstance(node, str) and SECRET_NAME.search(key) and not node.startswith("${"):
        return [(key, node)]
    return []


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_the_compose_file_follows_the_compose_specification(path: Path) -> None:
    schema = json.loads(SCHEMA.read_text())
    Draft7Validator.check_schema(schema)
    compose = yaml.safe_load(path.read_text())
    errors = sorted(Draft7Validator(schema).iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_check_would_catch_a_mistake() -> None:
    schema = json.loads(SCHEMA.read_text())
    compose = yaml.safe_load(COMPOSE.read_text())
    compose["services"]["attendance"]["restart"] = ["always"]
    nats = compose["services"]["nats-1"]  # its healthcheck is shared by YAML merge: copied
    nats["healthcheck"] = {**nats["healthcheck"], "intervall": "5s"}
    assert len(list(Draft7Validator(schema).iter_errors(compose))) == 2


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_every_secret_is_required_without_a_default(path: Path) -> None:
    """The main file asks for every secret the services need; a file added beside it with `-f`
    asks for its own, each required."""
    required = REQUIRED if path == COMPOSE else set()
    assert secret_problems(path.read_text(), required) == []


@pytest.mark.parametrize(
    "weakened",
    [
        "${PASSHUB_JWT_SECRET:-passhub-compose-dev-secret-change-me}",
        "${PASSHUB_JWT_SECRET-x}",
        "${PASSHUB_JWT_SECRET}",
        "$PASSHUB_JWT_SECRET",
        "${PASSHUB_JWT_SECRET:?}",
    ],
)
def test_a_secret_with_a_default_or_none_required_is_caught(weakened: str) -> None:
    text = COMPOSE.read_text()
    required = re.search(r"\$\{PASSHUB_JWT_SECRET:\?[^}]*\}", text)
    assert required is not None
    assert secret_problems(text.replace(required[0], weakened, 1))


def test_a_written_out_password_is_caught() -> None:
    text = COMPOSE.read_text()
    password = re.search(r"POSTGRES_PASSWORD: (.*)", text)
    assert password is not None
    assert secret_problems(text.replace(password[1], "postgres"))
    url = re.search(r"postgres:(\$\{PASSHUB_POSTGRES_PASSWORD:\?[^}]*\})@", text)
    assert url is not None
    assert secret_problems(text.replace(url[1], "postgres", 1))


def test_every_service_is_built_from_the_one_dockerfile_with_its_name() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    built = {
        name: service["build"]
        for name, service in services.items()
        if "build" in service and not name.endswith("-2")  # second replicas: the same image
    }
    assert set(built) == {"recruitment", "sessions", "attendance", "recognition", "portal"}
    for name, build in built.items():
        assert build["dockerfile"] == "docker/service.Dockerfile", name
        assert build["args"]["SERVICE"] == name == services[name]["environment"]["PASSHUB_SERVICE"]
        assert (ROOT / "services" / name / "pyproject.toml").exists(), name
    dockerfile = (ROOT / "docker" / "service.Dockerfile").read_text()
    assert "ARG SERVICE" in dockerfile and "services/${SERVICE}/" in dockerfile
    assert not list(ROOT.glob("services/*/Dockerfile"))  # no copies beside it
