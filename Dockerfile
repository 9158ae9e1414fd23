# Signet: slim, non-root, migrates then serves. Configure it with SIGNET_* variables.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SIGNET_ENV=production \
    SIGNET_DATABASE_URL=sqlite+aiosqlite:////data/signet.db

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY alembic ./alembic
RUN pip install '.[postgresql]' \
    && useradd --system --uid 10001 --home-dir /app signet \
    && mkdir /data && chown signet /data

USER signet
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# Signet reads X-Forwarded-For itself (SIGNET_TRUSTED_PROXIES) and logs each request itself.
CMD ["sh", "-c", "alembic upgrade head && exec uvicorn --factory api.app:create_app --host 0.0.0.0 --port 8000 --no-server-header --no-proxy-headers --no-access-log"]
