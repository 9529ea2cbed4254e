# EventMaster API: gunicorn on a slim Python 3.11, as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/eventmaster-metrics \
    WEB_CONCURRENCY=3

WORKDIR /app
RUN useradd --system --create-home --uid 10001 eventmaster

# The dependency layer is cached until requirements.txt changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=eventmaster:eventmaster . .
# Static files (admin, Swagger UI) are collected at build time and served by
# whitenoise; the key is only needed to import the settings.
RUN DEBUG=false SECRET_KEY=collectstatic-only-not-a-runtime-key \
        python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R eventmaster:eventmaster /app

USER eventmaster
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "scripts/healthcheck.py"]

# Migrations and the cache table before the server starts (docs/operations.md).
# The same image runs the background workers with another command (as many
# containers as needed; docker stop sends SIGTERM, the worker finishes its
# task first):  docker run ... eventmaster python manage.py run_worker
CMD ["sh", "-c", "rm -rf $PROMETHEUS_MULTIPROC_DIR && mkdir -p $PROMETHEUS_MULTIPROC_DIR && python manage.py migrate --noinput && python manage.py createcachetable && exec gunicorn eventmaster.wsgi:application --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY} --forwarded-allow-ips='*' --no-control-socket"]
