# One image for every process of the service (api, crawl worker, outbox relay, consumers).
FROM python:3.11-slim

ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir uv
WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev

RUN useradd --system --home /app tracklists && mkdir -p /app/var && chown tracklists /app/var
USER tracklists
ENV PATH="/app/.venv/bin:$PATH"
EXPOSE 8000
CMD ["tracklists", "serve"]
