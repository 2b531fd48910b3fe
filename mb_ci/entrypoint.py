"""The container's entry point: wait briefly for a remote engine, then run mb-ci or the Action."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

# Subcommands that talk to a Docker engine; the others must not wait for one.
ENGINE_COMMANDS = frozenset({"check", "action", "badges", "audit", "build"})
DEFAULT_WAIT = 30.0


def engine_address(env: Mapping[str, str]) -> tuple[str, int] | None:
    """The host and port of a ``DOCKER_HOST=tcp://…`` engine, or None for a local socket."""
    host = env.get("DOCKER_HOST", "")
    if not host.startswith("tcp://"):
        return None
    parts = urlsplit(host)
    if not parts.hostname:
        return None
    tls = bool(env.get("DOCKER_TLS_VERIFY")) or parts.port == 2376
    try:
        port = parts.port or (2376 if tls else 2375)
    except ValueError:
        return None
    return parts.hostname, port


def wait_for_engine(env: Mapping[str, str], timeout: float) -> bool:
    """Wait until a TCP engine accepts connections (and its client certificates exist).

    GitLab starts the docker-in-docker service next to the job, and the job's script may begin
    before dockerd listens on tcp://docker:2376 or has written the client certificates into the
    shared /certs volume. Returns True when ready or nothing to wait for, False on time-out.
    """
    address = engine_address(env)
    if address is None:
        return True
    cert_dir = env.get("DOCKER_CERT_PATH") if env.get("DOCKER_TLS_VERIFY") else None
    deadline = time.monotonic() + timeout
    while True:
        if cert_dir is None or (Path(cert_dir) / "cert.pem").exists():
            try:
                with socket.create_connection(address, timeout=2):
                    return True
            except OSError:
                pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def main(argv: Sequence[str] | None = None, env: MutableMapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    if args[:1] == ["--wait-for-engine"] or (args[:1] and args[0] in ENGINE_COMMANDS):
        try:
            timeout = float(env.get("MB_CI_ENGINE_WAIT", DEFAULT_WAIT))
        except ValueError:
            timeout = DEFAULT_WAIT
        if not wait_for_engine(env, timeout):
            sys.stderr.write(
                f"mb-ci: the Docker engine at {env.get('DOCKER_HOST')} did not answer within "
                f"{timeout:g}s; going on (set MB_CI_ENGINE_WAIT to wait longer)\n"
            )
    if args[:1] == ["--wait-for-engine"]:
        return 0
    if args[:1] == ["action"]:
        from mb_ci.action import main as action_main

        return action_main(env)
    from mb_ci.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
