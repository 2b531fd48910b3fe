"""The engine is found like the docker CLI finds it: DOCKER_HOST first, else the current context."""

from __future__ import annotations

import subprocess

from helpers.clock import now
from helpers.git import SOURCE


def _image(repo, build_image):
    created = now()
    return build_image(
        {
            "org.opencontainers.image.revision": repo.head,
            "org.opencontainers.image.source": SOURCE,
            "org.opencontainers.image.created": created,
        }
    )


def _context(config_dir, name, host):
    env = {"DOCKER_CONFIG": str(config_dir), "PATH": "/usr/local/bin:/usr/bin:/bin"}
    subprocess.run(
        ["docker", "context", "create", name, "--docker", f"host={host}"],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(["docker", "context", "use", name], env=env, check=True, capture_output=True)


def test_current_context_is_used_when_docker_host_is_unset(repo, build_image, mbci, tmp_path):
    tag = _image(repo, build_image)
    config = tmp_path / "docker-config"
    config.mkdir()
    _context(config, "elsewhere", "unix:///nonexistent/docker.sock")
    env = {"DOCKER_CONFIG": str(config)}
    # the context points at nothing, so honouring it means failing to reach the engine
    result = mbci("check", tag, cwd=repo.path, env=env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "cannot reach the Docker engine" in result.stderr
    # DOCKER_HOST wins over the context, as with the CLI
    ok = mbci(
        "check", tag, cwd=repo.path, env={**env, "DOCKER_HOST": "unix:///var/run/docker.sock"}
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # and DOCKER_CONTEXT=default picks the default engine again
    default = mbci("check", tag, cwd=repo.path, env={**env, "DOCKER_CONTEXT": "default"})
    assert default.returncode == 0, default.stdout + default.stderr
