FROM scratch
LABEL org.opencontainers.image.created="2024-05-01T12:00:00Z" \
      org.opencontainers.image.revison=0123456789abcdef0123456789abcdef01234567 \
      org.opencontainers.image.source=https://github.com/acme/widget
