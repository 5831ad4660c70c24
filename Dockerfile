FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_ENV=production

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# Static assets (the offline API docs) are collected at build time with a throwaway key
# (production settings refuse short or example keys).
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 crm \
    && mkdir -p /app/var/media \
    && chown -R crm /app/var

USER 10001
EXPOSE 8000
# Threaded workers: publish this only behind the buffering proxy (deploy/nginx, docker-compose.yml).
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
