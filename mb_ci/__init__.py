"""mb-ci: check that a container image's labels tell the truth about where it came from."""

__version__ = "0.1.0"
