"""What every REST route may answer besides its body: the error statuses with their models
and descriptions, and the headers responses carry. Routes declare theirs with :func:`errors`;
:mod:`pypole_gql.rest.document` adds the headers of success responses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pypole_gql.rest.schemas import ErrorBody, TextValidationErrorBody, ValidationErrorBody

ErrorModel = type[ErrorBody | ValidationErrorBody | TextValidationErrorBody]
#: Every error status a route may declare: its usual description and body model.
ERRORS: dict[int, tuple[str, ErrorModel]] = {
    400: ("Email already registered, or username already taken", ErrorBody),
    401: ("Not authenticated: missing, invalid, expired or revoked credentials", ErrorBody),
    403: ("The account is inactive", ErrorBody),
    404: ("Not found; the message names what", ErrorBody),
    409: ("The request conflicts with the state of the resource; the message says why", ErrorBody),
    413: ("Request body larger than 64 KiB", ErrorBody),
    422: ("Invalid input; `detail` lists each offending field", ValidationErrorBody),
    429: ("Rate limit exceeded; retry after `Retry-After` seconds", ErrorBody),
    501: ("No data source of this server provides this; `detail` says what", ErrorBody),
    503: (
        "Upstream data source (or our database) unavailable and nothing cached; "
        "retry after `Retry-After` seconds",
        ErrorBody,
    ),
}

HEADERS: dict[str, dict[str, Any]] = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer"},
    },
    "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}},
    "RateLimit-Policy": {
        "description": "The client's rate limit policy (draft-ietf-httpapi-ratelimit-headers), "
        "e.g. `60;w=60`",
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": "The client's budget, e.g. `limit=60, remaining=59, reset=60`",
        "schema": {"type": "string"},
    },
    "X-RateLimit-Limit": {
        "description": "Requests allowed per window",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the window",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "Unix time at which one more request is allowed",
        "schema": {"type": "integer"},
    },
    "X-Request-ID": {
        "description": "The request id (the client's `X-Request-ID` when valid), as logged",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "A strong entity tag of the body (a hash of its bytes), on an anonymous "
        "answer the server keeps; send it back as `If-None-Match` to get a 304 while it holds",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "`public, max-age=<seconds until the data under the answer is "
        "refreshed>` on an anonymous answer the server keeps (long for a finished season, "
        "short for the current one); `private, no-store` on a signed-in one (`Authorization`); "
        "`no-store` on anything else (errors, 202, answers built from no cached data)",
        "schema": {"type": "string"},
    },
    "Vary": {
        "description": "The request headers that change the answer: `Accept, Authorization` "
        "(and `Origin`, from the CORS layer)",
        "schema": {"type": "string"},
    },
    "Preference-Applied": {
        "description": "`respond-async`: the `Prefer` header was honoured (RFC 7240)",
        "schema": {"type": "string"},
    },
}
#: What every answer of a cacheable route carries (web/http_cache.py), but a 429 (answered
#: before the response cache).
CACHE_HEADERS = ("Cache-Control", "Vary")
#: The validator of a kept answer, and what a 304 repeats of it.
VALIDATOR_HEADERS = ("ETag", *CACHE_HEADERS)
#: The request header a cacheable GET honours.
IF_NONE_MATCH: dict[str, Any] = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An `ETag` of an earlier answer: while it is still the current answer, "
    "the server answers 304 Not Modified, without a body.",
    "schema": {"type": "string"},
}
RATE_LIMIT_HEADERS = (
    "RateLimit-Policy",
    "RateLimit",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)
ERROR_HEADERS = {401: ("WWW-Authenticate",), 429: ("Retry-After",), 503: ("Retry-After",)}
SECURITY_SCHEME = "bearerAuth"


def header_refs(names: Iterable[str]) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


#: The 422 of the routes that answer it with a text ``detail`` (rest/errors.text_detail).
TEXT_422 = (
    "Invalid input; `detail` names each offending field in one sentence, `errors` lists them",
    TextValidationErrorBody,
)


def errors(
    *statuses: int, notes: dict[int, str] | None = None, text_422: bool = False
) -> dict[int | str, Any]:
    """A route's ``responses=``: each error status it can answer with (429 always), with its
    body model, description (``notes`` overrides it) and headers; ``text_422`` for a route
    whose 422 says its fields as text."""
    responses: dict[int | str, Any] = {}
    for status in sorted({*statuses, 429}):
        description, model = TEXT_422 if status == 422 and text_422 else ERRORS[status]
        headers = ("X-Request-ID", *ERROR_HEADERS.get(status, ()))
        if status == 429:
            headers = (*headers, *RATE_LIMIT_HEADERS)
        responses[status] = {
            "model": model,
            "description": (notes or {}).get(status, description),
            "headers": header_refs(headers),
        }
    return responses
