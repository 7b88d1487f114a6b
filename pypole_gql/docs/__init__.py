"""The pages a person opens to read the APIs: Swagger UI, ReDoc and GraphiQL, served offline.

Their third-party assets are fetched from the npm registry at build time by ``hatch_build.py``
(pinned versions, checked sha512) into ``vendor/``; ``static/`` and ``templates/`` are ours.
"""
