FROM scratch
ARG BUILD_DATE
ARG VCS_REF
ARG VCS_URL
LABEL org.opencontainers.image.created=$BUILD_DATE \
      org.opencontainers.image.revision=${VCS_REF} \
      org.opencontainers.image.source="$VCS_URL"
