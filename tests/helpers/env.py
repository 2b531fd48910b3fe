"""An environment free of any CI system's variables, so tests behave the same everywhere."""

from __future__ import annotations

import os
from collections.abc import Mapping

CI_PREFIXES = (
    "GITHUB_",
    "GITLAB",
    "CI_",
    "JENKINS",
    "GIT_COMMIT",
    "TF_BUILD",
    "BUILD_",
    "SYSTEM_",
    "BITBUCKET_",
    "CIRCLE",
    "BUILDKITE",
    "CHANGE_",
    "RUNNER_",
    "INPUT_",
    "MB_CI_",
    "SOURCE_DATE_EPOCH",
    "NO_COLOR",
    "DOCKER_CONFIG",
    "REGISTRY_AUTH_FILE",
)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without any CI system's variables, plus ``extra``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(CI_PREFIXES) and k not in ("CI",)
    }
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env.update(extra or {})
    return env
