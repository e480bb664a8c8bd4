# Seatkeeper server image: slim Python 3.11, the package installed, running as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Install the package (not editable) from the source tree; nothing else is copied into the image.
# The import package is the link tree package/seatkeeper/ (pyproject.toml `package-dir`): COPY keeps
# its relative links, which resolve to the layer folders copied beside it.
COPY pyproject.toml README.md ./
COPY package ./package
COPY domain ./domain
COPY rules ./rules
COPY storage ./storage
COPY plugins ./plugins
COPY schema ./schema
COPY resolvers ./resolvers
COPY server ./server
RUN pip install . && rm -rf /app/*

RUN useradd --create-home --uid 10001 seatkeeper && mkdir /data && chown seatkeeper /data
USER seatkeeper

# Where data lives: the SQLite file /data/seatkeeper.db, in a volume that outlives the container
# (`docker run -v seatkeeper-data:/data …`). Set SEATKEEPER_STORAGE=mongodb://… to use MongoDB.
ENV SEATKEEPER_DATA_DIR=/data
VOLUME ["/data"]

# Configuration comes from the environment (README, "Configuration"):
# SEATKEEPER_STORAGE (default: the SQLite file in /data; or mongodb://db:27017/seatkeeper),
# SEATKEEPER_OPERATOR_TOKEN, SEATKEEPER_WORKERS.
ENV SEATKEEPER_PORT=8000
EXPOSE 8000

# python is in the slim image; curl is not, so the health check uses the standard library.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SEATKEEPER_PORT', '8000'), timeout=2)"]

CMD ["seatkeeper", "serve", "--host", "0.0.0.0"]
