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


def test_the_inspect_default_says_where_to_go_instead(tmp_path) -> None:
    with pytest.raises(NotImplementedError) as err:
        Plain().inspect(tmp_path / "v.plain")
    assert str(err.value) == (
        "the plain reader does not describe files from their headers "
        "(supports_inspect is False): call playnano.info.inspect"
    )
    with pytest.raises(NotImplementedError) as err:
        ReaderBase().read(tmp_path / "v.plain")
    assert str(err.value) == "ReaderBase does not implement read()"


def test_a_read_lazy_that_is_not_declared_is_never_called(tmp_path) -> None:
    """The declaration decides, not the method's presence."""
    called = []

    class Undeclared(Plain):
        def read_lazy(self, path, channel=None):
            called.append(path)
            raise AssertionError("read_lazy called though not declared")

    path = tmp_path / "v.plain"
    path.write_bytes(b"x")
    assert Undeclared().channels(path) == ["phase"]
    path.write_bytes(b"broken")
    assert Undeclared().check(path) == ["the header is broken"]
    assert called == []


def test_every_declared_door_is_listed_in_order() -> None:
    class All(Plain):
        supports_lazy = supports_inspect = True
        supports_channels = supports_check = True

    class Some(Plain):
        supports_channels = supports_check = True

    class Inspects(Plain):
        supports_inspect = True

    assert declared_doors(All()) == ["read_lazy", "inspect", "channels", "check"]
    assert declared_doors(Some()) == ["channels", "check"]
    assert declared_doors(Inspects()) == ["inspect"]


def test_the_lazy_stack_is_the_one_the_defaults_use(tmp_path) -> None:
    """A declared read_lazy that gives a stack is used; read is not called."""

    class Lazy(Plain):
        supports_lazy = True

        def read(self, path, channel=None):
            raise AssertionError("read called though read_lazy gave a stack")

        def read_lazy(self, path, channel=None):
            data = np.zeros((2, 2, 3))
            return AFMImageStack(data, 1.0, "height", Path(path), None)

    path = tmp_path / "v.plain"
    path.write_bytes(b"x")
    assert Lazy().channels(path) == ["height"]
