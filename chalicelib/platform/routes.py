"""Health, the generated OpenAPI document and a human docs page."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.http import operation
from chalicelib.core.settings import get_settings
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


@bp.route("/v1/health", methods=["GET"])
@operation("Is the API up?", tags=("platform",), response=Health)
def health() -> Health:
    return Health(status="ok", stage=get_settings().stage, version=VERSION)


@bp.route("/openapi.json", methods=["GET"])
@operation("This API's OpenAPI 3.1 description", tags=("platform",),
           response={"type": "object"})
def openapi_document() -> dict:
    from chalicelib.core.openapi import build_document

    return build_document(bp.current_app)


@bp.route("/docs", methods=["GET"])
@operation("Human-readable API documentation (Redoc)", tags=("platform",),
           response={"type": "string"}, content_type="text/html")
def docs_page() -> Response:
    # Relative, so it resolves under API Gateway's stage prefix (/api/docs) and locally (/docs).
    return Response(body=_DOCS_PAGE.format(spec="openapi.json"), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8"})
