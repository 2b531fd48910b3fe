FROM scratch AS builder
LABEL org.opencontainers.image.created="2024-05-01T12:00:00Z" \
      org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567
ENV SOURCE=https://github.com/acme/widget

FROM builder
LABEL org.opencontainers.image.source=$SOURCE
