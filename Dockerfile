# syntax=docker/dockerfile:1
#
# Sessions API image. One image, three roles; the command picks the role:
#   web (default)  gunicorn -c api_project/gunicorn.conf.py  (ASGI: the API and its event streams)
#   worker         celery -A api_project worker -l info
#   beat           celery -A api_project beat -l info --schedule /tmp/celerybeat-schedule
# Configuration comes from the environment at run time (see .env.example); nothing
# secret is baked into the image.

# ------------------------------------------------------------------------------
# builder: resolve and build every dependency once, into a self-contained venv.
# ------------------------------------------------------------------------------
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /build

# Only the pinned requirements, so this layer is reused until they change. Every
# dependency ships a manylinux wheel (psycopg[binary] included), so no compiler or
# apt package is needed here.
COPY requirements.txt .
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels -r requirements.txt

# ------------------------------------------------------------------------------
# runtime: the same base image (the venv's interpreter links stay valid), the venv
# and the code; no build tools, no apt packages, an unprivileged user.
# ------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime

LABEL org.opencontainers.image.title="sessions-api" \
      org.opencontainers.image.description="Django REST API: sessions as a resource, SPA auth, Celery jobs"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH="/opt/venv/bin:${PATH}" \
    DJANGO_SETTINGS_MODULE=api_project.settings \
    GUNICORN_BIND=0.0.0.0:8000

# A fixed numeric uid/gid so orchestrators can verify runAsNonRoot and volumes can be
# chowned to it. --no-log-init keeps a sparse lastlog out of the layer for a high uid.
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app \
       --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

COPY --from=builder /opt/venv /opt/venv
# The code stays owned by root: the service user can read it but never rewrite it.
COPY . .

# Settings refuse to load without a strong secret key when debug is off. This one is
# random and lives only for this one RUN (it is not an ENV, so it is not in the image
# config); collectstatic neither signs nor stores anything with it.
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput

USER 10001:10001

EXPOSE 8000

# The slim image has no curl: probe with the standard library. /healthz is exempt from
# SECURE_SSL_REDIRECT, so plain HTTP reads it. The probe's Host is 127.0.0.1, so
# DJANGO_ALLOWED_HOSTS must keep 127.0.0.1. Worker and beat
# containers override or disable this check (see docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; r = u.urlopen(u.Request('http://127.0.0.1:8000/healthz'), timeout=4); sys.exit(0 if r.status == 200 else 1)"]

CMD ["gunicorn", "-c", "api_project/gunicorn.conf.py"]
