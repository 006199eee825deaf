"""Certificates (read back from the PDF, rendered to PNG), the batch download, the Open Badges
credential, and a coordinator's withdrawal as the verification endpoints then show it."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.recognition.builders import CHEM, YEAR, appointed, delivered, launched, trained
from tests.recognition.feed import LocalFeed
from tests.recognition.runs import run_awards
from tests.support import Harness

OUTPUT = Path(__file__).resolve().parents[1] / "output"


async def grant_year(h: Harness, feed: LocalFeed) -> list[dict]:
    await feed.apply(
        [
            launched(),
            launched(CHEM, "Chemistry"),
            appointed("S1", name="Zoë Ñúñez-O'Brien"),
            appointed("S2", name="Grace Hopper", schemes=[CHEM]),
            trained("S1"),
            trained("S2"),
        ]
    )
    await feed.apply([*delivered(8, "S1"), *delivered(9, "S2")])
    # S2 delivered in Chemistry: their sign-ins name that scheme
    run = await run_awards(h.client, YEAR, h.auth("coordinator"))
    assert run["granted"] == 6, run
    awards = await h.client.get(
        f"/awards?academic_year={YEAR}&kind=certificate", headers=h.auth("coordinator")
    )
    return awards.json()


def page_text(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


async def test_a_certificate_shows_what_it_should_and_its_code_verifies(
    recognition: Harness, feed: LocalFeed
) -> None:
    certificates = await grant_year(recognition, feed)
    mine = next(a for a in certificates if a["student_number"] == "S1")
    c = recognition.client
    response = await c.get(
        f"/awards/{mine['award_id']}/certificate", headers=recognition.auth("leader", "S1")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    [text] = page_text(pdf)
    flat = " ".join(text.split())
    assert "Certificate of Participation" in flat
    assert "Zoë Ñúñez-O'Brien" in flat  # any name prints as written
    assert "served as PASS Leader" in flat
    assert "for Physics" in flat
    assert "in the academic year 2026-27" in flat
    assert "delivering 8 sessions (8 hours)" in flat
    assert "the University" in flat
    code = re.search(r"Verification code: ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})", flat)
    assert code is not None and code.group(1) == mine["verification_code"]
    assert f"http://localhost:8004/verify/{code.group(1)}" in flat

    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "recognition-certificate.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm"):
        await asyncio.to_thread(
            subprocess.run,
            [
                "pdftoppm",
                "-png",
                "-r",
                "120",
                "-singlefile",
                str(OUTPUT / "recognition-certificate.pdf"),
                str(OUTPUT / "recognition-certificate"),
            ],
            check=True,
        )
        png = OUTPUT / "recognition-certificate.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        if shutil.which("zbarimg"):  # Debian's zbar-tools: read the QR code back
            scanned = await asyncio.to_thread(
                subprocess.run,
                ["zbarimg", "--raw", "-q", str(png)],
                capture_output=True,
                text=True,
            )
            assert scanned.stdout.strip() == f"http://localhost:8004/verify/{code.group(1)}"

    # the code printed on it verifies, publicly, showing only what the certificate shows
    verified = await c.get(f"/verify/{code.group(1).lower()}.json")
    assert verified.status_code == 200
    body = verified.json()
    assert body["status"] == "valid" and body["name"] == "Zoë Ñúñez-O'Brien"
    assert body["schemes"] == ["Physics"] and body["sessions_delivered"] == 8
    assert set(body) == {
        "verification_code",
        "status",
        "award",
        "name",
        "role",
        "schemes",
        "academic_year",
        "sessions_delivered",
        "hours",
        "issued_on",
        "withdrawn_on",
        "revised_on",
        "institution",
        "verifying_body",
    }
    assert body["revised_on"] is None
    page = await c.get(f"/verify/{code.group(1)}")
    assert page.status_code == 200 and "Valid: this award stands." in page.text
    assert "Zoë Ñúñez-O&#39;Brien" in page.text  # escaped

    # someone else's certificate is not theirs to download
    other = next(a for a in certificates if a["student_number"] == "S2")
    forbidden = await c.get(
        f"/awards/{other['award_id']}/certificate", headers=recognition.auth("leader", "S1")
    )
    assert forbidden.status_code == 403
    unknown = await c.get("/awards/nope/certificate", headers=recognition.auth("coordinator"))
    assert unknown.status_code == 404


async def test_the_batch_is_one_pdf_with_a_page_per_certificate(
    recognition: Harness, feed: LocalFeed
) -> None:
    await grant_year(recognition, feed)
    batch = await recognition.client.get(
        f"/certificates/{YEAR}", headers=recognition.auth("coordinator")
    )
    assert batch.status_code == 200 and batch.headers["content-type"] == "application/pdf"
    pages = page_text(batch.content)
    assert len(pages) == 2
    # in name order
    assert "Grace Hopper" in pages[0] and "for Chemistry" in " ".join(pages[0].split())
    assert "Zoë" in pages[1]
    empty = await recognition.client.get(
        "/certificates/2030-31", headers=recognition.auth("coordinator")
    )
    assert empty.status_code == 404


async def test_the_open_badge_credential_verifies_until_the_award_is_withdrawn(
    recognition: Harness, feed: LocalFeed
) -> None:
    await grant_year(recognition, feed)
    c = recognition.client
    mine = (await c.get("/awards/mine", headers=recognition.auth("student", "S1"))).json()
    assert {a["kind"] for a in mine} == {"certificate", "psa", "hear"}
    hear = next(a for a in mine if a["kind"] == "hear")

    download = await c.get(
        f"/awards/{hear['award_id']}/credential", headers=recognition.auth("student", "S1")
    )
    assert download.status_code == 200 and download.headers["content-type"] == "application/vc+jwt"
    token = download.text
    as_json = await c.get(
        f"/awards/{hear['award_id']}/credential?format=json",
        headers=recognition.auth("student", "S1"),
    )
    credential = as_json.json()["credential"]
    assert as_json.json()["jwt"] == token
    assert credential["issuer"]["id"] == "did:web:localhost%3A8004"
    subject = credential["credentialSubject"]
    assert subject["achievement"]["achievementType"] == "CoCurricular"
    assert subject["role"] == "PASS Leader"
    assert subject["achievement"]["criteria"]["narrative"] == (
        "The PASS Leader completed the core training and delivered at least 8 sessions "
        "(signed in as PASS Leader)."
    )
    assert (
        await c.get(
            f"/awards/{hear['award_id']}/credential", headers=recognition.auth("leader", "S2")
        )
    ).status_code == 403

    checked = await c.post("/verify/credential", json={"credential": token})
    assert checked.json()["valid"] and checked.json()["status"] == "active"
    assert checked.json()["award"]["name"] == "Zoë Ñúñez-O'Brien"
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    assert (await c.post("/verify/credential", json={"credential": tampered})).json()[
        "valid"
    ] is False

    # a coordinator withdraws the HEAR entry for a breach of the scheme's rules
    coordinator = recognition.auth("coordinator")
    bad = await c.post(f"/awards/{hear['award_id']}/withdraw", json={}, headers=coordinator)
    assert bad.status_code == 422
    withdrawn = await c.post(
        f"/awards/{hear['award_id']}/withdraw",
        json={"reason": "breach of the code of conduct"},
        headers=coordinator,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    again = await c.post(
        f"/awards/{hear['award_id']}/withdraw", json={"reason": "again"}, headers=coordinator
    )
    assert again.status_code == 409

    checked = await c.post("/verify/credential", json={"credential": token})
    assert checked.json()["valid"] and checked.json()["status"] == "withdrawn"
    public = (await c.get(f"/verify/{hear['verification_code']}.json")).json()
    assert public["status"] == "withdrawn" and public["withdrawn_on"]
    assert "breach" not in str(public)  # the reason stays private
    gone = await c.get(f"/awards/{hear['award_id']}/certificate", headers=coordinator)
    assert gone.status_code == 409
    # the run does not grant it again
    rerun = await run_awards(c, YEAR, coordinator)
    assert rerun["granted"] == 0


@pytest.mark.parametrize("role", ["leader", "student"])
async def test_a_leader_lists_only_their_own_awards(
    recognition: Harness, feed: LocalFeed, role: str
) -> None:
    await grant_year(recognition, feed)
    mine = await recognition.client.get("/awards/mine", headers=recognition.auth(role, "S2"))
    assert {a["student_number"] for a in mine.json()} == {"S2"}
