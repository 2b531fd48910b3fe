"""Facts about the checkout and the CI run: git, CI, URLs, and labels derived from them."""
