# One image for every process of the service (api, crawl worker, outbox relay, consumers).
FROM python:3.11-slim

ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir uv
WORKDIR /app

# Dependencies first, so code changes do not reinstall them. .dockerignore keeps .env, var/,
# .venv, .git and caches out of `COPY . .`.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev

# Everything the service writes is under /app/var, owned by the user it runs as; var/cue is
# where compose mounts the cue-files volume (a new named volume takes this owner).
RUN useradd --system --user-group --home /app tracklists \
    && mkdir -p /app/var/cue \
    && chown -R tracklists:tracklists /app/var
USER tracklists
ENV PATH="/app/.venv/bin:$PATH"
EXPOSE 8000
CMD ["tracklists", "serve"]
