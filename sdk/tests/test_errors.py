"""Error envelopes map to one exception class per status family, each with code, message and request_id."""

from __future__ import annotations

import httpx
import pytest

from s4e import errors
from s4e.errors import error_from_response


def response(status, body=None, headers=None, content=None):
    request = httpx.Request("GET", "http://api.test/api/v1/assets")
    if content is not None:
        return httpx.Response(status, content=content, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def envelope(code, message="m", details=None, request_id="req_01hv"):
    return {"error": {"code": code, "message": message, "details": details, "request_id": request_id}}


@pytest.mark.parametrize(("status", "code", "cls"), [
    (400, "unknown_parameter", errors.BadRequestError),
    (400, "workspace_mismatch", errors.BadRequestError),
    (401, "key_revoked", errors.AuthenticationError),
    (403, "insufficient_scope", errors.PermissionDeniedError),
    (404, "not_found", errors.NotFoundError),
    (405, "method_not_allowed", errors.MethodNotAllowedError),
    (409, "has_dependents", errors.ConflictError),
    (413, "payload_too_large", errors.PayloadTooLargeError),
    (415, "unsupported_media_type", errors.UnsupportedMediaTypeError),
    (422, "asset_not_verified", errors.ValidationError),
    (429, "rate_limited", errors.RateLimitError),
    (500, "internal_error", errors.ServerError),
    (502, "upstream_error", errors.ServerError),
    (503, "unavailable", errors.ServerError),
    (418, "teapot", errors.APIError),
])
def test_status_maps_to_class(status, code, cls):
    exc = error_from_response(response(status, envelope(code, "Something failed")))
    assert type(exc) is cls
    assert isinstance(exc, errors.APIError) and isinstance(exc, errors.S4EError)
    assert (exc.status_code, exc.code, exc.message, exc.request_id) == (status, code, "Something failed", "req_01hv")
    assert "req_01hv" in str(exc) and code in str(exc)


def test_validation_error_exposes_field_errors():
    details = [{"path": "$.scopes[2]", "message": "unknown scope", "code": "invalid_scope"},
               {"path": "query.sort_by", "message": "unknown sort field", "code": "invalid_parameter"}]
    exc = error_from_response(response(422, envelope("validation_error", details=details)))
    assert isinstance(exc, errors.ValidationError)
    assert [(e.path, e.code) for e in exc.errors] == [("$.scopes[2]", "invalid_scope"),
                                                      ("query.sort_by", "invalid_parameter")]
    seen = error_from_response(response(422, envelope("verification_failed", details={"seen": ["v=spf1"]})))
    assert seen.errors == [] and seen.details == {"seen": ["v=spf1"]}


def test_permission_denied_lists_required_scopes():
    exc = error_from_response(response(403, envelope("insufficient_scope", details={"required": ["write:assets"]})))
    assert exc.required_scopes == ["write:assets"]


def test_rate_limit_retry_after_from_header_or_details():
    exc = error_from_response(response(429, envelope("rate_limited"), headers={"Retry-After": "12"}))
    assert exc.retry_after == 12
    exc = error_from_response(response(429, envelope("rate_limited", details={"retry_after": 4})))
    assert exc.retry_after == 4
    exc = error_from_response(response(429, envelope("rate_limited"),
                                       headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    assert exc.retry_after == 0  # an HTTP date in the past: retry now


def test_non_json_error_from_a_proxy():
    exc = error_from_response(response(502, content=b"<html>Bad Gateway</html>", headers={"X-Request-ID": "req_9"}))
    assert isinstance(exc, errors.ServerError)
    assert exc.code == "http_502" and exc.message == "Bad Gateway" and exc.request_id == "req_9"


def test_redirect_points_at_the_base_url():
    exc = error_from_response(response(301, content=b"", headers={"Location": "https://api.test/api/v1/assets"}))
    assert "check the base URL" in exc.message and "https://api.test" in exc.message


def test_success_body_that_is_not_an_envelope_is_reported():
    from s4e import S4EClient

    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>login</html>")))
    client = S4EClient(api_key="k", base_url="http://api.test/api/v1", http_client=http)
    with pytest.raises(errors.APIResponseError, match="not an S4E envelope"):
        client.meta.get()
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"data": {"mode": 1},
                                                                                          "meta": {}})))
    client = S4EClient(api_key="k", base_url="http://api.test/api/v1", http_client=http)
    with pytest.raises(errors.APIResponseError, match="Meta"):
        client.meta.get()


def test_timeout_is_an_api_timeout_error():
    from s4e import S4EClient

    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)

    client = S4EClient(api_key="k", base_url="http://api.test/api/v1",
                       http_client=httpx.Client(transport=httpx.MockTransport(slow)))
    with pytest.raises(errors.APITimeoutError) as info:
        client.meta.get()
    assert isinstance(info.value, errors.APIConnectionError) and info.value.code == "timeout"
