# syntax=docker/dockerfile:1
FROM scratch
COPY payload.txt /payload.txt
