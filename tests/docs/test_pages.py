"""The docs pages in-process: served from the package, with a policy that names no other host."""

from __future__ import annotations

import re

import pytest

from pypole_gql.docs.pages import ASSETS_PATH, missing_assets
from tests.plugins.app import ClientFactory

PAGES = ["/api/v1/docs", "/api/v1/redoc"]
EXTERNAL = re.compile(r"(?:src|href)=\"(?:https?:)?//", re.IGNORECASE)


def test_assets_are_installed() -> None:
    assert missing_assets() == (), "run `uv sync --reinstall-package pypole-gql`"


@pytest.mark.parametrize("path", PAGES)
async def test_page_loads_only_local_assets(make_client: ClientFactory, path: str) -> None:
    async with make_client() as client:
        page = await client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "http" not in csp and "*" not in csp
        assert not EXTERNAL.search(page.text)
        assets = re.findall(r"(?:src|href)=\"(/[^\"]+)\"", page.text)
        assert any(asset.startswith(ASSETS_PATH + "/vendor/") for asset in assets)
        for asset in assets:
            response = await client.get(asset)
            assert response.status_code == 200, asset
            assert "ratelimit" not in {h.lower() for h in response.headers}, asset


async def test_openapi_route_serves_the_document(make_client: ClientFactory) -> None:
    from pypole_gql.rest.openapi import render_openapi

    async with make_client() as client:
        response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.text == render_openapi()


async def test_graphiql_is_our_offline_page(make_client: ClientFactory) -> None:
    async with make_client(graphiql=True) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert f"{ASSETS_PATH}/vendor/graphiql/graphiql.min.js" in page.text
    assert not EXTERNAL.search(page.text) and "unpkg" not in page.text
    assert "http" not in page.headers["content-security-policy"]


async def test_graphiql_off_serves_no_page(make_client: ClientFactory) -> None:
    async with make_client(graphiql=False) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql.min.js" not in page.text
