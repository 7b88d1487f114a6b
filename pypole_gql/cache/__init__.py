"""Caching, owned here: get-or-load of upstream data, its stores, the freshness of what a
request read, and the whole-response layer.

* :mod:`~pypole_gql.cache.loader` -- :class:`Cache`, get-or-load with single flight and
  stale-on-error (the envelope it stores in :mod:`~pypole_gql.cache.envelope`, store calls
  through :mod:`~pypole_gql.cache.entries`, the cross-process load lock in
  :mod:`~pypole_gql.cache.locks`);
* :mod:`~pypole_gql.cache.stores` -- the Redis and in-process byte stores;
* :mod:`~pypole_gql.cache.freshness` -- the context variable recording how fresh the data a
  request read is (the access log and the response layer read it);
* :mod:`~pypole_gql.cache.responses` -- the whole-response layer (ETag, Cache-Control),
  with its key strategies :mod:`~pypole_gql.cache.graphql_keys` (GraphQL documents) and
  :mod:`~pypole_gql.cache.rest_keys` (REST path and query);
* :mod:`~pypole_gql.cache.memo` -- the in-process memos and LRUs, on ``cachetools``.

The response layers are imported from their modules (they sit above the GraphQL schema);
this package exports the data cache's names.
"""

from pypole_gql.cache.envelope import orjson_decode, orjson_encode
from pypole_gql.cache.freshness import Freshness, note_read
from pypole_gql.cache.loader import DEFAULT_STALE_GRACE, Cache, CacheStats
from pypole_gql.cache.stores import CacheStore, MemoryStore, RedisStore, StoreError

__all__ = [
    "DEFAULT_STALE_GRACE",
    "Cache",
    "CacheStats",
    "CacheStore",
    "Freshness",
    "MemoryStore",
    "RedisStore",
    "StoreError",
    "note_read",
    "orjson_decode",
    "orjson_encode",
]
