# Signet: slim, non-root, migrates then serves. Configure it with SIGNET_* variables.
#
# The base image is pinned by the digest of its multi-platform index, as docker-library/repo-info
# records it for python:3.11.16-slim-bookworm (built 2026-09-01). It was not pulled here (no
# registry but PyPI, Debian and npm can be reached), so the digest was not checked against
# Docker Hub: should the build fail to find it, take the current one from
# `docker buildx imagetools inspect python:3.11.16-slim-bookworm` and pin that.
FROM python:3.11.16-slim-bookworm@sha256:c425d915a89a6dcd3183b1797ad9bd8878caff5a417f6371c8df93c8ea8b727f

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SIGNET_ENV=production \
    SIGNET_DATABASE_URL=sqlite+aiosqlite:////data/signet.db

WORKDIR /app
# Every dependency, and the build backend, at the version and hashes the lock names (made by
# pip-compile for CPython 3.11 on Linux; see docs/operations.md). Then Signet itself, which adds
# nothing: --no-deps, and built with that locked backend rather than one fetched unpinned.
COPY deploy/requirements.lock ./deploy/requirements.lock
RUN pip install --require-hashes -r deploy/requirements.lock
COPY pyproject.toml README.md LICENSE alembic.ini ./
COPY api ./api
COPY alembic ./alembic
RUN pip install --no-deps --no-build-isolation . \
    && useradd --system --uid 10001 --home-dir /app signet \
    && mkdir /data && chown signet /data

USER signet
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# Through the signet command, so the service's own protections apply: request heads bounded in
# size and time, no proxy headers (Signet reads X-Forwarded-For itself, from
# SIGNET_TRUSTED_PROXIES only), no server header, no uvicorn access log (Signet logs each request
# itself). Without a secret key, a provider and a public URL it refuses to start (exit 3), naming
# each. The migrations ship inside the package (api/migrations), where `signet migrate` finds them.
CMD ["sh", "-c", "signet migrate && exec signet serve --host 0.0.0.0 --port 8000"]
