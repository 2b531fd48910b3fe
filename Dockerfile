# mb-ci as a container: the GitHub container Action, and the image GitLab CI and Jenkins run.
# Build:  docker build $(mb-ci labels --format build-args) -t mb-ci .
# The base is a build argument so that mirrors and pinned digests can be used.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# git: GitPython runs it to read the checkout. Not pinned: Debian's mirror keeps only the current
# security release of a package, so a pinned version stops building at the next update.
# Without recommends, documentation, manuals or translations, and with apt's downloaded
# packages removed (a base without docker-clean keeps them): see docs/performance.md.
# hadolint ignore=DL3008
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' \
      'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
      >/etc/dpkg/dpkg.cfg.d/mb-ci-nodoc \
 && apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log

# Locked, hashed dependencies (scripts/lock-container), wheels only, no pip cache.
COPY requirements/container.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes --only-binary :all: -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# mb-ci itself, with the locked setuptools (no build isolation, so nothing unhashed is fetched);
# `pip check` fails the build when the lock misses a dependency pyproject.toml gained.
COPY pyproject.toml README.md /src/
COPY mb_ci /src/mb_ci
# The link puts `mb-ci` on PATH for `sh -c` jobs when the base keeps scripts elsewhere.
RUN pip install --no-cache-dir --no-deps --no-build-isolation /src \
 && pip check \
 && rm -rf /src \
 && scripts="$(python -c 'import sysconfig; print(sysconfig.get_path("scripts"))')" \
 && { command -v mb-ci >/dev/null || ln -s "$scripts/mb-ci" /usr/local/bin/mb-ci; } \
 && mb-ci --version

COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["--help"]

# Labels last, so that a new commit does not invalidate the layers above. The build arguments
# are the ones `mb-ci labels --format env` prints; `--label` flags from
# `mb-ci labels --format build-args` override these.
ARG BUILD_DATE=""
ARG VCS_REF=""
ARG VCS_URL=""
ARG VERSION=""
LABEL org.opencontainers.image.title="mb-ci" \
      org.opencontainers.image.description="Check that a container image's labels tell the truth about the git checkout it was built from." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.source="${VCS_URL}" \
      org.opencontainers.image.version="${VERSION}"
