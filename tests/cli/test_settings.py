"""Issue 10: the server's configuration is one typed, frozen `Settings`, checked once
(server/settings.py). Every wrong, empty or hostile value is refused with a message naming the
flag and the variable; the worker processes of `--workers` get the same settings through one JSON
variable, checked again.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from seatkeeper.server.app import app_from_environment, worker_app
from seatkeeper.server.settings import (
    SETTINGS_VARIABLE,
    Settings,
    SettingsError,
    default_storage_url,
)
from seatkeeper.server.transport import LimitedHttpToolsProtocol, TransportLimits

from tests.api.api_support import TestClient

SEATKEEPER = str(Path(sys.executable).parent / "seatkeeper")

EVERYTHING = Settings(
    storage="sqlite:////tmp/x.db?synchronous=FULL",
    host="0.0.0.0",
    port=8443,
    demo=True,
    no_graphiql=True,
    workers=4,
    max_body_bytes=4096,
    sync_log_retention_days=0,
    max_connections=10,
    max_header_bytes=2048,
    max_headers=12,
    header_timeout=0.5,
    body_timeout=2.5,
    keep_alive=1.0,
    auth_failures_burst=3,
    auth_failures_per_minute=6.0,
    token_requests_per_second=2.5,
    trusted_proxies="10.0.0.0/8, 127.0.0.1",
    log_level="warning",
    access_log=True,
    cors_origins=("https://admin.example.com",),
    operator_token="op-secret-123",
)


# ---------------------------------------------------------------- from the environment


def test_an_empty_environment_gives_the_documented_defaults(tmp_path):
    settings = Settings.from_environment({"SEATKEEPER_DATA_DIR": str(tmp_path)})
    assert settings == Settings(storage=f"sqlite:///{tmp_path / 'seatkeeper.db'}")
    assert (settings.port, settings.workers, settings.max_body_bytes) == (8000, 1, 20 * 1024**2)
    assert settings.transport == TransportLimits()
    assert settings.graphiql and settings.operator_token is None


def test_every_documented_variable_is_read():
    environ = {
        "SEATKEEPER_STORAGE": EVERYTHING.storage,
        "SEATKEEPER_HOST": "0.0.0.0",
        "SEATKEEPER_PORT": "8443",
        "SEATKEEPER_NO_GRAPHIQL": "yes",
        "SEATKEEPER_WORKERS": "4",
        "SEATKEEPER_MAX_BODY_BYTES": "4096",
        "SEATKEEPER_SYNC_LOG_RETENTION_DAYS": "0",
        "SEATKEEPER_MAX_CONNECTIONS": "10",
        "SEATKEEPER_MAX_HEADER_BYTES": "2048",
        "SEATKEEPER_MAX_HEADERS": "12",
        "SEATKEEPER_HEADER_TIMEOUT": "0.5",
        "SEATKEEPER_BODY_TIMEOUT": "2.5",
        "SEATKEEPER_KEEP_ALIVE": "1",
        "SEATKEEPER_AUTH_FAILURES_BURST": "3",
        "SEATKEEPER_AUTH_FAILURES_PER_MINUTE": "6",
        "SEATKEEPER_TOKEN_REQUESTS_PER_SECOND": "2.5",
        "SEATKEEPER_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
        "SEATKEEPER_ACCESS_LOG": "1",
        "SEATKEEPER_CORS_ORIGINS": " https://admin.example.com/ ",
        "SEATKEEPER_OPERATOR_TOKEN": "op-secret-123",
    }
    # --demo and --log-level have no variable
    assert Settings.from_environment(environ) == replace(EVERYTHING, demo=False, log_level="info")


def test_an_empty_variable_counts_as_unset_as_for_click():
    settings = Settings.from_environment(
        {"SEATKEEPER_STORAGE": "memory://", "SEATKEEPER_PORT": "", "SEATKEEPER_OPERATOR_TOKEN": ""}
    )
    assert settings.port == 8000 and settings.operator_token is None


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SEATKEEPER_PORT", "http", "--port / SEATKEEPER_PORT: 'http' is not a whole number"),
        ("SEATKEEPER_PORT", "0", "--port / SEATKEEPER_PORT: 0 is not 1 to 65535"),
        ("SEATKEEPER_PORT", "65536", "is not 1 to 65535"),
        ("SEATKEEPER_PORT", "١٢", "is not a whole number"),  # int() would take Arabic digits
        ("SEATKEEPER_PORT", "8_000", "is not a whole number"),
        ("SEATKEEPER_MAX_BODY_BYTES", "9" * 5000, "is not a whole number"),
        ("SEATKEEPER_MAX_BODY_BYTES", "100", "--max-body-bytes / SEATKEEPER_MAX_BODY_BYTES: 100"),
        ("SEATKEEPER_WORKERS", "65", "--workers / SEATKEEPER_WORKERS: 65 is not 1 to 64"),
        ("SEATKEEPER_SYNC_LOG_RETENTION_DAYS", "-1", "-1 is not 0 to 36500"),
        ("SEATKEEPER_HEADER_TIMEOUT", "nan", "--header-timeout / SEATKEEPER_HEADER_TIMEOUT"),
        ("SEATKEEPER_BODY_TIMEOUT", "inf", "'inf' is not a number"),
        ("SEATKEEPER_KEEP_ALIVE", "1e999", "inf is not a finite number of at least 0.1"),
        ("SEATKEEPER_KEEP_ALIVE", "0.01", "0.01 is not a finite number of at least 0.1"),
        ("SEATKEEPER_AUTH_FAILURES_BURST", "0", "--auth-failures-burst"),
        ("SEATKEEPER_TOKEN_REQUESTS_PER_SECOND", "-5", "--token-requests-per-second"),
        ("SEATKEEPER_NO_GRAPHIQL", "maybe", "--no-graphiql / SEATKEEPER_NO_GRAPHIQL: 'maybe'"),
        ("SEATKEEPER_ACCESS_LOG", "2", "--access-log / SEATKEEPER_ACCESS_LOG"),
        ("SEATKEEPER_TRUSTED_PROXIES", "10.0.0.0/33", "--trusted-proxies"),
        ("SEATKEEPER_TRUSTED_PROXIES", "evil.example", "--trusted-proxies"),
        ("SEATKEEPER_CORS_ORIGINS", "javascript:alert(1)", "is not an origin"),
        ("SEATKEEPER_HOST", "   ", "--host / SEATKEEPER_HOST: empty"),
        ("SEATKEEPER_HOST", "localhost\nInjected: 1", "holds a control character"),
        ("SEATKEEPER_HOST", " localhost", "starts or ends with whitespace"),
        ("SEATKEEPER_HOST", "h" * 300, "longer than 253 characters"),
        ("SEATKEEPER_STORAGE", "sqlite:///x.db\x00", "--storage / SEATKEEPER_STORAGE: holds a"),
        ("SEATKEEPER_OPERATOR_TOKEN", "two words", "SEATKEEPER_OPERATOR_TOKEN: holds whitespace"),
        ("SEATKEEPER_OPERATOR_TOKEN", "x" * 2000, "longer than 1024 characters"),
    ],
)
def test_a_wrong_variable_is_refused_by_name(variable, value, expected):
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment({"SEATKEEPER_STORAGE": "memory://", variable: value})
    assert expected in str(raised.value)
    assert len(str(raised.value)) < 300  # one line, a hostile value cut short


def test_secrets_are_never_in_a_message_or_the_repr():
    with pytest.raises(SettingsError) as raised:
        Settings(storage="mongodb://admin:hunter2@db.example\n")
    assert "hunter2" not in str(raised.value)
    with pytest.raises(SettingsError) as raised:
        Settings(storage="memory://", operator_token="hunter2 ")
    assert "hunter2" not in str(raised.value)
    assert "op-secret-123" not in repr(EVERYTHING)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"storage": ""}, "--storage / SEATKEEPER_STORAGE: empty"),
        ({"log_level": "verbose"}, "--log-level: one of debug, info, warning, error"),
        ({"cors_origins": ("https://a.example/",)}, "is not normalised"),
        ({"header_timeout": float("nan")}, "nan is not a finite number"),
        ({"operator_token": ""}, "SEATKEEPER_OPERATOR_TOKEN: empty"),
    ],
)
def test_a_wrong_value_is_refused_when_built_in_code(changes, expected):
    with pytest.raises(SettingsError, match=expected):
        replace(Settings(storage="memory://"), **changes)


def test_the_parts_are_built_from_the_settings():
    assert EVERYTHING.transport == TransportLimits(2048, 12, 0.5, 2.5, 10, 1.0)
    throttle = EVERYTHING.throttle()
    assert (throttle.failures.burst, throttle.failures.per_second) == (3, 0.1)
    assert throttle.per_token is not None and throttle.per_token.per_second == 2.5
    assert len(throttle.trusted_proxies) == 2
    assert EVERYTHING.throttle() is not throttle  # each app its own buckets


# ---------------------------------------------------------------- to the worker processes


def test_the_workers_get_exactly_the_settings_serve_checked():
    assert Settings.from_json(EVERYTHING.to_json()) == EVERYTHING
    assert Settings.from_json(Settings(storage="memory://").to_json()) == Settings("memory://")


def _document(**changes: object) -> str:
    document = {**orjson.loads(EVERYTHING.to_json()), **changes}
    return orjson.dumps({k: v for k, v in document.items() if v is not ...}).decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (_document(host=...), "no 'host'"),
        (_document(port="8443"), "'port' is not a whole number"),
        (_document(port=True), "'port' is not a whole number"),
        (_document(port=0), "--port / SEATKEEPER_PORT: 0 is not 1 to 65535"),
        (_document(keep_alive="1"), "'keep_alive' is not a number"),
        (_document(demo=1), "'demo' is not true or false"),
        (_document(evil_key=1), "unknown keys evil_key"),
        (_document(cors_origins="https://x.example"), "'cors_origins' is not a list"),
        (_document(operator_token="a b"), "holds whitespace"),
    ],
)
def test_a_wrong_settings_variable_is_refused(text, expected):
    with pytest.raises(SettingsError, match=expected):
        Settings.from_json(text)


def test_a_worker_builds_its_app_and_its_limits_from_the_one_variable(monkeypatch):
    settings = replace(
        EVERYTHING, storage="memory://", max_headers=7, cors_origins=(), workers=2, demo=False
    )
    monkeypatch.setattr(LimitedHttpToolsProtocol, "limits", TransportLimits())
    monkeypatch.setenv(SETTINGS_VARIABLE, settings.to_json())
    app = worker_app()
    assert LimitedHttpToolsProtocol.limits.max_headers == 7
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/graphql", headers={"accept": "text/html"}).status_code != 200
        operator = {"authorization": "Bearer op-secret-123"}
        response = client.post("/graphql", json={"query": "{ viewer { role } }"}, headers=operator)
    assert response.json()["data"]["viewer"]["role"] == "OPERATOR"


def test_app_from_environment_refuses_a_wrong_variable(monkeypatch):
    monkeypatch.setenv("SEATKEEPER_STORAGE", "memory://")
    monkeypatch.setenv("SEATKEEPER_MAX_HEADERS", "lots")
    with pytest.raises(SettingsError, match="--max-headers / SEATKEEPER_MAX_HEADERS"):
        app_from_environment()


def test_the_default_storage_follows_the_data_folder(tmp_path):
    assert default_storage_url({"SEATKEEPER_DATA_DIR": str(tmp_path)}).endswith(
        f"{tmp_path}/seatkeeper.db"
    )
    xdg = default_storage_url({"XDG_DATA_HOME": str(tmp_path)})
    assert xdg == f"sqlite:///{tmp_path}/seatkeeper/seatkeeper.db"


# ---------------------------------------------------------------- serve, as a real process


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--header-timeout", "nan"], "--header-timeout / SEATKEEPER_HEADER_TIMEOUT: nan"),
        (["--host", ""], "--host / SEATKEEPER_HOST: empty"),
        (["--trusted-proxies", "10.0.0.300"], "--trusted-proxies / SEATKEEPER_TRUSTED_PROXIES"),
    ],
)
def test_serve_refuses_a_wrong_setting_in_one_line_before_starting(tmp_path, arguments, expected):
    result = subprocess.run(
        [SEATKEEPER, "serve", "--storage", "memory://", *arguments],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
        check=False,  # it must fail: asserted below
    )
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Storage:" not in result.stdout  # refused before the storage was opened


def test_serve_with_an_operator_token_in_the_environment_refuses_whitespace(tmp_path):
    result = subprocess.run(
        [SEATKEEPER, "serve", "--storage", "memory://"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SEATKEEPER_OPERATOR_TOKEN": "a b"},
        timeout=60,
        check=False,  # it must fail: asserted below
    )
    assert result.returncode == 2
    assert "SEATKEEPER_OPERATOR_TOKEN: holds whitespace" in result.stderr


# ---------------------------------------------------------------- the metrics address (issue 9)


def test_issue_9_the_metrics_address_is_read_checked_and_handed_to_the_workers():
    environ = {"SEATKEEPER_METRICS_PORT": "9100", "SEATKEEPER_METRICS_HOST": "10.1.2.3"}
    settings = Settings.from_environment({"SEATKEEPER_STORAGE": "memory://", **environ})
    assert settings.metrics_address == ("10.1.2.3", 9100)
    assert Settings("memory://").metrics_address is None  # off by default
    assert Settings.from_json(settings.to_json()) == settings
    refused = {
        "--metrics-port / SEATKEEPER_METRICS_PORT: serves one process": {
            "metrics_port": 9100,
            "workers": 2,
        },
        "--metrics-port / SEATKEEPER_METRICS_PORT: is --port": {"metrics_port": 8000},
        "--metrics-port / SEATKEEPER_METRICS_PORT: 0 is not 1 to 65535": {"metrics_port": 0},
        "--metrics-host / SEATKEEPER_METRICS_HOST: empty": {"metrics_host": " "},
    }
    for expected, changes in refused.items():
        with pytest.raises(SettingsError, match=expected):
            replace(Settings("memory://"), **changes)


def test_issue_9_serve_refuses_a_separate_metrics_port_with_several_workers(tmp_path):
    result = subprocess.run(
        [SEATKEEPER, "serve", "--storage", "memory://", "--workers", "2", "--metrics-port", "9100"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
        check=False,  # it must fail: asserted below
    )
    assert result.returncode == 2, result.stderr
    assert "--metrics-port" in result.stderr and "one process" in result.stderr
