"""Public, no login: verifying a certificate code or a credential, and the issuer's keys.

A verification shows only what the certificate shows, and whether the award stands or was
withdrawn (not why). An unknown or malformed code gets the same answer.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from passhub_recognition import handlers
from passhub_recognition.api.deps import Recognition, RecognitionDep, handler_context
from passhub_recognition.api.schemas import (
    AchievementOut,
    CredentialCheckOut,
    CredentialIn,
    DidDocumentOut,
    JwksOut,
    PublicAwardOut,
)
from passhub_recognition.credentials import achievement_id, award_id_of
from passhub_recognition.domain.codes import display
from passhub_recognition.domain.documents import AwardView
from passhub_recognition.domain.wording import Fill, activity_title, criteria_narrative
from passhub_recognition.queries import award_by_code, award_by_id
from passhub_recognition.signing import InvalidCredential
from passhub_shared.contracts.recognition import AwardKind
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.errors import NotFound

router = APIRouter(tags=["verification"])

_templates = Environment(
    loader=PackageLoader("passhub_recognition", "templates"),
    autoescape=select_autoescape(["html"]),
)
#: the code is in the URL: keep it out of caches, logs of other sites and search engines
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
UNKNOWN = "no certificate has this verification code"


def public_view(view: AwardView, ctx: Recognition) -> dict[str, Any]:
    """What the certificate shows, with the figures that hold now, plus whether it stands and
    the day its figures were last revised."""
    return {
        "verification_code": view.verification_code,
        "status": "valid" if view.standing else "withdrawn",
        "award": view.kind_title,
        "name": view.name,
        "role": view.role,
        "schemes": view.scheme_titles,
        "academic_year": view.academic_year,
        "sessions_delivered": view.sessions_delivered,
        "hours": view.hours,
        "issued_on": view.granted_at.date().isoformat(),
        "withdrawn_on": view.withdrawn_at.date().isoformat() if view.withdrawn_at else None,
        #: the day a correction last re-issued the award with the figures above (not why)
        "revised_on": view.revised_at.date().isoformat() if view.revised_at else None,
        "institution": ctx.settings.institution,
        "verifying_body": ctx.settings.verifying_body,
    }


async def _lookup(runtime: RuntimeDep, code: str) -> AwardView | None:
    async with runtime.engine.connect() as conn:
        return await award_by_code(conn, code)


def _headers_only(response: Response) -> Response:
    """The answer to HEAD: GET's status and headers (its length included), no body."""
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    headers["content-length"] = str(len(response.body))
    return Response(status_code=response.status_code, headers=headers)


_CSS = files("passhub_recognition").joinpath("static/verify.css").read_bytes()


@router.get("/verify.css", include_in_schema=False)
async def stylesheet() -> Response:
    """The verification page's styles, a file: its Content-Security-Policy allows no inline
    style."""
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/verify/{code}.json")
async def verify_json(code: str, runtime: RuntimeDep, ctx: RecognitionDep) -> JSONResponse:
    view = await _lookup(runtime, code)
    if view is None:
        return JSONResponse(
            {"detail": UNKNOWN, "code": "not_found"}, status_code=404, headers=PRIVATE
        )
    return JSONResponse(public_view(view, ctx), headers=PRIVATE)


@router.head("/verify/{code}.json", include_in_schema=False)
async def verify_json_head(code: str, runtime: RuntimeDep, ctx: RecognitionDep) -> Response:
    return _headers_only(await verify_json(code, runtime, ctx))


@router.get("/verify/{code}", response_class=HTMLResponse)
async def verify_page(code: str, runtime: RuntimeDep, ctx: RecognitionDep) -> HTMLResponse:
    view = await _lookup(runtime, code)
    page = _templates.get_template("verify.html").render(
        found=view is not None,
        cert=public_view(view, ctx) if view else None,
        code=display(code)[:40],
        institution=ctx.settings.institution,
    )
    return HTMLResponse(page, status_code=200 if view else 404, headers=PRIVATE)


@router.head("/verify/{code}", include_in_schema=False)
async def verify_page_head(code: str, runtime: RuntimeDep, ctx: RecognitionDep) -> Response:
    """As GET, without the body: link checkers and previews ask for HEAD first."""
    return _headers_only(await verify_page(code, runtime, ctx))


@router.post(
    "/verify/credential", response_model=CredentialCheckOut, response_model_exclude_unset=True
)
async def verify_credential(
    body: CredentialIn, runtime: RuntimeDep, ctx: RecognitionDep
) -> CredentialCheckOut:
    """Check an Open Badges credential (VC-JWT) this service issued: `valid` is the
    signature and issuer; `status` whether the award still stands."""
    try:
        claims = ctx.key.verify(body.credential.strip())
    except InvalidCredential as exc:
        return CredentialCheckOut(valid=False, status="invalid", error=str(exc))
    award_id = award_id_of(str(claims.get("jti", "")))
    view = None
    if award_id:
        async with runtime.engine.connect() as conn:
            try:
                view = await award_by_id(conn, award_id)
            except NotFound:
                view = None
    if view is None:
        return CredentialCheckOut(valid=True, status="unknown", award=None)
    return CredentialCheckOut(
        valid=True,
        status="active" if view.standing else "withdrawn",
        award=PublicAwardOut.model_validate(public_view(view, ctx)),
    )


@router.get("/.well-known/jwks.json")
async def jwks(ctx: RecognitionDep) -> JwksOut:
    return JwksOut.model_validate(ctx.key.jwks())


@router.get("/.well-known/did.json")
@router.get("/did.json")
async def did_document(ctx: RecognitionDep) -> DidDocumentOut:
    """The did:web document: at `/.well-known/did.json` for a base URL without a path, at
    `<path>/did.json` (this service's `/did.json` behind a proxy) for one with a path."""
    return DidDocumentOut.model_validate(ctx.key.did_document())


@router.get("/achievements/{academic_year}/{kind}")
async def achievement(
    academic_year: str, kind: AwardKind, runtime: RuntimeDep, ctx: RecognitionDep
) -> AchievementOut:
    """The achievement a credential names (its id is this URL), under the current policy."""
    async with runtime.engine.connect() as conn:
        policy, _ = await handlers.current_policy(conn, handler_context(runtime), academic_year)
    rules = policy.rules(kind)
    fill = Fill(role=ctx.titles.leader, schemes=[], year=academic_year, sessions=0, hours=0)
    return AchievementOut.model_validate(
        {
            "id": achievement_id(ctx.base_url, academic_year, kind),
            "type": ["Achievement"],
            "achievementType": "CoCurricular",
            "name": activity_title(rules, fill),
            "criteria": {"narrative": criteria_narrative(rules, ctx.titles.leader)},
            "creator": ctx.issuer.profile(),
        }
    )
