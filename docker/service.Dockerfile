# Any passhub service, or the portal: SERVICE names it. Build from the repository root
# (docker compose does):
#   docker build -f docker/service.Dockerfile --build-arg SERVICE=attendance -t passhub/attendance .
# Only the shared kit and that one service go into the image.
FROM python:3.11-slim

ARG SERVICE
# the addresses whose X-Forwarded-* headers uvicorn believes: the portal, behind a proxy,
# is built with "*"; the services answer the portal and the proxy directly
ARG FORWARDED_ALLOW_IPS=127.0.0.1,::1

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PASSHUB_SERVICE=${SERVICE} \
    FORWARDED_ALLOW_IPS=${FORWARDED_ALLOW_IPS}

WORKDIR /app

COPY shared/ shared/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<name>" >&2; exit 1; } \
 && pip install ./shared "./services/${SERVICE}" \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin passhub

USER passhub
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# uvicorn reads FORWARDED_ALLOW_IPS (and WEB_CONCURRENCY) from the environment
CMD ["sh", "-c", "exec uvicorn \"passhub_${PASSHUB_SERVICE}.main:app\" --host 0.0.0.0 --port 8000"]
