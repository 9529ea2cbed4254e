"""The door page's server side (checkin/door.py): the page, its service
worker and manifest, and the vendored scripts with their licences. What the
page does is tested in Chromium (test_browser_door.py)."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from checkin import door

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "localhost"}


def test_the_page_runs_only_its_own_files_and_may_use_the_camera(client):
    answer = client.get("/door/", **HOST)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/html")
    policy = answer["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
    assert answer["Permissions-Policy"].startswith("camera=(self)")
    assert answer["Cache-Control"] == "no-cache"
    page = answer.content.decode()
    assert 'data-api="/api/v1/"' in page and "<script>" not in page  # nothing inline
    for name in ("door/door.js", "door/door.css", "door/vendor/jsQR.js"):
        assert f"/static/{name}" in page
    assert client.get("/door", **HOST).status_code == 301  # to /door/


def test_the_service_worker_keeps_the_page_and_every_file_it_needs(client):
    answer = client.get("/door/sw.js", **HOST)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/javascript")
    assert answer["Cache-Control"] == "no-cache"
    script = answer.content.decode()
    assert f'const CACHE = "door-{door.release()}";' in script
    urls = json.loads(re.search(r"const URLS = (\[.*?\]);", script).group(1))
    assert urls[0] == "/door/" and "/door/manifest.webmanifest" in urls
    assert {f"/static/{name}" for name in door.ASSETS} <= set(urls)
    for url in urls:  # every one of them is there to be kept
        assert client.get(url, **HOST).status_code == 200, url


def test_the_manifest_makes_it_installable(client):
    answer = client.get("/door/manifest.webmanifest", **HOST)
    assert answer["Content-Type"] == "application/manifest+json"
    manifest = answer.json()
    assert manifest["start_url"] == manifest["scope"] == "/door/" and manifest["display"] == "standalone"
    (icon,) = manifest["icons"]
    assert client.get(icon["src"], **HOST)["Content-Type"] == "image/svg+xml"


def test_a_new_release_is_a_new_service_worker(monkeypatch, tmp_path):
    before = door.release()
    changed = tmp_path / "door.js"
    changed.write_text("// another release\n")
    real_find = door.finders.find
    monkeypatch.setattr(
        door.finders, "find", lambda name: str(changed) if name == "door/door.js" else real_find(name)
    )
    door.release.cache_clear()
    try:
        assert door.release() != before
    finally:
        door.release.cache_clear()


@pytest.mark.parametrize("path", ["/door/", "/door/sw.js", "/door/manifest.webmanifest"])
def test_only_reads(client, path):
    assert client.post(path, **HOST).status_code == 405


def test_every_vendored_script_has_its_licence_and_provenance():
    vendor = Path(settings.BASE_DIR) / "checkin" / "static" / "door" / "vendor"
    scripts = sorted(p.name for p in vendor.glob("*.js"))
    assert scripts == ["jsQR.js", "noble-ed25519.js"]
    provenance = (vendor / "README.md").read_text()
    for name in scripts:
        licence = vendor / name.replace(".js", ".LICENSE")
        assert licence.read_text().strip(), licence
        assert f"`{name}`" in provenance and "sha512-" in provenance
