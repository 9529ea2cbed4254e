"""Production settings plus the benchmark's baseline view (bench/urls.py)."""

from eventmaster.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
