"""``?format=csv``: a tabular route's rows as RFC 4180 CSV, to download.

One header row, then one line per row, CRLF line ends, fields quoted when they hold a
comma, a quote or a line break (``csv.writer``'s defaults are RFC 4180's). Cells: an
empty field for null, ``true``/``false``, ISO 8601 for moments, Python's shortest
round-tripping form for floats (``105.149``). ``Content-Disposition`` names the file after
the session and the route (``2018-04-R-results.csv``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Literal

from starlette.responses import Response

from pypole_gql.domain.sessions import SessionData

CSV_MEDIA_TYPE: Final = "text/csv"
Format = Literal["json", "csv"]

#: The ``200`` of a route that also answers ``?format=csv``, for its ``responses=``.
CSV_RESPONSE: Final[dict[int | str, Any]] = {
    200: {
        "content": {
            CSV_MEDIA_TYPE: {
                "schema": {"type": "string"},
                "example": "driver,lap\r\nHAM,1\r\n",
            }
        },
        "description": "OK: JSON, or with `format=csv` the rows as RFC 4180 CSV (a header row, "
        "`Content-Disposition: attachment` with a file name)",
    }
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows' ``columns`` (in that order) under a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return out.getvalue()


def file_name(data: SessionData, what: str) -> str:
    """``2018-04-R-results.csv``: season, round, session type and what the rows are."""
    info = data.info
    return f"{info.year}-{info.round:02d}-{info.session_type}-{what}.csv"


def csv_response(
    data: SessionData, what: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> Response:
    return Response(
        csv_text(columns, rows).encode("utf-8"),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name(data, what)}"'},
    )
