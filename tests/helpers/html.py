"""What a rendered Markdown or HTML snippet may hold: only our images and links."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    """Rendered, the snippet has only our images and links: no script, handler or other URL."""
    parser = _Tags()
    parser.feed(html)
    assert parser.tags
    for tag, attrs in parser.tags:
        assert tag in ("p", "a", "img"), tag
        assert set(attrs) <= {"href", "src", "alt"}, attrs
        for key in ("href", "src"):
            value = attrs.get(key)
            if key in attrs:
                assert value is not None and value.startswith(("https://", ".github/")), value
