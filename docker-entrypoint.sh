#!/bin/sh
# The image's entrypoint. It runs mb-ci when given mb-ci arguments (none, an option, or a
# subcommand), and runs any other command as it is: Jenkins' docker agent keeps the container
# alive with `cat`, and GitLab CI runs its job script through `sh -c`.
set -e
case "${1:-}" in
  "" | -* | check | labels | policy | checks | badges | lint-dockerfile | build | audit | action)
    exec python -m mb_ci.entrypoint "$@"
    ;;
esac
if command -v "$1" >/dev/null 2>&1; then
  # GitLab's job script (`sh -c`) may start before its docker-in-docker service listens;
  # Jenkins' `cat` only keeps the container alive and must not wait.
  case "${DOCKER_HOST:-}" in
    tcp://*) [ "$1" = cat ] || python -m mb_ci.entrypoint --wait-for-engine || true ;;
  esac
  exec "$@"
fi
# Not a program on PATH: a subcommand of a newer mb-ci, or a typo mb-ci can explain.
exec python -m mb_ci.entrypoint "$@"
