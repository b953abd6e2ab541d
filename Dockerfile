# OzonSeat: one image for web (gunicorn), Celery worker, beat and one-off commands (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=ozonseat.settings \
    OZONSEAT_VAR_DIR=/var/lib/ozonseat \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

RUN useradd --system --create-home --home-dir /home/ozonseat ozonseat \
    && mkdir -p /var/lib/ozonseat /app/staticfiles \
    && chown ozonseat:ozonseat /var/lib/ozonseat /app/staticfiles

# Dependencies first, so code changes do not reinstall them. The project installs no packages of its own
# ([tool.setuptools] packages = []): the code runs from /app.
COPY pyproject.toml README.md ./
RUN pip install .

# Application code (tests, caches and local data are left out by .dockerignore).
COPY . .

USER ozonseat
EXPOSE 8000
CMD ["gunicorn", "ozonseat.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30"]
