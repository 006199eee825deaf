"""The interactive API docs (`/docs`, Swagger UI) served wholly by the service itself.

FastAPI's own `/docs` page loads Swagger UI's script and styles from a CDN and starts it with an
inline script: offline (a laptop on a train, a campus network without internet) it is a blank
page, and it needs a loose Content-Security-Policy. Here the page references only files the
service serves: Swagger UI's bundle and styles from the `fastapi-offline` package (which ships
the current Swagger UI 5, able to render the OpenAPI 3.1 FastAPI writes), and a start-up script
of our own (`static/swagger-start.js`) that reads the description's address from the page.
So the docs' policy allows scripts and styles from the service itself and nothing else
(`headers.DOCS_POLICY`). ReDoc is not offered: one set of docs is enough.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

#: the page, and where its files are served (public, like the description itself)
DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"

_VENDOR = Path(fastapi_offline.__file__).parent / "static"
_OWN = Path(__file__).parent / "static"
#: name -> (file, media type); nothing else is served from the assets path
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (_VENDOR / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_VENDOR / "swagger-ui.css", "text/css"),
    "favicon.png": (_VENDOR / "favicon.png", "image/png"),
    "swagger-start.js": (_OWN / "swagger-start.js", "text/javascript"),
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-start.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Add `/docs` and its files to `app` (built with `docs_url=None, redoc_url=None`)."""

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return HTMLResponse(
            _PAGE.format(
                title=escape(f"{app.title}: API docs"),
                assets=escape(f"{root}{ASSETS_PATH}"),
                openapi=escape(f"{root}{app.openapi_url}"),
            )
        )

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def swagger_asset(name: str) -> FileResponse:
        found = ASSETS.get(name)
        if found is None:
            raise HTTPException(404, "no such file of the API docs")
        path, media_type = found
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=86400"})
