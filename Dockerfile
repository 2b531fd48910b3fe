# mb-ci as a container: the GitHub container Action, and the image GitLab CI and Jenkins run.
# Build:  docker build $(mb-ci labels --format build-args) -t mb-ci .
# The base is a build argument so that mirrors and pinned digests can be used.
ARG BASE_IMAGE=python:3.12-slim

# git from Debian, in a stage of its own: the final image takes git's program with its
# commands (builtins are links to it; submodule, bisect and the other shell commands are
# small) and its HTTP(S) transport, not the package, whose dependency on perl (47 MB) serves
# only git's Perl commands (svn, send-email, add--interactive), which mb-ci never runs. Left
# out too: the servers (daemon, http-backend, shell), http-push, imap-send and scalar.
# Not pinned: Debian's mirror keeps only the current security release of a package, so a
# pinned version stops building at the next update.
# hadolint ignore=DL3008
FROM ${BASE_IMAGE} AS git
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && mkdir -p /out/usr/bin /out/usr/lib /out/usr/share/git-core \
 && cp -a /usr/bin/git /usr/bin/git-upload-pack /usr/bin/git-receive-pack \
      /usr/bin/git-upload-archive /out/usr/bin/ \
 && cp -a /usr/lib/git-core /out/usr/lib/ \
 && cd /out/usr/lib/git-core \
 && rm git-daemon git-http-backend git-http-push git-http-fetch git-imap-send git-shell \
      git-instaweb scalar git-add--interactive \
 && ! grep -l '^#!.*perl' ./* 2>/dev/null \
 && cp -a /usr/share/git-core/templates /out/usr/share/git-core/ \
 && /out/usr/bin/git --version

FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# What git's program needs beyond the base (libpcre2 and zlib are in it): libcurl for its
# HTTPS transport, so that a job can `git fetch --deepen` before `mb-ci check`, and the CA
# certificates. Without recommends, documentation, manuals or translations, and with apt's
# downloaded packages removed (a base without docker-clean keeps them): see docs/performance.md.
# `apt-get install git` in an image built on this one installs the whole package over it.
# hadolint ignore=DL3008
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' \
      'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
      >/etc/dpkg/dpkg.cfg.d/mb-ci-nodoc \
 && apt-get update \
 && apt-get install -y --no-install-recommends libcurl3-gnutls ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log
COPY --from=git /out/ /
RUN git --version

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
