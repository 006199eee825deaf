"""Settings of the recognition service (environment prefix `PASSHUB_RECOGNITION_`).

The institution's vocabulary (`PASSHUB_LEADER_TITLE`, `PASSHUB_ORGANISER_TITLE`) and the
connections come from the kit's settings.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from passhub_shared.operations.settings import ENV_FILE


class RecognitionSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PASSHUB_RECOGNITION_",
        env_file=ENV_FILE,
        extra="ignore",
        env_file_encoding="utf-8",
    )

    #: where the public reaches this service: the QR codes and credentials point here, and the
    #: issuer's did:web is made from it
    public_base_url: str = "http://localhost:8004"
    #: named on certificates, registry records and credentials
    institution: str = "the University"
    verifying_body: str = "PASS Scheme Office"
    #: PEM file of the Ed25519 key credentials are signed with; empty: a key made on first start
    #: and kept in the database (table rec_signing_keys)
    signing_key_path: str = ""
    #: TrueType fonts for certificates; empty: DejaVu Sans if installed, else the Bitstream
    #: Vera that ships with reportlab
    font_path: str = ""
    bold_font_path: str = ""
    #: how many leaders an awards run decides per transaction (it records its progress after
    #: each such step)
    run_batch_size: int = 50
