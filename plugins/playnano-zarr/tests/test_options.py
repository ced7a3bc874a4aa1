"""The ``compression`` option's declaration and its help say the same thing."""

from __future__ import annotations

import re

import pytest

from playnano_zarr.exporter import ZarrExporter


def option(name: str):
    return next(o for o in ZarrExporter.options if o.name == name)


def test_compression_choices_are_the_ones_the_help_names() -> None:
    opt = option("compression")
    named = set(re.findall(r"\b(zstd|gzip|blosc|lz4|none)\b", opt.help))
    assert set(opt.choices) == named == {"zstd", "none"}


def test_every_declared_choice_is_accepted_and_others_are_refused() -> None:
    opt = option("compression")
    assert opt.parse("zstd") == "zstd"
    assert opt.parse("none") is None  # uncompressed
    with pytest.raises(ValueError, match="must be one of zstd, none; got 'gzip'"):
        opt.parse("gzip")
