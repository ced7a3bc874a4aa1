"""The options' declarations and their help say the same thing."""

from __future__ import annotations

import re

import pytest

from playnano_zarr.exporter import ZarrExporter


def option(name: str):
    return next(o for o in ZarrExporter.options if o.name == name)


def test_compression_choices_are_the_ones_the_help_names() -> None:
    opt = option("compression")
    named = set(re.findall(r"\b(blosc-zstd|blosc-lz4|zstd|gzip|none)\b", opt.help))
    assert set(opt.choices) == named == {"blosc-zstd", "blosc-lz4", "zstd", "none"}
    assert opt.default == "blosc-zstd"


def test_every_declared_choice_is_accepted_and_others_are_refused() -> None:
    opt = option("compression")
    for name in ("blosc-zstd", "blosc-lz4", "zstd"):
        assert opt.parse(name) == name
    assert opt.parse("none") is None  # uncompressed
    with pytest.raises(ValueError, match=r"must be one of blosc-zstd, .*; got .gzip."):
        opt.parse("gzip")


def test_the_level_help_names_each_codecs_default() -> None:
    from playnano_zarr.compression import DEFAULT_LEVEL

    text = option("compression_level").help
    for name, level in DEFAULT_LEVEL.items():
        assert f"{level} for {name}" in text


def test_colour_options_are_the_animation_formats_own() -> None:
    """--zmin, --zmax and --cmap reach the GIF and the store the same way."""
    from playnano.render_options import ANIMATION_OPTIONS

    shared = {o.name: o for o in ANIMATION_OPTIONS}
    for name in ("zmin", "zmax", "cmap"):
        assert option(name) == shared[name]
