FROM scratch
ARG VERSION=1.2.3
LABEL org.opencontainers.image.version=$VERSION \
      org.opencontainers.image.created="2024-05-01T12:00:00Z" \
      org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567 \
      org.opencontainers.image.source=https://github.com/acme/widget
