"""How settings read the environment, the deployment mode and where local state lives."""

import os
from pathlib import Path

VAR_DIR = Path(os.environ.get("ORDERDESK_VAR_DIR", Path.cwd() / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = env_bool("ORDERDESK_PRODUCTION", False)
