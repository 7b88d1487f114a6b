"""FastF1, the only place the app touches it.

FastF1 is synchronous, slow (a race takes 2 to 12 s to load) and keeps ~400 MB per
loaded session, so a load never runs in the server process: :class:`FastF1Client` sends
it to a process pool (``spawn``/``forkserver``, so a worker inherits nothing of the
server) and the worker returns compact payload bytes that the caller caches and decodes.

One module per concern:

* :mod:`.config`: FastF1's module-level patch points (upstream URLs, HTTP cache, rate
  limiter), :class:`FastF1Config`;
* :mod:`.probe`: every HTTP request FastF1 sends, timed out, counted, and checked for a
  truncated body;
* :mod:`.load`: one load in the worker, FastF1's failures translated into ours;
* :mod:`.extract`: the loaded session's pandas frames as domain objects;
* :mod:`.payload`: those objects as bytes and back (no FastF1 or pandas);
* :mod:`.client`: the process pool.

FastF1 and pandas are imported inside functions that run in the worker only, so
importing this package in the server costs nothing.
"""

from pypole_gql.upstream.fastf1.client import FastF1Client, StartMethod
from pypole_gql.upstream.fastf1.config import (
    UPSTREAM_JOLPICA_URL,
    UPSTREAM_LIVETIMING_MIRROR_URL,
    UPSTREAM_LIVETIMING_URL,
    UPSTREAM_MVAPI_URL,
    UPSTREAM_SCHEDULE_URL,
    FastF1Config,
    configure_fastf1,
    is_loopback,
)
from pypole_gql.upstream.fastf1.extract import extract_session_data
from pypole_gql.upstream.fastf1.load import (
    load_session_payload,
    normalise_race,
    normalise_session_type,
)
from pypole_gql.upstream.fastf1.payload import (
    FORMAT_VERSION,
    PayloadError,
    decode_payload,
    encode_payload,
    payload_meta,
)

__all__ = [
    "FORMAT_VERSION",
    "UPSTREAM_JOLPICA_URL",
    "UPSTREAM_LIVETIMING_MIRROR_URL",
    "UPSTREAM_LIVETIMING_URL",
    "UPSTREAM_MVAPI_URL",
    "UPSTREAM_SCHEDULE_URL",
    "FastF1Client",
    "FastF1Config",
    "PayloadError",
    "StartMethod",
    "configure_fastf1",
    "decode_payload",
    "encode_payload",
    "extract_session_data",
    "is_loopback",
    "load_session_payload",
    "normalise_race",
    "normalise_session_type",
    "payload_meta",
]
