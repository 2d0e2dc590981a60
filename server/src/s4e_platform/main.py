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


_ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def _document_errors(op: dict, rule: str, method: str) -> None:
    """Errors every operation can produce whatever its router declared (api.md 1.1, 1.7)."""
    responses = op.setdefault("responses", {})
    extra = {"400": "Unknown, repeated or invalid query parameter", "500": "Internal error (never a stack trace)"}
    if rule not in ("public", "undeclared"):
        extra["401"] = "Missing or invalid credential"
        extra["429"] = "Rate limited; see Retry-After"
    if method in ("POST", "PUT", "PATCH", "DELETE"):  # the body-size middleware reads these bodies
        extra["413"] = "Request body too large"
    if "requestBody" in op:
        extra["415"] = "Request body in an unsupported media type"
        extra["422"] = "Validation failed"
    for status, description in extra.items():
        responses.setdefault(status, _error(description))


def _openapi(app: FastAPI) -> dict:
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.routing import APIRoute, iter_route_contexts

    from s4e_platform.auth.dependencies import auth_rule
    from s4e_platform.kit.schemas import ErrorEnvelope

    schema = get_openapi(title="S4E API", version=__version__, routes=app.routes, openapi_version="3.1.0",
                         description="Continuous security operations platform. Every response is "
                                     "`{data, meta}` or `{error: {code, message, details, request_id}}`.")
    components = schema.setdefault("components", {})
    error_schema = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    components.setdefault("schemas", {}).update(error_schema.pop("$defs", {}))
    components["schemas"].setdefault("ErrorEnvelope", error_schema)
    components["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "s4e_live_... API key or OAuth JWT"},
        "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "session": {"type": "apiKey", "in": "cookie", "name": "s4e_session"},
    }
    # Routers are included lazily (FastAPI keeps `_IncludedRouter` branches in app.routes), so walk the
    # effective route contexts: they carry the prefixed path and the route's full dependency tree.
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        # A route that declares no rule is reachable anonymously; say so instead of calling it "public",
        # so the access-matrix test can tell a deliberate public endpoint from a forgotten dependency.
        rule = auth_rule(context) or "undeclared"
        for method in context.methods or ():
            op = schema["paths"].get(context.path_format, {}).get(method.lower())
            if op is None:
                continue
            op["x-s4e-auth"] = rule
            # DESIGN.md: the handler's one-line docstring is the summary (FastAPI would title-case its name).
            first_line = (op.get("description") or "").strip().split("\n", 1)[0].strip()
            if first_line:
                op["summary"] = first_line
            anonymous = rule in ("public", "undeclared")
            op["security"] = [] if anonymous else [{"apiKey": []}, {"apiKeyHeader": []}, {"session": []}]
            _document_errors(op, rule, method)
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
    from s4e_platform.webhook import fanout  # noqa: F401  (registers the publisher consumer: webhook fan-out)
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
