FROM scratch
COPY payload.txt /payload.txt
LABEL org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567
LABEL org.opencontainers.image.title="widget" \
      org.opencontainers.image.description="a widget"
CMD ["/payload.txt"]
