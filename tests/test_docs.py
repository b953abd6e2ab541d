"""README, docker-compose.yml and the settings agree: every environment variable the settings read is
documented, and the compose file sets only variables the settings read."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
READ = re.compile(
    r"""(?:os\.environ\.get|os\.environ\[|env_bool|env_list|env_required)\(?\s*["']([A-Z_]+)["']"""
)


def settings_variables() -> set[str]:
    return set(READ.findall((ROOT / "ozonseat" / "settings.py").read_text()))


def test_the_settings_read_the_expected_variables():
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST", "CLIENT_IP_HEADER"} <= (
        settings_variables()
    )


def test_the_readme_documents_every_variable_the_settings_read():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in settings_variables() if f"`{name}`" not in readme)
    assert missing == []


def test_docker_compose_sets_only_variables_the_settings_read_and_runs_one_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    known = settings_variables() | {"DJANGO_SETTINGS_MODULE"}
    for name in ("web", "worker", "beat", "migrate"):
        environment = services[name]["environment"]
        assert set(environment) <= known, (name, set(environment) - known)
        assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST"} <= set(environment)
    assert "gunicorn ozonseat.wsgi:application" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    beats = [name for name, service in services.items() if " beat" in str(service.get("command", ""))]
    assert beats == ["beat"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert {"db", "redis", "mail", "proxy"} <= set(services)
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "X-Real-IP $remote_addr" in nginx and "X-Forwarded-Proto $scheme" in nginx
    assert services["web"]["environment"]["CLIENT_IP_HEADER"] == "HTTP_X_REAL_IP"
