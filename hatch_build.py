"""Build hook: the browser assets of the API docs pages, taken from the npm registry.

Swagger UI, ReDoc and GraphiQL are served from inside the installed package, never from a
CDN, because the dashboards run in closed networks. Their minified bundles are not committed:
this hook downloads the npm tarballs pinned in ``pypole_gql/docs/assets.json``, refuses any
whose sha512 differs from the pinned ``integrity``, and unpacks the listed files into
``pypole_gql/docs/vendor/`` (git-ignored, shipped in the wheel as a build artifact).

It runs for wheels and for the editable install that ``uv sync`` and ``uv run`` make, and
downloads nothing when ``vendor/manifest.json`` already records the pinned versions and the
files on disk still match it. ``python hatch_build.py`` does the same outside a build.

Environment:
  PYPOLE_NPM_REGISTRY (else npm_config_registry)  a registry mirror to download from
  PYPOLE_NPM_TARBALLS  a directory with the tarballs (``NAME-VERSION.tgz``, as ``npm pack``
                       names them) for builds without network; checked like downloads
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCS_DIR = Path("pypole_gql") / "docs"
PINS = DOCS_DIR / "assets.json"
VENDOR = DOCS_DIR / "vendor"
MANIFEST = "manifest.json"
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_ATTEMPTS = 3

Log = Callable[[str], object]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _tarball_name(name: str, version: str) -> str:
    # "@scope/pkg" is packed as "scope-pkg-1.0.0.tgz" and served as ".../@scope/pkg/-/pkg-1.0.0.tgz"
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def _registry(pins: dict[str, Any]) -> str:
    npm_own = os.environ.get("npm_config_registry")  # noqa: SIM112 (the spelling npm sets)
    url = os.environ.get("PYPOLE_NPM_REGISTRY") or npm_own
    return (url or pins["registry"]).rstrip("/")


def _download(url: str) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise RuntimeError(f"refusing to download {url!r}: not an http(s) URL")
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:  # noqa: S310 (scheme checked above)
                data: bytes = response.read()
                return data
        except OSError as exc:
            if attempt == DOWNLOAD_ATTEMPTS:
                raise RuntimeError(f"could not download {url}: {exc}") from exc
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def _tarball(pins: dict[str, Any], package: dict[str, Any], log: Log) -> bytes:
    name, version = package["name"], package["version"]
    filename = _tarball_name(name, version)
    local_dir = os.environ.get("PYPOLE_NPM_TARBALLS")
    if local_dir:
        data = (Path(local_dir) / filename).read_bytes()
        source = str(Path(local_dir) / filename)
    else:
        source = f"{_registry(pins)}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"
        log(f"pypole docs assets: downloading {source}")
        data = _download(source)
    if _integrity(data) != package["integrity"]:
        raise RuntimeError(
            f"{source}: integrity mismatch (expected {package['integrity']}, "
            f"got {_integrity(data)}); refusing to use it"
        )
    return data


def _unpack(data: bytes, files: dict[str, str]) -> dict[str, bytes]:
    """The wanted members of an npm tarball, by their path inside the package folder."""
    wanted: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            # npm tarballs hold one top folder, usually "package/".
            inner = member.name.split("/", 1)[-1]
            if member.isfile() and inner in files:
                handle = tar.extractfile(member)
                assert handle is not None
                wanted[inner] = handle.read()
    missing = sorted(set(files) - set(wanted))
    if missing:
        raise RuntimeError(f"tarball lacks {', '.join(missing)}")
    return wanted


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _up_to_date(vendor: Path, package: dict[str, Any], recorded: dict[str, Any] | None) -> bool:
    if recorded is None:
        return False
    if (recorded.get("version"), recorded.get("integrity")) != (
        package["version"],
        package["integrity"],
    ):
        return False
    hashes: dict[str, str] = recorded.get("files", {})
    if set(hashes) != set(package["files"].values()):
        return False
    for dest, digest in hashes.items():
        path = vendor / dest
        if not path.is_file() or _sha256(path.read_bytes()) != digest:
            return False
    return True


def fetch_assets(root: Path, log: Log = print) -> Path:
    """Make ``vendor/`` under ``root``'s docs package match ``assets.json``; return its path."""
    pins: dict[str, Any] = json.loads((root / PINS).read_text())
    vendor = root / VENDOR
    manifest_path = vendor / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    recorded: dict[str, Any] = manifest.get("packages", {})
    result: dict[str, Any] = {}
    for package in pins["packages"]:
        name = package["name"]
        if _up_to_date(vendor, package, recorded.get(name)):
            result[name] = recorded[name]
            continue
        try:
            members = _unpack(_tarball(pins, package, log), package["files"])
        except (OSError, RuntimeError, tarfile.TarError) as exc:
            raise RuntimeError(
                f"pypole docs assets: cannot get {name}@{package['version']}: {exc}. "
                "Set PYPOLE_NPM_REGISTRY to a reachable npm registry or PYPOLE_NPM_TARBALLS "
                "to a folder of `npm pack` tarballs."
            ) from exc
        hashes = {}
        for src, dest in package["files"].items():
            _write(vendor / dest, members[src])
            hashes[dest] = _sha256(members[src])
        result[name] = {
            "version": package["version"],
            "integrity": package["integrity"],
            "files": hashes,
        }
    # Written last: a build interrupted half-way is redone next time.
    text = json.dumps({"packages": result}, indent=2, sort_keys=True) + "\n"
    if not manifest_path.is_file() or manifest_path.read_text() != text:
        _write(manifest_path, text.encode())
    return vendor


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a plain script: no hatchling needed
    pass
else:

    class DocsAssetsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
        PLUGIN_NAME = "custom"

        def initialize(self, version: str, build_data: dict[str, Any]) -> None:
            fetch_assets(Path(self.root), log=self.app.display_info)


if __name__ == "__main__":
    print(fetch_assets(Path(__file__).resolve().parent))
    sys.exit(0)
