"""Registry credentials, found the way the docker CLI finds them, and auth challenge parsing.

Order: ``--username``/``--password-stdin`` (or ``MB_CI_REGISTRY_USERNAME``/``_PASSWORD``), then
``REGISTRY_AUTH_FILE`` (podman/skopeo's auth.json), then ``$DOCKER_CONFIG/config.json`` or
``~/.docker/config.json``. Config files are parsed by the Docker SDK's ``docker.auth`` (``auths``,
``credHelpers``, ``credsStore``, identity tokens, docker.io's legacy key); credential helpers
(``docker-credential-NAME get``) run with a time limit. Secrets never enter a message.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mb_ci.errors import RegistryError, UsageError

if TYPE_CHECKING:
    from mb_ci.sources.options import SourceOptions

HELPER_TIMEOUT = 20.0
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Credentials:
    """A user name and password, or an identity (refresh) token. ``repr`` hides the secrets."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    origin: str = ""  # where they came from, for messages: "--username", "config.json", ...

    @property
    def key(self) -> str:
        """Identifies these credentials in a cache without holding the secret itself."""
        import hashlib

        raw = f"{self.username}\0{self.password}\0{self.identity_token}".encode()
        return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header: ``Bearer`` (realm, service, scope) or ``Basic``."""

    scheme: str
    params: dict[str, str]

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")


def parse_challenge(header: str | None) -> Challenge | None:
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


def lookup(registry: str, options: SourceOptions) -> Credentials | None:
    """Credentials for ``registry`` (``host[:port]``, or ``docker.io``), or ``None``."""
    if options.username or options.password:
        if not options.username or not options.password:
            raise UsageError(
                "--username and --password-stdin (or MB_CI_REGISTRY_PASSWORD) go together"
            )
        return Credentials(options.username, options.password, origin="--username")
    auth_file = os.environ.get("REGISTRY_AUTH_FILE")
    if auth_file:
        if not Path(auth_file).is_file():
            raise UsageError(f"REGISTRY_AUTH_FILE={auth_file}: no such file")
        found = _from_file(Path(auth_file), registry, "REGISTRY_AUTH_FILE")
        if found is not None:
            return found
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    if config.is_file():
        return _from_file(config, registry, str(config))
    return None


def _from_file(path: Path, registry: str, origin: str) -> Credentials | None:
    from docker import errors as docker_errors

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not an object")
        config = _load_config(raw)
        entry = config.resolve_authconfig(registry)
    except (OSError, ValueError, docker_errors.InvalidConfigFile) as e:
        raise RegistryError(
            f"{origin}: cannot read credentials ({type(e).__name__})", "fix or remove the file"
        ) from e
    except docker_errors.DockerException as e:
        raise RegistryError(f"{origin}: credential helper failed for {registry}") from e
    return _credentials(entry, origin) if entry else None


def _credentials(entry: dict[str, Any], origin: str) -> Credentials | None:
    token = entry.get("IdentityToken") or entry.get("identitytoken") or ""
    user = entry.get("username") or entry.get("Username") or ""
    password = entry.get("password") or entry.get("Password") or ""
    if not (token or (user and password)):
        return None
    return Credentials(str(user), str(password), str(token), origin)


class _HelperStore:
    """``docker-credential-NAME get`` with a time limit (the SDK's ``Store`` has none)."""

    def __init__(self, name: str) -> None:
        self.program = f"docker-credential-{name}"

    def get(self, server: str) -> dict[str, Any]:
        from docker import credentials

        try:
            proc = subprocess.run(
                [self.program, "get"],
                input=server.encode(),
                capture_output=True,
                timeout=HELPER_TIMEOUT,
                check=False,
            )
        except FileNotFoundError as e:
            raise credentials.StoreError(f"{self.program} is not on PATH") from e
        except subprocess.TimeoutExpired as e:
            raise credentials.StoreError(f"{self.program} timed out") from e
        if proc.returncode != 0:
            out = (proc.stdout + proc.stderr).decode(errors="replace").lower()
            if "credentials not found" in out or "not found" in out:
                raise credentials.CredentialsNotFound(f"{self.program}: no entry")
            raise credentials.StoreError(f"{self.program} exited {proc.returncode}")
        try:
            data = json.loads(proc.stdout)
        except ValueError as e:
            raise credentials.StoreError(f"{self.program} printed no JSON") from e
        if not isinstance(data, dict) or not (data.get("Username") or data.get("Secret")):
            raise credentials.CredentialsNotFound(f"{self.program}: no entry")
        return data


def _load_config(raw: dict[str, Any]) -> Any:
    """The SDK's ``AuthConfig`` parsing ``raw``, with our time-limited helper store."""
    from docker import auth as docker_auth

    class Config(docker_auth.AuthConfig):  # type: ignore[misc]
        def _get_store_instance(self, name: str) -> _HelperStore:
            return _HelperStore(name)

    return Config.load_config(None, raw)
