"""What the routes need besides the kit's runtime: settings, the signing key, fonts. Made once
when the service starts (`on_start`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from passhub_recognition.certificates import Fonts, register_fonts
from passhub_recognition.credentials import Issuer
from passhub_recognition.domain.awards import RoleTitles
from passhub_recognition.settings import RecognitionSettings
from passhub_recognition.signing import IssuerKey, did_web, key_from_database, key_from_file
from passhub_shared.app import RuntimeDep
from passhub_shared.service import Runtime

STATE_KEY = "recognition"


@dataclass(frozen=True)
class Recognition:
    settings: RecognitionSettings
    key: IssuerKey
    fonts: Fonts
    titles: RoleTitles

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url.rstrip("/")

    @property
    def issuer(self) -> Issuer:
        return Issuer(self.key.did, self.settings.verifying_body, self.base_url)

    def verify_url(self, code: str) -> str:
        return f"{self.base_url}/verify/{code}"


async def start(runtime: Runtime) -> None:
    """`on_start`: load or make the signing key, register fonts."""
    settings = RecognitionSettings()
    if settings.signing_key_path:
        private = key_from_file(settings.signing_key_path)
    else:
        async with runtime.transaction() as conn:
            private = await key_from_database(conn)
    runtime.state[STATE_KEY] = Recognition(
        settings=settings,
        key=IssuerKey(private, did_web(settings.public_base_url)),
        fonts=register_fonts(settings.font_path, settings.bold_font_path),
        titles=RoleTitles(runtime.settings.leader_title, runtime.settings.organiser_title),
    )


async def get_recognition(runtime: RuntimeDep) -> Recognition:
    context: Recognition = runtime.state[STATE_KEY]
    return context


RecognitionDep = Annotated[Recognition, Depends(get_recognition)]
