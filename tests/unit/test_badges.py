"""Badges from hand-built facts: golden output per badge kind and style, links, sizes, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from helpers.goldens import assert_golden
from helpers.html import assert_inert

from mb_ci.badges import core as badges
from mb_ci.badges import svg as badge_svg
from mb_ci.badges.readme import END, START
from mb_ci.errors import PolicyError
from mb_ci.models import ImageFacts, Layer, PlatformFacts

SHA = "0123456789abcdef0123456789abcdef01234567"
GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
LABELS = {
    "org.opencontainers.image.revision": SHA,
    "org.opencontainers.image.source": "https://github.com/acme/widget",
    "org.opencontainers.image.version": "1.2.3",
    "org.opencontainers.image.licenses": "Apache-2.0",
    "org.opencontainers.image.created": "2026-11-28T08:00:00Z",
}
HOSTILE = (
    "](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    '" onload="alert(1)',
    "`]` <script>alert(1)</script>",
    "a\nb\r\n[x](http://evil)",
)


def layers(*sizes: int, media_type: str = GZ) -> tuple[Layer, ...]:
    return tuple(Layer(f"sha256:{i:064x}", size, media_type) for i, size in enumerate(sizes))


def facts(labels=None, platforms=None) -> ImageFacts:
    plats = platforms or (
        PlatformFacts(
            "linux/amd64", LABELS if labels is None else labels, layers=layers(2_000_000, 1_456_789)
        ),
    )
    return ImageFacts("registry.example/acme/widget:1.2.3", "docker", tuple(plats))


def attested() -> ImageFacts:
    """``facts()`` with a BuildKit v1 provenance of a Git context build of SHA, judged."""
    import dataclasses

    from helpers import provenance as prov

    from mb_ci.pipeline import with_provenance
    from mb_ci.policy import Policy

    digest = "sha256:" + "d" * 64
    statement = prov.v1(digest, SHA, "https://github.com/acme/widget")
    (plat,) = facts().platforms
    plat = prov.attached(dataclasses.replace(plat, digest=digest), prov.raw(statement))
    return with_provenance(dataclasses.replace(facts(), platforms=(plat,)), Policy())


def test_provenance_badge_says_tier_and_commit():
    built, notes = badges.build(attested(), badges.Settings(order=("provenance",)))
    assert [(b.message, b.link) for b in built] == [
        (f"builder-verified {SHA[:7]}", f"https://github.com/acme/widget/commit/{SHA}")
    ]
    built, notes = badges.build(facts(), badges.Settings(order=("provenance",)))
    assert built == () and notes[0].startswith("provenance: the image carries no provenance")


def multi() -> ImageFacts:
    return facts(
        platforms=(
            PlatformFacts("linux/amd64", LABELS, layers=layers(3_000_000, 400_000, 1)),
            PlatformFacts("linux/arm64/v8", LABELS, layers=layers(2_900_000, 10)),
        )
    )


def golden(name: str, text: str) -> None:
    assert_golden(text, "badges", name)


def snippet(image: ImageFacts, markup: str, style: str = "shields", **settings) -> str:
    s = badges.Settings(style=style, **settings)
    built, _ = badges.build(image, s)

    def src(b: badges.Badge) -> str:
        return badges.shields_url(b, s) if style == "shields" else f".github/badges/{b.name}.svg"

    return badges.render(built, src, markup) + "\n"


@pytest.mark.parametrize("markup", badges.MARKUPS)
@pytest.mark.parametrize("style", badges.STYLES)
def test_snippet_golden(markup, style):
    ext = {"markdown": "md", "html": "html", "rst": "rst"}[markup]
    golden(f"{style}.{ext}", snippet(facts(), markup, style))


def test_multi_platform_golden():
    golden("multi-platform.md", snippet(multi(), "markdown"))


@pytest.mark.parametrize("kind", badges.KINDS)
def test_svg_golden_per_kind(kind):
    built, _ = badges.build(attested(), badges.Settings(order=(kind,)))
    (badge,) = built
    svg = badge_svg.render(badge.label, badge.message, badge.color)
    ET.fromstring(svg)
    golden(f"{kind}.svg", svg)


def test_messages_and_links():
    built, notes = badges.build(facts(), badges.Settings())
    got = {b.kind: (b.label, b.message, b.link) for b in built}
    assert notes == ()
    assert got == {
        "image": ("image", "3.5 MB, 2 layers", None),
        "version": ("version", "1.2.3", "https://github.com/acme/widget/releases/tag/1.2.3"),
        "commit": ("commit", SHA[:7], f"https://github.com/acme/widget/commit/{SHA}"),
        "license": ("license", "Apache-2.0", "https://spdx.org/licenses/Apache-2.0.html"),
        "created": ("created", "2026-11-28", None),
    }


def test_order_and_subset_from_policy_section():
    s = badges.settings_from({"order": ["commit", "image"], "colors": {"commit": "#ABC"}})
    built, _ = badges.build(facts(), s)
    assert [b.kind for b in built] == ["commit", "image"]
    assert built[0].color == "abc"


def test_multi_platform_one_image_badge_each():
    built, _ = badges.build(multi(), badges.Settings(order=("image",)))
    assert [(b.name, b.label, b.message) for b in built] == [
        ("image-linux-amd64", "image linux/amd64", "3.4 MB, 3 layers"),
        ("image-linux-arm64-v8", "image linux/arm64/v8", "2.9 MB, 2 layers"),
    ]


@pytest.mark.parametrize(
    ("source", "commit", "tag"),
    [
        ("git@gitlab.com:acme/tools/widget.git", "https://gitlab.com/acme/tools/widget/-/commit/",
         "https://gitlab.com/acme/tools/widget/-/tags/v1.2.3"),
        ("https://bitbucket.org/acme/widget", "https://bitbucket.org/acme/widget/commits/",
         "https://bitbucket.org/acme/widget/src/v1.2.3"),
        ("https://git.example.com/acme/widget", None, None),
        ("javascript:alert(1)//github.com/a/b", None, None),
        ("https://github.com/acme/widget) [x](javascript:alert(1)", None, None),
    ],
)  # fmt: skip
def test_forge_links(source, commit, tag):
    labels = {**LABELS, "org.opencontainers.image.source": source}
    built, _ = badges.build(facts(labels), badges.Settings(), tags=("v1.2.3",))
    links = {b.kind: b.link for b in built}
    assert links["commit"] == (commit + SHA if commit else None)
    assert links["version"] == tag


def test_policy_url_patterns():
    s = badges.settings_from(
        {
            "commit-url": "https://git.example.com/{path}/commit/{short}",
            "version-url": "https://git.example.com/{path}/tags/{tag}",
        }
    )
    labels = {**LABELS, "org.opencontainers.image.source": "https://git.example.com/acme/widget"}
    links = {b.kind: b.link for b in badges.build(facts(labels), s)[0]}
    assert links["commit"] == "https://git.example.com/acme/widget/commit/0123456"
    assert links["version"] == "https://git.example.com/acme/widget/tags/1.2.3"


def test_unknown_placeholder_is_a_policy_error():
    with pytest.raises(PolicyError, match=r"badges.commit-url: unknown placeholder \{sha\}"):
        badges.settings_from({"commit-url": "https://x.example/{sha}"})


def test_missing_labels_are_left_out_with_a_note():
    built, notes = badges.build(facts({}), badges.Settings())
    assert [b.kind for b in built] == ["image"]
    assert len(notes) == 4
    assert any("org.opencontainers.image.revision" in n for n in notes)


def test_label_schema_and_annotations_are_read():
    plat = PlatformFacts(
        "linux/amd64",
        {"org.label-schema.vcs-ref": SHA, "org.label-schema.version": "2.0"},
        annotations={"org.opencontainers.image.licenses": "MIT"},
        layer_count=4,
    )
    built, _ = badges.build(facts(platforms=(plat,)), badges.Settings())
    assert {b.kind: b.message for b in built} == {
        "image": "4 layers",
        "version": "2.0",
        "commit": SHA[:7],
        "license": "MIT",
    }


@pytest.mark.parametrize(
    ("size", "unit", "text"),
    [
        (0, "MB", "0 B"),
        (999, "MB", "999 B"),
        (1000, "MB", "1.0 kB"),
        (3_456_789, "MB", "3.5 MB"),
        (123_456_789, "MB", "123 MB"),
        (3_456_789, "MiB", "3.3 MiB"),
        (2 * 1024**3, "MiB", "2.0 GiB"),
        (5 * 10**15, "MB", "5000 TB"),
    ],
)
def test_human_size(size, unit, text):
    assert badges.human_size(size, unit) == text


def test_size_is_the_manifest_compressed_sum_and_unit_configurable():
    image = facts(
        platforms=(PlatformFacts("linux/amd64", {}, layers=layers(1_048_576, 1_048_576)),)
    )
    (mb,), _ = badges.build(image, badges.Settings(order=("image",)))
    (mib,), _ = badges.build(image, badges.Settings(order=("image",), size_unit="MiB"))
    assert (mb.message, mib.message) == ("2.1 MB, 2 layers", "2.0 MiB, 2 layers")


def test_uncompressed_layers_show_no_size():
    tar = "application/vnd.docker.image.rootfs.diff.tar"
    image = facts(platforms=(PlatformFacts(None, {}, layers=layers(5_000_000, media_type=tar)),))
    (badge,), _ = badges.build(image, badges.Settings(order=("image",)))
    assert badge.message == "1 layer"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("1.2.3", "1.2.3"),
        ("a-b_c d", "a--b__c_d"),
        ("linux/amd64", "linux%2Famd64"),
        ("100%", "100%25"),
        ("](javascript:alert(1))", "%5D%28javascript%3Aalert%281%29%29"),
        ("é?#&", "%C3%A9%3F%23%26"),
    ],
)
def test_shields_escape(text, escaped):
    assert badges.shields_escape(text) == escaped


def test_long_values_are_truncated_and_controls_dropped():
    value = "x" * 500
    labels = {**LABELS, "org.opencontainers.image.version": value + "\x1b[31m"}
    (badge,), _ = badges.build(facts(labels), badges.Settings(order=("version",)))
    assert len(badge.message) == badges.MAX_LENGTH and badge.message.endswith("…")
    assert badges.clean("a\x1b[2Jb\u202ec\nd") == "a [2Jb c d"


def test_secrets_in_labels_are_redacted():
    labels = {**LABELS, "org.opencontainers.image.version": "ghp_" + "a" * 36}
    (badge,), _ = badges.build(facts(labels), badges.Settings(order=("version",)))
    assert "ghp_" not in badge.message


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("markup", badges.MARKUPS)
@pytest.mark.parametrize("style", badges.STYLES)
def test_hostile_values_cannot_inject(value, markup, style):
    labels = {
        **LABELS,
        "org.opencontainers.image.version": value,
        "org.opencontainers.image.licenses": value,
        "org.opencontainers.image.revision": value,
        "org.opencontainers.image.created": value,
    }
    out = snippet(facts(labels), markup, style)
    if markup != "rst":  # reStructuredText has no such syntax; docutils escapes :alt: itself
        assert "<img src=x" not in out and "<script" not in out and '" onload="' not in out
        assert "](javascript" not in out and "](http://evil)" not in out
    if markup == "markdown":
        import markdown

        assert_inert(markdown.markdown(out))
    elif markup == "html":
        assert_inert(out)
    else:
        for line in out.splitlines():
            assert (
                not line
                or line.startswith("|mb-ci-")
                or re.fullmatch(r"\.\. \|mb-ci-[a-z0-9-]+\| image:: (https://|\.github/)\S+", line)
                or re.fullmatch(r"   :target: https://\S+", line)
                or line.startswith("   :alt: ")
            ), line


@pytest.mark.parametrize("value", HOSTILE + ("x" * 300, "é" * 50, "&amp; ]]> <!-- -->"))
def test_svg_is_well_formed_and_escaped(value):
    svg = badge_svg.render(value, badges.clean(value), "fe7d37")
    root = ET.fromstring(svg)
    texts = [el.text for el in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0] == badge_svg.xml_text(value) and texts[2] == badges.clean(value)
    assert "\r" not in texts[0] and "\n" not in texts[0]
    assert all(not k.startswith("on") for el in root.iter() for k in el.attrib)
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))


def test_svg_width_grows_with_text():
    short = ET.fromstring(badge_svg.render("a", "b", "007ec6"))
    long = ET.fromstring(badge_svg.render("a", "b" * 40, "007ec6"))
    assert int(long.get("width")) > int(short.get("width")) + 200
    assert badge_svg.text_width("WWW") > badge_svg.text_width("iii")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("badges:\n  colour: red\n", "badges.colour: unknown key"),
        ("badges:\n  style: png\n", "badges.style: 'png' is not one of"),
        ("badges:\n  order: [image, size]\n", "badges.order.1: 'size' is not one of"),
        ("badges:\n  order: []\n", "badges.order: [] should be non-empty"),
        ("badges:\n  colors: {commit: red}\n", "badges.colors.commit: 'red' does not match"),
        ("badges:\n  commit-url: javascript:alert(1)\n", "badges.commit-url: 'javascript"),
        ("badges:\n  size-unit: KB\n", "badges.size-unit: 'KB' is not one of"),
    ],
)
def test_policy_badges_section_is_validated(tmp_path, body, message):
    from mb_ci.policy import load

    path = tmp_path / "policy.yml"
    path.write_text("version: 1\n" + body)
    with pytest.raises(PolicyError, match=re.escape(message)):
        load(path)


def test_policy_badges_section_loads(tmp_path):
    from mb_ci.policy import load

    path = tmp_path / "policy.yml"
    path.write_text(
        "version: 1\nbadges:\n  order: [license]\n  style: svg\n  size-unit: MiB\n"
        "  colors: {license: '#123456'}\n  max-length: 12\n"
    )
    s = badges.settings_from(load(path).badges)
    assert (s.order, s.style, s.size_unit, s.colors["license"], s.max_length) == (
        ("license",),
        "svg",
        "MiB",
        "123456",
        12,
    )


def test_platform_names_that_clean_alike_get_distinct_file_names():
    image = facts(
        platforms=(
            PlatformFacts("linux/arm64", {}, layer_count=1),
            PlatformFacts("linux/arm64/", {}, layer_count=2),
            PlatformFacts("linux/ARM64", {}, layer_count=3),
        )
    )
    built, _ = badges.build(image, badges.Settings(order=("image",)))
    names = [b.name for b in built]
    assert len(set(names)) == 3 and names[0] == "image-linux-arm64"


def test_plan_for_the_action_writes_nothing(tmp_path, monkeypatch):
    from mb_ci.badges import plan as command

    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text(f"# W\n\n{START}\n{END}\n")
    options = command.BadgeOptions(style="svg", readme="README.md", repo=str(tmp_path))
    plan = command.plan("unused", options, facts=facts())
    assert sorted(plan.files) == [f".github/badges/{k}.svg" for k in sorted(badges.DEFAULT_ORDER)]
    assert plan.readme is not None and plan.readme[2].decode().count("(.github/badges/") == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    assert sorted(command.apply(plan)) == sorted([*plan.files, "README.md"])
    assert command.apply(command.plan("unused", options, facts=facts())) == []
