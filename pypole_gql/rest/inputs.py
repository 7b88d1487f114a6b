"""Request bodies of the REST routes, read by us rather than by FastAPI.

The older backend's clients send what FastAPI alone would refuse: a login as a form or as
JSON, a logout with no body at all, JSON without a JSON content type. :class:`BodyReader` is
the FastAPI dependency that reads a body (at most 64 KiB, else 413) into its model, listing
each invalid field in a 422 as FastAPI would; :mod:`pypole_gql.rest.openapi` documents it as
the route's request body.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar

import orjson
from fastapi import Depends
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel, RootModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from pypole_gql.errors import RequestInvalid
from pypole_gql.web.body import read_body, replay_body

M = TypeVar("M", bound=BaseModel)
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def validate(model: type[M], data: Any, where: str) -> M:
    """``data`` as ``model``, or :class:`RequestInvalid` naming each field under ``where``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestInvalid(
            [
                {"loc": [where, *issue["loc"]], "msg": issue["msg"], "type": issue["type"]}
                for issue in issues
            ]
        ) from exc


class BodyReader(Generic[M]):
    """Reads the body into ``model``: JSON, or also a form when ``media`` names one (the
    first media type is what the document lists first). Not ``required``: no body is ``{}``.
    A JSON object, or a bare JSON array when ``model`` is a ``RootModel`` that takes one
    (the older predictor client posts its picks as an array)."""

    def __init__(
        self, model: type[M], *, media: Sequence[str] = (JSON,), required: bool = True
    ) -> None:
        self.model = model
        self.media = tuple(media)
        self.required = required

    async def __call__(self, request: Request) -> M:
        content_type = request.headers.get("content-type", "")
        if FORM in self.media and not content_type.startswith(JSON):
            return await self._form(request)
        body = await read_body(request)
        if not self.required and not body.strip():
            return validate(self.model, {}, "body")
        try:
            data = orjson.loads(body) if body else None
        except orjson.JSONDecodeError as exc:
            raise RequestInvalid(
                [{"loc": ["body"], "msg": "Invalid JSON body", "type": "json_invalid"}]
            ) from exc
        if not isinstance(data, dict) and not (
            isinstance(data, list) and issubclass(self.model, RootModel)
        ):
            raise RequestInvalid(
                [
                    {
                        "loc": ["body"],
                        "msg": "Expected a JSON object",
                        "type": "model_attributes_type",
                    }
                ]
            )
        return validate(self.model, data, "body")

    async def _form(self, request: Request) -> M:
        # Read (and size-check) the body first, then let Starlette's form parser read it
        # again from memory: the request's own stream can be consumed only once.
        body = await read_body(request)
        try:
            form = await Request(request.scope, replay_body(body, request.receive)).form(
                max_files=0, max_fields=20
            )
        except HTTPException as exc:
            # Starlette's 400 for a form it will not parse (too many fields, a file, no
            # multipart boundary): invalid input like any other, so a 422 naming the body.
            raise RequestInvalid(
                [{"loc": ["body"], "msg": str(exc.detail), "type": "form_invalid"}]
            ) from None
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        return validate(self.model, data, "body")


def json_body(model: type[M], *, required: bool = True) -> Any:
    """``Annotated[Model, json_body(Model)]``: the route's JSON body."""
    return Depends(BodyReader(model, required=required))


def form_or_json_body(model: type[M], *, media: Sequence[str] = (FORM, JSON)) -> Any:
    """``Annotated[Model, form_or_json_body(Model)]``: a form (as OAuth2's password flow
    sends it) or JSON."""
    return Depends(BodyReader(model, media=media))


def dependants(root: Dependant) -> Iterator[Dependant]:
    """``root`` and every dependency below it: what a route declares, all of it."""
    pending = [root]
    while pending:
        dependant = pending.pop()
        yield dependant
        pending.extend(dependant.dependencies)


def body_reader(root: Dependant) -> BodyReader[Any] | None:
    """The route's :class:`BodyReader`, if it reads a body."""
    for dependant in dependants(root):
        if isinstance(dependant.call, BodyReader):
            return dependant.call
    return None
