"""The JSON response every edge answers with (orjson: several times faster than ``json``)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

JSON_MEDIA_TYPE = "application/json"


class ORJSONResponse(JSONResponse):
    media_type = JSON_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
