# The bot in a small image that runs as an unprivileged user.
#   docker build -t ct-discord-bot .
#   docker run --env-file .env -v ct-bot-data:/data ct-discord-bot
#   docker run --env-file .env ct-discord-bot check     (check a deployment, then exit)
# docker-compose.yml runs it with PostgreSQL.

# -- build: the pinned runtime dependencies and the bot, in a virtualenv -----------------
FROM python:3.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY bot ./bot
COPY cogs ./cogs
# requirements.lock pins every version (it also holds the test tools, which the
# constraint does not install: only what pyproject.toml asks for at runtime).
RUN /opt/venv/bin/pip install --no-cache-dir --constraint requirements.lock .

# -- runtime: the virtualenv alone, no compiler, no pip cache, no source tree -------------
FROM python:3.11-slim-bookworm

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data

# A system user with no shell and no password; /data (SQLite file, generated key)
# is its own and readable by nobody else.
RUN useradd --system --uid 10001 --user-group --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin ct-bot \
    && mkdir /data /app \
    && chown ct-bot:ct-bot /data \
    && chmod 0700 /data

COPY --from=build /opt/venv /opt/venv

# Numeric, so the runtime can tell it is not root without reading /etc/passwd.
USER 10001:10001
# An empty working directory: the bot reads ./.env from here, and there is none.
WORKDIR /app
VOLUME ["/data"]

# "check --live" checks only the settings and the database: run every 30 s, a call
# to Discord or Chastity Tracker would spend their rate limits, and neither being
# down is a reason to restart this container.
HEALTHCHECK --interval=30s --timeout=20s --start-period=20s --retries=3 \
    CMD ["python", "-m", "bot", "check", "--live"]

ENTRYPOINT ["python", "-m", "bot"]
