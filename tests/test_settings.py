"""Settings from the environment: embedded defaults, PostgreSQL/Redis switches, production guards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DJANGO_DEBUG",
            "DJANGO_SETTINGS_MODULE",
            "PORT",
            "SITE_URL",
            "LOG_FORMAT",
            "LOG_LEVEL",
        }
    }
    clean.update(
        {
            "PAPERMAIL_VAR_DIR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "newsletter.settings",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def show(setting: str, env: dict[str, str], tmp_path: Path) -> str:
    code = f"from django.conf import settings; print(repr({setting}))"
    result = manage("shell", "-c", code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_with_no_variables_it_uses_sqlite_and_the_filesystem_broker(tmp_path: Path) -> None:
    assert "sqlite3" in show("settings.DATABASES['default']['ENGINE']", {}, tmp_path)
    assert show("settings.CELERY_BROKER_URL", {}, tmp_path) == "'filesystem://localhost//'"
    assert (tmp_path / "var" / "broker" / "queue").is_dir()
    assert "locmem" in show("settings.CACHES['default']['BACKEND']", {}, tmp_path)


def test_database_url_and_redis_url_switch_to_postgresql_and_redis(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": "postgres://u@db.example:5432/pm",
        "REDIS_URL": "redis://cache.example:6379/2",
    }
    assert show("settings.DATABASES['default']['ENGINE']", env, tmp_path) == "'django.db.backends.postgresql'"
    assert show("settings.DATABASES['default']['CONN_HEALTH_CHECKS']", env, tmp_path) == "True"
    assert show("settings.CELERY_BROKER_URL", env, tmp_path) == "'redis://cache.example:6379/2'"
    assert "RedisCache" in show("settings.CACHES['default']['BACKEND']", env, tmp_path)
    assert (
        show(
            "settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']"
            " > settings.CELERY_TASK_TIME_LIMIT",
            env,
            tmp_path,
        )
        == "True"
    )


def test_celery_broker_url_wins_over_redis_url(tmp_path: Path) -> None:
    env = {
        "REDIS_URL": "redis://cache.example:6379/2",
        "CELERY_BROKER_URL": "amqp://guest@mq.example//",
    }
    assert show("settings.CELERY_BROKER_URL", env, tmp_path) == "'amqp://guest@mq.example//'"


def test_the_celery_app_is_set_for_a_safe_send_pipeline(tmp_path: Path) -> None:
    code = (
        "from newsletter.celery import app; c = app.conf; "
        "print(c.task_acks_late, c.task_reject_on_worker_lost,"
        " c.worker_prefetch_multiplier, c.beat_scheduler)"
    )
    result = manage("shell", "-c", code, env={}, tmp_path=tmp_path)
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True",
        "True",
        "1",
        "django_celery_beat.schedulers:DatabaseScheduler",
    ]


def test_a_time_limit_above_the_visibility_timeout_refuses_to_start(tmp_path: Path) -> None:
    env = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CELERY_VISIBILITY_TIMEOUT": "600",
        "CELERY_TASK_TIME_LIMIT": "900",
    }
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "must stay below the broker visibility_timeout" in result.stderr


def test_production_mode_refuses_to_start_without_secret_key_and_allowed_hosts(
    tmp_path: Path,
) -> None:
    result = manage("check", env={"DJANGO_DEBUG": "0"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DJANGO_DEBUG=0 (production) needs SECRET_KEY and ALLOWED_HOSTS" in result.stderr


def test_production_settings_pass_the_deploy_check_with_no_warnings(tmp_path: Path) -> None:
    env = {
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "q8Zr-3vN!pX2@tLm9#Wc7$yHb4%Kd6^Fs1&Gj5*Ue0(Ai)Ro_Tn+Ml=Vw",
        "ALLOWED_HOSTS": "papers.example.org",
        "SITE_URL": "https://papers.example.org",
        "ANYMAIL_PROVIDER": "postmark",
        "ANYMAIL_POSTMARK_SERVER_TOKEN": "server-token",
        "WEBHOOK_SECRET": "hook:s3cret",
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "SECRET_KEY": "q8Zr-3vN!pX2@tLm9#Wc7$yHb4%Kd6^Fs1&Gj5*Ue0(Ai)Ro_Tn+Ml=Vw",
    "ALLOWED_HOSTS": "papers.example.org",
    "SITE_URL": "https://papers.example.org",
}


def test_production_with_a_provider_and_no_webhook_secret_fails_the_deploy_check(tmp_path: Path) -> None:
    env = {**PRODUCTION, "ANYMAIL_PROVIDER": "postmark", "ANYMAIL_POSTMARK_SERVER_TOKEN": "server-token"}
    result = manage("check", "--deploy", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "papermail.E002" in result.stderr and "WEBHOOK_SECRET" in result.stderr


def test_production_with_an_empty_webhook_secret_fails_the_deploy_check(tmp_path: Path) -> None:
    env = {
        **PRODUCTION,
        "ANYMAIL_PROVIDER": "postmark",
        "ANYMAIL_POSTMARK_SERVER_TOKEN": "server-token",
        "ANYMAIL_WEBHOOK_SECRET": "",
    }
    result = manage("check", "--deploy", env=env, tmp_path=tmp_path)
    assert result.returncode != 0 and "papermail.E002" in result.stderr


def test_production_mailgun_needs_its_signing_key_not_a_webhook_secret(tmp_path: Path) -> None:
    env = {
        **PRODUCTION,
        "ANYMAIL_PROVIDER": "mailgun",
        "ANYMAIL_MAILGUN_API_KEY": "key-1",
        "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY": "",
        "WEBHOOK_SECRET": "hook:s3cret",
    }
    result = manage("check", "--deploy", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "papermail.E002" in result.stderr and "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY" in result.stderr
    env["ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY"] = "signing-key"
    del env["WEBHOOK_SECRET"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_without_webhooks_has_no_webhook_error(tmp_path: Path) -> None:
    env = {**PRODUCTION, "EMAIL_URL": "smtp+tls://user:pass@smtp.example.org:587"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_in_development_a_provider_without_webhook_authentication_is_a_warning(tmp_path: Path) -> None:
    env = {"ANYMAIL_PROVIDER": "postmark", "ANYMAIL_POSTMARK_SERVER_TOKEN": "server-token"}
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 0 and "papermail.W001" in result.stderr


def test_anymail_provider_and_its_keys_come_from_the_environment(tmp_path: Path) -> None:
    env = {
        "ANYMAIL_PROVIDER": "mailgun",
        "ANYMAIL_MAILGUN_API_KEY": "key-1",
        "ANYMAIL_MAILGUN_API_URL": "https://api.eu.mailgun.net/v3",
        "WEBHOOK_SECRET": "u:p",
    }
    assert show("settings.EMAIL_BACKEND", env, tmp_path) == "'anymail.backends.mailgun.EmailBackend'"
    anymail = show("sorted(settings.ANYMAIL.items())", env, tmp_path)
    assert (
        anymail == "[('MAILGUN_API_KEY', 'key-1'), ('MAILGUN_API_URL', 'https://api.eu.mailgun.net/v3'),"
        " ('WEBHOOK_SECRET', 'u:p')]"
    )


def test_email_url_selects_smtp(tmp_path: Path) -> None:
    env = {"EMAIL_URL": "smtp+tls://user:pass@smtp.example.org:587"}
    assert show(
        "(settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS)",
        env,
        tmp_path,
    ) == ("('newsletter.mail_backends.SMTPBackend', 'smtp.example.org', 587, True)")


def test_by_default_mail_is_written_to_files(tmp_path: Path) -> None:
    assert show("settings.EMAIL_BACKEND", {}, tmp_path) == "'newsletter.mail_backends.EmlFileBackend'"


def test_an_unknown_provider_fails_the_system_check(tmp_path: Path) -> None:
    result = manage("check", env={"ANYMAIL_PROVIDER": "nosuchprovider"}, tmp_path=tmp_path)
    assert result.returncode != 0 and "papermail.E001" in result.stderr


def test_production_without_a_provider_is_flagged_by_the_deploy_check(tmp_path: Path) -> None:
    env = {
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "q8Zr-3vN!pX2@tLm9#Wc7$yHb4%Kd6^Fs1&Gj5*Ue0(Ai)Ro_Tn+Ml=Vw",
        "ALLOWED_HOSTS": "x.example.org",
    }
    result = manage("check", "--deploy", env=env, tmp_path=tmp_path)
    assert "papermail.W002" in result.stderr and "papermail.W003" in result.stderr


def test_anymail_numbers_and_flags_arrive_typed(tmp_path: Path) -> None:
    env = {
        "ANYMAIL_PROVIDER": "mailgun",
        "ANYMAIL_REQUESTS_TIMEOUT": "3",
        "ANYMAIL_IGNORE_UNSUPPORTED_FEATURES": "True",
    }
    assert (
        show(
            "(settings.ANYMAIL['REQUESTS_TIMEOUT'], settings.ANYMAIL['IGNORE_UNSUPPORTED_FEATURES'])",
            env,
            tmp_path,
        )
        == "(3.0, True)"
    )
    env["ANYMAIL_REQUESTS_TIMEOUT"] = "3.5,25"
    assert show("settings.ANYMAIL['REQUESTS_TIMEOUT']", env, tmp_path) == "(3.5, 25.0)"


def test_admin_sign_in_is_throttled_by_django_axes_with_limits_from_the_environment(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.AUTHENTICATION_BACKENDS[0], s.MIDDLEWARE[-1], s.AXES_FAILURE_LIMIT, "
        "s.ADMIN_LOGIN_USERNAME_FAILURE_LIMIT, s.AXES_LOCKOUT_PARAMETERS, s.AXES_COOLOFF_TIME)"
    )
    defaults = manage("shell", "-c", code, env={}, tmp_path=tmp_path)
    assert defaults.stdout.splitlines()[-1].split() == [
        "axes.backends.AxesStandaloneBackend",
        "axes.middleware.AxesMiddleware",
        "5",
        "20",
        "[['username',",
        "'ip_address'],",
        "'username']",
        "0:15:00",
    ], defaults.stderr
    env = {
        "ADMIN_LOGIN_FAILURE_LIMIT": "3",
        "ADMIN_LOGIN_USERNAME_FAILURE_LIMIT": "0",
        "ADMIN_LOGIN_COOLOFF_MINUTES": "60",
    }
    changed = manage("shell", "-c", code, env=env, tmp_path=tmp_path)
    assert changed.stdout.splitlines()[-1].split()[2:] == [
        "3",
        "0",
        "[['username',",
        "'ip_address']]",
        "1:00:00",
    ], changed.stderr


def test_in_development_the_site_url_follows_the_port_the_server_listens_on(tmp_path: Path) -> None:
    assert show("settings.SITE_URL", {}, tmp_path) == "'http://localhost:8000'"
    assert show("settings.SITE_URL", {"PORT": "8123"}, tmp_path) == "'http://localhost:8123'"


def test_a_site_url_that_is_set_wins_over_the_port(tmp_path: Path) -> None:
    env = {"PORT": "8123", "SITE_URL": "https://papers.example.org/"}
    assert show("settings.SITE_URL", env, tmp_path) == "'https://papers.example.org'"


def test_in_production_the_port_does_not_make_the_site_url(tmp_path: Path) -> None:
    # Behind a proxy the port gunicorn binds is not the one readers use.
    env = {
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "q8Zr-3vN!pX2@tLm9#Wc7$yHb4%Kd6^Fs1&Gj5*Ue0(Ai)Ro_Tn+Ml=Vw",
        "ALLOWED_HOSTS": "x.example.org",
        "PORT": "8123",
    }
    assert show("settings.SITE_URL", env, tmp_path) == "'http://localhost:8000'"


def test_an_unknown_log_format_refuses_to_start(tmp_path: Path) -> None:
    result = manage("check", env={"LOG_FORMAT": "xml"}, tmp_path=tmp_path)
    assert result.returncode != 0 and "LOG_FORMAT must be plain or json, not 'xml'" in result.stderr
