"""Dockerfiles whose labels the engine and the linter must agree on."""

# every word of one ENV is expanded with the variables from before it (the Dockerfile
# reference's `ENV abc=bye def=$abc` example); these were read one pair after another
ENV_CASES = {
    "a pair uses an earlier pair": "FROM scratch\nENV A=1 B=${A}2\nLABEL a=$B\n",
    "a pair uses the old value": "FROM scratch\nENV A=1\nENV A=2 B=$A\nLABEL a=$B c=$A\n",
    "over an ARG": "FROM scratch\nARG A=1\nENV A=2 B=$A\nLABEL a=$B c=$A\n",
    "a key from an ARG": "FROM scratch\nARG K=k\nENV ${K}x=1\nLABEL a=$kx\n",
}
ENV_EXPECTED = {
    "a pair uses an earlier pair": {"a": "2"},
    "a pair uses the old value": {"a": "1", "c": "2"},
    "over an ARG": {"a": "1", "c": "2"},
    "a key from an ARG": {"a": "1"},
}
