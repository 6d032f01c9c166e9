"""Health, the generated OpenAPI document and a human docs page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.core.http import operation
from chalicelib.core.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.platform.schemas import Health

bp = Blueprint(__name__)

VERSION = "1.0.0"

_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>agora API</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="{spec}"></redoc>
<script src="https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js"></script>
<noscript>The API description is at <a href="{spec}">{spec}</a>.</noscript>
</body></html>"""

# The local stage (make run) serves Swagger UI from the pinned swagger-ui-bundle-v2 package
# through dev/local_api.py, so the docs work offline; the 11 MB package stays out of Lambda,
# and the deployed stages keep loading Redoc from its CDN.
_LOCAL_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>agora API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/_local/docs/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/_local/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({{url: "{spec}", dom_id: "#docs", deepLinking: true}});</script>
<noscript>The API description is at <a href="{spec}">{spec}</a>.</noscript>
</body></html>"""


@bp.route("/v1/health", methods=["GET"])
@operation("Is the API up?", tags=("platform",), response="Health")
def health() -> Health:
    from chalicelib.platform.schemas import Health

    return Health(status="ok", stage=get_settings().stage, version=VERSION)


@bp.route("/openapi.json", methods=["GET"])
@operation("This API's OpenAPI 3.1 description", tags=("platform",),
           response={"type": "object"})
def openapi_document() -> dict[str, Any]:
    from chalicelib.core.openapi import build_document  # lazy: JSON Schema generation, for this route only

    return build_document(bp.current_app)


@bp.route("/docs", methods=["GET"])
@operation("Human-readable API documentation (Redoc; Swagger UI served offline in the local stage)",
           tags=("platform",),
           response={"type": "string"}, content_type="text/html")
def docs_page() -> Response:
    # Relative, so it resolves under API Gateway's stage prefix (/api/docs) and locally (/docs).
    page = _LOCAL_DOCS_PAGE if get_settings().stage == "local" else _DOCS_PAGE
    return Response(body=page.format(spec="openapi.json"), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8"})
