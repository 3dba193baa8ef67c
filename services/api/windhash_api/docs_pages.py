"""The OpenAPI documentation page, offline: `/docs` (Swagger UI) loads its script and styles from the package
`fastapi-offline` ships them in, served here under `/static-docs`, never a CDN. (No ReDoc page: ReDoc loads
its badge from its CDN whatever it is told.)

The page is FastAPI's own (`get_swagger_ui_html`). Its Content-Security-Policy is the API's, except that the
page's one inline start-up script is allowed by its SHA-256 hash (nothing else inline may run), and inline
styles, which Swagger UI sets, are allowed.
"""

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/static-docs"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_policy(page: bytes) -> str:
    """The docs pages' Content-Security-Policy: own origin only, the page's inline scripts by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ).replace("  ", " ")


def _with_policy(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = docs_policy(bytes(response.body))
    return response


def install_docs(app: FastAPI) -> None:
    """Mount the assets and add the page (the app is made with docs_url=None, redoc_url=None)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _with_policy(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
                # Swagger UI would otherwise fetch a validity badge from validator.swagger.io.
                swagger_ui_parameters={"validatorUrl": None},
            )
        )
