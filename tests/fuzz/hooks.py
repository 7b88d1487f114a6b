"""schemathesis hooks of the fuzz runs; the ``st`` command loads them (``SCHEMATHESIS_HOOKS``).

- Auth: every generated request carries the fuzz user's access token
  (``Authorization: Bearer``), from a login over REST, and from a new login after any
  logout the fuzz sends (REST or GraphQL), which revokes the token in use.
- ``graphql_no_internal_error``: a GraphQL answer is never a 5xx, carries no ``INTERNAL``
  error, and codes every error. It replaces schemathesis's ``not_a_server_error`` for
  GraphQL, which takes every resolver error for a server error, NOT_FOUND and
  UNAUTHENTICATED included: those are this API's documented answers to inputs that name
  nothing or lack credentials.

The server and the account come from the environment: ``PYPOLE_FUZZ_URL`` (the server's
base URL), ``PYPOLE_FUZZ_EMAIL`` and ``PYPOLE_FUZZ_PASSWORD`` (a registered user).
"""

from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis

Case = schemathesis.Case[Any]

#: Operations after which the token in use is revoked.
ENDS_SESSION = frozenset({"POST /api/v1/auth/logout", "Mutation.logout"})


class _Token:
    value: str | None = None


def _login() -> str:
    response = requests.post(
        f"{os.environ['PYPOLE_FUZZ_URL']}/api/v1/auth/login",
        json={
            "email": os.environ["PYPOLE_FUZZ_EMAIL"],
            "password": os.environ["PYPOLE_FUZZ_PASSWORD"],
        },
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


# refresh_interval=None: asked for every case, so a revoked token is never reused.
@schemathesis.auth(refresh_interval=None)
class FuzzUserAuth:
    def get(self, case: Case, context: schemathesis.AuthContext) -> str:
        if _Token.value is None:
            _Token.value = _login()
        return _Token.value

    def set(self, case: Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def after_call(
    context: schemathesis.HookContext, case: Case, response: schemathesis.Response
) -> None:
    if case.operation.label in ENDS_SESSION:
        _Token.value = None


@schemathesis.check
def graphql_no_internal_error(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    if case.operation.schema.specification.kind != "graphql":
        return None
    assert response.status_code < 500, f"server error {response.status_code}: {response.text}"
    body = response.json()
    assert isinstance(body, dict), f"not a GraphQL response: {response.text}"
    codes = [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]
    assert "INTERNAL" not in codes, f"INTERNAL error: {response.text}"
    assert None not in codes, f"an error without extensions.code: {response.text}"
    return None
