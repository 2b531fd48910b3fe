"""README badges: what they say, how they are drawn, and where they go in the README."""
