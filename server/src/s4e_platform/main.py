"""Application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from s4e_platform import __version__
from s4e_platform.api import API_PREFIX, include_routers
from s4e_platform.errors import install_handlers
from s4e_platform.middleware import BodyMiddleware, IdempotencyMiddleware, RequestContextMiddleware

DOCS_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>S4E API</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script src="/api/docs/static/swagger-ui-standalone-preset.js"></script>
<script src="/api/docs/init.js"></script></body></html>"""

DOCS_INIT = """window.ui = SwaggerUIBundle({url: '/api/v1/openapi.json', dom_id: '#swagger-ui',
  deepLinking: true, presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout', validatorUrl: null, withCredentials: true});"""


def _openapi(app: FastAPI) -> dict:
    if app.openapi_schema:
        return app.openapi_schema
    from s4e_platform.auth.dependencies import auth_rule

    schema = get_openapi(title="S4E API", version=__version__, routes=app.routes, openapi_version="3.1.0",
                         description="Continuous security operations platform. Every response is "
                                     "`{data, meta}` or `{error: {code, message, details, request_id}}`.")
    schema.setdefault("components", {})["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "s4e_live_... API key or OAuth JWT"},
        "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "session": {"type": "apiKey", "in": "cookie", "name": "s4e_session"},
    }
    for route in app.routes:
        methods = getattr(route, "methods", None)
        if not methods or not getattr(route, "include_in_schema", False):
            continue
        rule = auth_rule(route) or "public"
        for method in methods:
            op = schema["paths"].get(route.path_format, {}).get(method.lower())
            if op is None:
                continue
            op["x-s4e-auth"] = rule
            if rule == "public":
                op["security"] = []
            else:
                op["security"] = [{"apiKey": []}, {"apiKeyHeader": []}, {"session": []}]
    app.openapi_schema = schema
    return schema


def create_app() -> FastAPI:
    from swagger_ui_bundle import swagger_ui_path

    from s4e_platform.config import get_settings
    from s4e_platform.kit.logging import configure

    configure(get_settings().log_level)
    app = FastAPI(title="S4E API", version=__version__, openapi_url=f"{API_PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None)
    install_handlers(app)
    include_routers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.mount("/api/docs/static", StaticFiles(directory=str(swagger_ui_path)), name="docs-static")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    @app.get("/api/docs/init.js", include_in_schema=False)
    def api_docs_init() -> HTMLResponse:
        return HTMLResponse(DOCS_INIT, media_type="application/javascript")

    # Outermost first: ids/logs see everything, then size limits, then idempotency replay.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyMiddleware)
    app.add_middleware(RequestContextMiddleware)
    return app
