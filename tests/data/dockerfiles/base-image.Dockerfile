FROM alpine:3.19 AS base
LABEL org.opencontainers.image.created="2024-05-01T12:00:00Z"

FROM base
LABEL org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567
