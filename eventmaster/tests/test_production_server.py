"""The production configuration behind gunicorn, as the Dockerfile runs it."""

import subprocess
import sys

import pytest
import requests
from django.conf import settings

from eventmaster.tests.server import gunicorn, server_env

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def test_tls_proxy_setup_health_probe_and_docker_healthcheck():
    env = server_env(SECURE_SSL_REDIRECT="true", ALLOWED_HOSTS="events.example.org,127.0.0.1")
    with gunicorn(workers=1, env=env) as base_url:
        # Plain HTTP is sent to HTTPS, except the health probes.
        plain = requests.get(f"{base_url}/api/v1/me", allow_redirects=False, timeout=10)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        assert requests.get(f"{base_url}/healthz", timeout=10).json() == {"status": "ok"}
        # Behind the TLS proxy: the API answers, with the security headers.
        proxied = requests.get(f"{base_url}/api/v1/me", headers={"X-Forwarded-Proto": "https"}, timeout=10)
        assert proxied.status_code == 401
        assert proxied.json()["errors"][0]["code"] == "not_authenticated"
        assert proxied.headers["Strict-Transport-Security"].startswith("max-age=")
        assert proxied.headers["X-Content-Type-Options"] == "nosniff"
        assert proxied.headers["X-Frame-Options"] == "DENY"
        # An unknown Host is refused, not served.
        assert (
            requests.get(f"{base_url}/healthz", headers={"Host": "evil.example"}, timeout=10).status_code
            == 400
        )
        # The image's HEALTHCHECK script, with the image's environment.
        port = base_url.rsplit(":", 1)[1]
        check = subprocess.run(
            [sys.executable, "scripts/healthcheck.py"],
            env={**env, "PORT": port},
            cwd=settings.BASE_DIR,
            timeout=30,
        )
        assert check.returncode == 0
