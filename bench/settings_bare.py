"""The benchmarks' baselines as issue #12 measured them: a bare Django 5.2
project, that is ``startproject``'s default middleware, DRF's defaults,
persistent connections, on the same database and models, serving only the
baseline views (bench/urls_bare.py). bench/api_bench.py runs it as a
second gunicorn beside the API's."""

from bench.settings import *  # noqa: F403
from bench.settings import DATABASES

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bench.urls_bare"
REST_FRAMEWORK: dict = {}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # Django's default
