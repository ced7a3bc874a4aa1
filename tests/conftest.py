"""Shared fixtures: isolated plugin discovery, fake installed plugins, real data."""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from playnano.plugins import registry

REPO = Path(__file__).resolve().parents[1]


def _data_root() -> Path:
    return Path(os.environ.get("PLAYNANO_TEST_DATA", REPO.parent / "shared" / "data"))


#: Set to 1 (CI does) to make missing real data a failure, not a skip.
REQUIRE_DATA_ENV = "PLAYNANO_REQUIRE_DATA"


def missing_data(root: Path) -> list[str]:
    """Files ``MANIFEST.tsv`` lists that are absent (or the manifest itself)."""
    manifest = root / "MANIFEST.tsv"
    if not manifest.is_file():
        return [str(manifest)]
    rows = manifest.read_text(encoding="utf-8").splitlines()[1:]
    names = [row.split("\t", 1)[0] for row in rows if row.strip()]
    return [n for n in names if not (root / n).exists()]


@pytest.fixture(scope="session")
def afm_data() -> Path:
    """The real instrument files (``$PLAYNANO_TEST_DATA/afm``).

    Skips with the reason when the folder is absent; with ``PLAYNANO_REQUIRE_DATA=1``
    (set by ``.ci/run``) an absent folder or file of the manifest fails instead.
    """
    root = _data_root() / "afm"
    required = os.environ.get(REQUIRE_DATA_ENV) == "1"
    if not root.is_dir():
        reason = f"real AFM data not found at {root} (set PLAYNANO_TEST_DATA)"
        if required:
            pytest.fail(f"{reason}; {REQUIRE_DATA_ENV}=1 requires it", pytrace=False)
        pytest.skip(reason)
    if required and (missing := missing_data(root)):
        pytest.fail(f"real AFM data incomplete at {root}: missing {missing}", False)
    return root


_ALLOWED: set[str] = set()


@pytest.fixture(autouse=True)
def isolate_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Discover only playnano's own plugins and the fakes a test installs.

    A developer's pip-installed plugins must not change what the tests see.
    """
    real = registry._entry_points
    _ALLOWED.clear()
    _ALLOWED.add(registry.BUILTIN_DIST)

    def only_known(group: str) -> list:
        return [
            ep
            for ep in real(group)
            if ep.dist is not None
            and registry.normalize(ep.dist.metadata["Name"] or "") in _ALLOWED
        ]

    monkeypatch.setattr(registry, "_entry_points", only_known)
    monkeypatch.delenv(registry.DISABLE_ENV, raising=False)
    monkeypatch.delenv(registry.STRICT_ENV, raising=False)
    registry.reset()
    yield
    registry.reset()


EXPORTER_TEMPLATE = """
from pathlib import Path
from playnano.plugins import Capabilities, Option, hookimpl
{imports}

class FakeExporter:
    name = {name!r}
    aliases = {aliases!r}
    suffix = {suffix!r}
    description = "A fake format for tests."
    capabilities = Capabilities()
    options = (Option("level", "int", 1, "A test option.", minimum=0),)
    requires = {requires!r}
    install_hint = {hint!r}

    def export(self, stack, path, *, raw=False, level=1):
        Path(path).write_text({marker!r} + str(level))
        return [Path(path)]

@hookimpl
def register_exporters(register):
    {body}
"""


def exporter_module(
    name: str,
    *,
    aliases: tuple[str, ...] = (),
    suffix: str = ".fake",
    requires: tuple[str, ...] = (),
    hint: str = "",
    marker: str = "fake:",
    imports: str = "",
    body: str = "register(FakeExporter())",
) -> str:
    """Source of a plugin module that registers one fake exporter."""
    return EXPORTER_TEMPLATE.format(
        name=name,
        aliases=aliases,
        suffix=suffix,
        requires=requires,
        hint=hint,
        marker=marker,
        imports=imports,
        body=body,
    )


InstallFn = Callable[..., Path]


@pytest.fixture
def install_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InstallFn]:
    """Install a fake plugin distribution: a ``*.dist-info`` and modules on sys.path.

    ``install_plugin("acme-formats", {"acme_fmt": source},
    {"playnano.exporters": {"acme": "acme_fmt"}})`` returns the site folder.
    """
    added_modules: list[str] = []

    def install(
        dist: str,
        modules: dict[str, str],
        entry_points: dict[str, dict[str, str]],
        *,
        version: str = "1.0",
        site: Path | None = None,
    ) -> Path:
        site = site or tmp_path / f"site-{dist}"
        site.mkdir(parents=True, exist_ok=True)
        for mod, source in modules.items():
            (site / f"{mod}.py").write_text(textwrap.dedent(source))
            added_modules.append(mod)
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
        )
        lines = []
        for group, eps in entry_points.items():
            lines.append(f"[{group}]")
            lines += [f"{k} = {v}" for k, v in eps.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        monkeypatch.syspath_prepend(str(site))
        importlib.invalidate_caches()
        _ALLOWED.add(registry.normalize(dist))
        registry.reset()
        return site

    yield install
    for mod in added_modules:
        sys.modules.pop(mod, None)


@pytest.fixture(autouse=True)
def bundles_follow_the_specification(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bundle a test writes through playnano's exporters passes ``--check``."""
    from playnano.formats.gwy import content as gwy_content
    from playnano.formats.gwy import exporter as gwy_exporter
    from playnano.formats.h5 import exporter as h5_exporter
    from playnano.formats.h5 import info as h5_info
    from playnano.formats.npz import exporter as npz_exporter
    from playnano.formats.npz import info as npz_info
    from playnano.formats.ometiff import exporter as tif_exporter
    from playnano.formats.ometiff import info as tif_info
    from playnano.formats.topostats import check as topostats_check
    from playnano.formats.topostats import exporter as topostats_exporter

    for cls, check in (
        (npz_exporter.NpzExporter, npz_info.check),
        (h5_exporter.H5Exporter, h5_info.check),
        (tif_exporter.TifExporter, tif_info.check),
        (gwy_exporter.GwyExporter, gwy_content.check),
        (topostats_exporter.TopostatsExporter, topostats_check.check),
    ):
        export = cls.export

        @functools.wraps(export)
        def checked(self, *args, _export=export, _check=check, **kw):
            written = _export(self, *args, **kw)
            for path in written:
                problems = _check(path)
                assert not problems, f"{path.name} breaks the specification: {problems}"
            return written

        monkeypatch.setattr(cls, "export", checked)


def export_all(stack, folder, base, formats, **settings):
    """A run's export of ``stack`` in ``formats`` (plan and executor): one result each.

    ``settings`` are :class:`~playnano.run.RunSettings` fields (``raw``,
    ``threads``, ``options``...).
    """
    from playnano.run import RunSettings, execute, plan_run

    run = RunSettings(formats=tuple(formats), **settings)
    return execute(plan_run(run, folder, stack=stack, base=base), stack)


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):
    """A 2 MB tmpfs (needs root and mount rights; skipped otherwise)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
