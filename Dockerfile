# syntax=docker/dockerfile:1
# One image for every windhash service: docker-compose.yml and deploy/kubernetes pick the service with the
# command (`windhash calculator`, `windhash api`, ...). Two stages: the first builds a virtualenv from the
# runtime lock alone (requirements.lock: no test or lint tools) and the project's wheel; the second copies
# that virtualenv into a slim image and runs it as an unprivileged user.
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/windhash
COPY requirements.lock ./
RUN /opt/windhash/bin/pip install --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY libs ./libs
COPY services ./services
COPY cli ./cli
RUN /opt/windhash/bin/pip install --no-deps . \
    && /opt/windhash/bin/pip uninstall --yes pip

FROM python:3.11.14-slim-bookworm AS runtime
# libpq's password file, DSNs and the Kafka SASL password come from the environment or mounted secrets.
ENV PATH=/opt/windhash/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 WINDHASH_LOG_JSON=true \
    WINDHASH_METRICS_HOST=0.0.0.0
RUN groupadd --system --gid 10001 windhash \
    && useradd --system --uid 10001 --gid windhash --home-dir /home/windhash --create-home windhash
COPY --from=build /opt/windhash /opt/windhash
USER 10001:10001
WORKDIR /home/windhash
# Workers answer /health on WINDHASH_METRICS_PORT (set it for every worker), the API on WINDHASH_API_PORT:
# `windhash health` asks whichever this container runs (a simulator: `--url`).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["windhash", "health"]
ENTRYPOINT ["windhash"]
CMD ["--help"]
