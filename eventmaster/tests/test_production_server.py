"""The production configuration behind gunicorn, as the Dockerfile runs it."""

import re
import subprocess
import sys

import pytest
import requests
from django.conf import settings

from eventmaster.tests.server import gunicorn, prepare_shared_cache, server_env

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


def test_without_collectstatic_the_admin_and_the_docs_are_served_not_500():
    """The contract's deployment steps (migrate, createcachetable, gunicorn)
    do not run collectstatic: the manifest storage raised at request time."""
    assert not (settings.BASE_DIR / "staticfiles" / "staticfiles.json").exists(), "run from a clean tree"
    proxied = {"X-Forwarded-Proto": "https"}
    with gunicorn(workers=1, env=server_env()) as base_url:
        login = requests.get(f"{base_url}/admin/login/", headers=proxied, timeout=10)
        assert login.status_code == 200, login.text[:500]
        docs = requests.get(f"{base_url}/api/v1/docs", headers=proxied, timeout=10)
        assert docs.status_code == 200, docs.text[:500]
        # The pages' assets are served too (plain names, from the apps).
        css = re.search(r'href="(/static/[^"]+\.css)"', login.text).group(1)
        assert requests.get(f"{base_url}{css}", headers=proxied, timeout=10).status_code == 200
        script = re.search(r'src="(/static/[^"]+\.js)"', docs.text).group(1)
        assert requests.get(f"{base_url}{script}", headers=proxied, timeout=10).status_code == 200


def test_request_lines_gunicorn_refuses_are_answered_in_the_error_shape():
    proxied = {"X-Forwarded-Proto": "https"}
    with gunicorn(workers=1, env=server_env()) as base_url:
        # Up to 8190 bytes the request reaches Django (gunicorn's default
        # stopped at 4094 with an HTML page).
        long_query = requests.get(
            f"{base_url}/api/v1/events?ignored={'a' * 6000}", headers=proxied, timeout=10
        )
        assert long_query.status_code == 200 and "items" in long_query.json()
        too_long = requests.get(f"{base_url}/api/v1/events?ignored={'a' * 9000}", headers=proxied, timeout=10)
        assert too_long.status_code == 414
        assert too_long.headers["Content-Type"] == "application/json"
        assert too_long.json() == {
            "type": "client_error",
            "errors": [{"code": "request_uri_too_long", "detail": "URI Too Long", "attr": None}],
        }
        # The worker still serves the next request.
        assert requests.get(f"{base_url}/healthz", timeout=10).status_code == 200


def test_a_huge_or_deeply_nested_body_is_413_or_400_behind_gunicorn():
    prepare_shared_cache()  # the login's rate limit counts in the database cache
    proxied = {"X-Forwarded-Proto": "https", "Content-Type": "application/json"}
    with gunicorn(workers=1, env=server_env()) as base_url:
        big = requests.post(
            f"{base_url}/api/v1/auth/register",
            data=b'{"email": "' + b"a" * 3_000_000 + b'"}',
            headers=proxied,
            timeout=30,
        )
        assert big.status_code == 413 and big.json()["errors"][0]["code"] == "request_too_large"
        deep = requests.post(
            f"{base_url}/api/v1/auth/login", data=b"[" * 100_000 + b"]" * 100_000, headers=proxied, timeout=30
        )
        assert deep.status_code == 400 and deep.json()["errors"][0]["code"] == "parse_error"
