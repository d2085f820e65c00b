"""`orderdesk serve`: the web server's settings that payments depend on."""

import argparse

from gunicorn.config import Config

from orderdesk.cli import gunicorn_command
from orderdesk.payments.gateways.transport import budget_seconds


def gunicorn_settings(command: list[str]) -> Config:
    """What gunicorn itself reads from the command line `serve` builds."""
    config = Config()
    parsed = config.parser().parse_args(command[3:])
    for name, value in vars(parsed).items():
        if value is not None and name in config.settings:
            config.set(name, value)
    return config


def serve_args():
    return argparse.Namespace(host="127.0.0.1", port=8000, workers=2)


def test_the_request_timeout_outlasts_the_gateway_budget():
    config = gunicorn_settings(gunicorn_command(serve_args()))
    assert budget_seconds() == 90  # 30 s for each of 3 attempts
    assert config.timeout > budget_seconds()
    assert config.graceful_timeout > budget_seconds()


def test_the_request_timeout_follows_a_changed_gateway_budget(settings):
    settings.ORDERDESK_GATEWAY_TIMEOUT_SECONDS = 60
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 4
    config = gunicorn_settings(gunicorn_command(serve_args()))
    assert config.timeout > 300
