"""Dockerfiles: parse their instructions and split their shell words."""
