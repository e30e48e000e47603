"""The monitoring settings from the environment: bad values stop start-up with their name."""

from __future__ import annotations

import pytest

from dashboard.config import ConfigError, load_config


def _env(tmp_path, **values: str) -> dict[str, str]:
    return {"DASHBOARD_STATE_DIR": str(tmp_path), **values}


def test_monitoring_settings_are_read_from_the_environment(tmp_path):
    config = load_config(
        _env(
            tmp_path,
            DASHBOARD_ALERT_WEBHOOKS="https://hooks.example.test/a, http://10.0.0.5:9000/b",
            DASHBOARD_METRICS_TOKEN=" token-1 ",
            DASHBOARD_MONITORING_FLUSH_S="2.5",
        )
    )

    assert config.alert_webhooks == ("https://hooks.example.test/a", "http://10.0.0.5:9000/b")
    assert config.metrics_token == "token-1"
    assert config.monitoring_flush_s == 2.5


def test_defaults_send_no_webhook_and_flush_every_five_seconds(tmp_path):
    config = load_config(_env(tmp_path))

    assert config.alert_webhooks == ()
    assert config.metrics_token == ""
    assert config.monitoring_flush_s == 5.0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "DASHBOARD_ALERT_WEBHOOKS",
            "https://ok.test/x,hooks.example.test",
            "DASHBOARD_ALERT_WEBHOOKS: URL 2 must start with https:// (or http://) and name a "
            "host; got 'hooks.example.test'",
        ),
        (
            "DASHBOARD_MONITORING_FLUSH_S",
            "soon",
            "DASHBOARD_MONITORING_FLUSH_S: expected a number of seconds, got 'soon'",
        ),
        (
            "DASHBOARD_MONITORING_FLUSH_S",
            "-1",
            "DASHBOARD_MONITORING_FLUSH_S: expected 0 to 3600 seconds, got '-1'",
        ),
    ],
)
def test_a_bad_value_names_the_setting(tmp_path, name, value, message):
    with pytest.raises(ConfigError) as refused:
        load_config(_env(tmp_path, **{name: value}))

    assert str(refused.value) == message
