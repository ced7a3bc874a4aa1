"""The defaults of playnano.plugins.ReaderBase: what a reader gets for what it leaves out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.errors import ReadError
from playnano.plugins import ReaderBase
from playnano.plugins.reader import declared_doors


class Plain(ReaderBase):
    """Reads any file as two 2x3 frames, or refuses one that says 'broken'."""

    name = "plain"
    suffixes = (".plain", ".pln")

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        if Path(path).read_bytes() == b"broken":
            raise ReadError(f"{path}: the header is broken")
        return AFMImageStack(np.zeros((2, 2, 3)), 1.0, "phase", Path(path), None)


def test_can_read_takes_files_with_a_declared_suffix(tmp_path) -> None:
    reader = Plain()
    (tmp_path / "a.PLN").write_bytes(b"x")
    (tmp_path / "b.txt").write_bytes(b"x")
    (tmp_path / ".plain").write_bytes(b"x")  # the suffix alone is no name
    (tmp_path / "dir.plain").mkdir()
    assert reader.can_read(tmp_path / "a.PLN")
    assert not reader.can_read(tmp_path / "b.txt")
    assert not reader.has_suffix(tmp_path / ".plain")
    assert not reader.can_read(tmp_path / "dir.plain")
    assert reader.has_suffix(tmp_path / "dir.plain")


def test_undeclared_doors_have_their_defaults(tmp_path) -> None:
    path = tmp_path / "v.plain"
    path.write_bytes(b"x")
    reader = Plain()
    assert declared_doors(reader) == []
    assert reader.read_lazy(path) is None
    assert reader.channels(path) == ["phase"]
    with pytest.raises(ReadError) as err:
        reader.check(path)
    assert str(err.value) == (
        f"{path}: the plain reader has no specification check (only readers of a "
        "specified format, such as playnano's bundles, have one)"
    )
    path.write_bytes(b"broken")
    assert reader.check(path) == ["the header is broken"]
    with pytest.raises(NotImplementedError, match="the plain reader does not "
                       "describe files from their headers"):  # fmt: skip
        reader.inspect(path)
    with pytest.raises(NotImplementedError, match="ReaderBase does not implement"):
        ReaderBase().read(path)
    assert repr(reader) == "<Plain 'plain'>"


def test_a_reader_that_reads_lazily_is_opened_lazily_by_the_defaults(tmp_path) -> None:
    opened = []

    class Lazy(Plain):
        supports_lazy = True

        def read_lazy(self, path, channel=None):
            opened.append(path)
            return None if Path(path).name.startswith("whole") else self.read(path)

    for name in ("lazy.plain", "whole.plain"):
        (tmp_path / name).write_bytes(b"x")
        assert Lazy().channels(tmp_path / name) == ["phase"]
    assert opened == [tmp_path / "lazy.plain", tmp_path / "whole.plain"]
    assert declared_doors(Lazy()) == ["read_lazy"]
