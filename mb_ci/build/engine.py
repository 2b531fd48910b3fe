"""Build an image through the Docker SDK's low-level API and stream its log to the user."""

from __future__ import annotations

import os
import re
import shutil
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from mb_ci.errors import ImageError, UsageError
from mb_ci.safety import printable, redact

BUILD_TIMEOUT = 6 * 3600  # seconds between two chunks of the build log: long RUN steps are normal
TAIL_LINES = 20
_STEP = re.compile(r"^Step \d+/\d+ :")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class BuildRequest:
    context: str
    dockerfile: str
    tags: tuple[str, ...]
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    platform: str | None = None
    pull: bool = False
    no_cache: bool = False


def build(request: BuildRequest, log: TextIO) -> str:
    """Build ``request``; stream the log to ``log``; return the image id. Exit 3 on failure."""
    from docker.errors import APIError, DockerException
    from requests.exceptions import RequestException

    from mb_ci.sources.daemon import client, reason

    if not os.path.isdir(request.context):
        raise UsageError(f"{request.context}: no such directory", "give the build context")
    engine = client()
    progress = Progress(log, log.isatty())
    try:
        if request.platform and not _supports_platform(engine):
            raise UsageError(
                f"--platform {request.platform}: this engine's API is too old (needs 1.38)"
            )
        stream = engine.api.build(
            path=request.context,
            dockerfile=os.path.abspath(request.dockerfile),
            tag=request.tags[0],
            buildargs=dict(request.build_args),
            labels=dict(request.labels),
            target=request.target,
            platform=request.platform,
            pull=request.pull,
            nocache=request.no_cache,
            rm=True,
            forcerm=True,
            decode=True,
            timeout=BUILD_TIMEOUT,
        )
        image_id = progress.follow(stream)
        for extra in request.tags[1:]:
            repo, _, tag = extra.rpartition(":") if _has_tag(extra) else (extra, "", "latest")
            engine.api.tag(image_id, repo, tag)
        return image_id
    except APIError as e:
        progress.close()
        raise ImageError(f"build failed: {printable(str(e.explanation or e), 500)}") from e
    except (DockerException, RequestException) as e:
        progress.close()
        raise ImageError(
            f"cannot reach the Docker engine: {reason(e)}", "start the engine, or set DOCKER_HOST"
        ) from e
    finally:
        engine.close()


def _supports_platform(engine: Any) -> bool:
    from docker.utils import version_gte

    return bool(version_gte(engine.api.api_version, "1.38"))


def _has_tag(ref: str) -> bool:
    return ":" in ref.rsplit("/", 1)[-1]


class Progress:
    """Plain log lines, or on a terminal one line showing the step being run."""

    def __init__(self, out: TextIO, tty: bool) -> None:
        self.out, self.tty = out, tty
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.shown = False

    def follow(self, chunks: Iterable[Mapping[str, Any]]) -> str:
        image_id: str | None = None
        for chunk in chunks:
            if "error" in chunk or "errorDetail" in chunk:
                detail = chunk.get("errorDetail") or {}
                message = str(chunk.get("error") or detail.get("message") or "unknown error")
                self._fail(message)
            aux = chunk.get("aux")
            if isinstance(aux, Mapping) and isinstance(aux.get("ID"), str):
                image_id = aux["ID"]
            text = chunk.get("stream")
            if isinstance(text, str):
                for line in text.splitlines():
                    self._line(line)
                    m = re.match(r"^Successfully built ([0-9a-f]{12,64})$", line.strip())
                    if m and image_id is None:
                        image_id = m.group(1)
            elif isinstance(chunk.get("status"), str) and self.tty:
                self._show(f"{chunk.get('id', '')} {chunk['status']}".strip())
        self.close()
        if image_id is None:
            raise ImageError("the engine did not say which image it built", "build again")
        return image_id

    def _line(self, raw: str) -> None:
        line = printable(redact(_ANSI.sub("", raw)), 2000)  # e.g. a token in a pip index URL
        if not line.strip():
            return
        self.tail.append(line)
        if not self.tty:
            self.out.write(line + "\n")
            self.out.flush()
        elif _STEP.match(line):
            self._show(line)

    def _show(self, line: str) -> None:
        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        self.out.write("\r\x1b[K" + printable(line, width))
        self.out.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.out.write("\r\x1b[K")
            self.out.flush()
            self.shown = False

    def _fail(self, message: str) -> None:
        self.close()
        if self.tty and self.tail:  # the log was hidden behind the progress line: show its end
            self.out.write("".join(f"  {line}\n" for line in self.tail))
        raise ImageError(f"build failed: {printable(redact(message.strip()), 500)}")
