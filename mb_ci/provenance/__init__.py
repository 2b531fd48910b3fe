"""Provenance: parse the in-toto statements a source found, judge what they prove per label."""
