"""The plugin registry survives the real failure modes of installed plugins."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from playnano.errors import (
    AmbiguousFormatError,
    MissingDependencyError,
    PluginLoadError,
    UnknownFormatError,
)
from playnano.plugins import registry
from playnano.plugins.registry import PluginConflictWarning, exporters
from tests.conftest import exporter_module

BUILTINS = {"tif", "npz", "h5", "gif", "png", "gwy", "topostats"}
#: Module each builtin format registers from (own formats beside their readers).
BUILTIN_TARGETS = {
    "tif": "playnano.formats.ometiff.exporter",
    "npz": "playnano.formats.npz.exporter",
    "h5": "playnano.formats.h5.exporter",
    "gif": "playnano.formats.gif.exporter",
    "png": "playnano.formats.png.exporter",
    "gwy": "playnano.formats.gwy.exporter",
    "topostats": "playnano.formats.topostats.exporter",
}


def _install_exporter(install_plugin, dist: str, name: str, **kw) -> Path:
    module = dist.replace("-", "_")
    return install_plugin(
        dist,
        {module: exporter_module(name, **kw)},
        {"playnano.exporters": {name: module}},
    )


def test_builtins_register_through_entry_points() -> None:
    reg = exporters()
    by_name = {e.name: e for e in reg.entries()}
    assert BUILTINS <= set(by_name)
    for name in BUILTINS:
        assert by_name[name].plugin.builtin
        assert by_name[name].plugin.dist == "playnano"
        assert by_name[name].plugin.target == BUILTIN_TARGETS[name]


def test_builtin_fallback_without_package_metadata(monkeypatch) -> None:
    monkeypatch.setattr(registry, "_entry_points", lambda group: [])
    reg = exporters()
    assert {e.name for e in reg.entries()} == BUILTINS
    assert all(e.plugin.builtin for e in reg.entries())


def test_third_party_plugin_is_found(install_plugin) -> None:
    _install_exporter(install_plugin, "acme-formats", "acme", aliases=("acme2",))
    entry = exporters().resolve("ACME2")
    assert entry.name == "acme"
    assert entry.plugin.dist == "acme-formats"
    assert entry.plugin.version == "1.0"
    assert not entry.plugin.builtin


# 1. a plugin that fails to import, or whose hook raises ----------------------------
@pytest.mark.parametrize(
    ("source", "during"),
    [
        ("raise ImportError('needs libfoo')", "import failed"),
        (exporter_module("boom", body="raise RuntimeError('hook exploded')"), "failed"),
        ("x = 1  # no hook at all", "defines no register_exporters"),
    ],
    ids=["import-error", "hook-raises", "no-hook"],
)
def test_broken_plugin_is_listed_and_others_work(
    install_plugin, source, during
) -> None:
    install_plugin(
        "broken-plugin",
        {"broken_mod": source},
        {"playnano.exporters": {"boom": "broken_mod"}},
    )
    _install_exporter(install_plugin, "good-plugin", "good")
    reg = exporters()
    [broken] = [p for p in reg.plugins() if p.dist == "broken-plugin"]
    assert broken.status == "error"
    assert during in broken.error
    assert reg.resolve("good").name == "good"
    assert BUILTINS <= {e.name for e in reg.entries()}
    with pytest.raises(UnknownFormatError, match="boom.*error"):
        reg.resolve("boom")


def test_invalid_declaration_is_an_error_with_the_reason(install_plugin) -> None:
    _install_exporter(install_plugin, "bad-suffix", "badsuf", suffix="noDot")
    [p] = [p for p in exporters().plugins() if p.dist == "bad-suffix"]
    assert p.status == "error"
    assert "suffix must look like '.ext'" in p.error


def test_strict_mode_makes_a_broken_plugin_fatal(install_plugin, monkeypatch) -> None:
    install_plugin(
        "broken-plugin",
        {"broken_mod": "raise ImportError('nope')"},
        {"playnano.exporters": {"boom": "broken_mod"}},
    )
    monkeypatch.setenv("PLAYNANO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match=r"boom.*broken-plugin 1\.0.*nope"):
        exporters().entries()


# 2. PLAYNANO_DISABLE_PLUGINS keeps a plugin from ever being imported ----------------
@pytest.mark.parametrize(
    "spelling", ["Acme_Formats", "acme-formats", "ACME", " x , acme "]
)
def test_disabled_plugin_is_never_imported(
    install_plugin, monkeypatch, tmp_path, spelling
) -> None:
    sentinel = tmp_path / "imported"
    source = exporter_module("acme", imports=f"open({str(sentinel)!r}, 'w').close()")
    install_plugin(
        "acme-formats",
        {"acme_mod": source},
        {"playnano.exporters": {"acme": "acme_mod"}},
    )
    monkeypatch.setenv("PLAYNANO_DISABLE_PLUGINS", spelling)
    reg = exporters()
    [p] = [p for p in reg.plugins() if p.dist == "acme-formats"]
    assert p.status == "disabled"
    assert not sentinel.exists()
    with pytest.raises(UnknownFormatError, match="disabled"):
        reg.resolve("acme")


# 3. the same distribution reachable twice on sys.path is registered once -----------
def test_same_distribution_twice_on_sys_path(install_plugin, tmp_path) -> None:
    _install_exporter(install_plugin, "acme-formats", "acme")
    other_site = tmp_path / "second-site"
    install_plugin(
        "acme-formats",
        {"acme_formats": exporter_module("acme")},
        {"playnano.exporters": {"acme": "acme_formats"}},
        site=other_site,
    )
    reg = exporters()
    assert [p.dist for p in reg.plugins()].count("acme-formats") == 1
    assert [e.name for e in reg.entries()].count("acme") == 1
    assert reg.resolve("acme").name == "acme"


# 4. two plugins claiming one name never resolve by install order -------------------
def test_two_third_parties_claiming_one_name(install_plugin, tmp_path) -> None:
    _install_exporter(install_plugin, "alpha-fmt", "mesh", marker="alpha:")
    _install_exporter(install_plugin, "beta-fmt", "mesh", marker="beta:")
    reg = exporters()
    with pytest.raises(AmbiguousFormatError) as err:
        reg.resolve("mesh")
    msg = str(err.value)
    assert "alpha-fmt 1.0" in msg and "beta-fmt 1.0" in msg
    assert "'alpha_fmt:mesh'" in msg and "'beta_fmt:mesh'" in msg
    assert reg.resolve("alpha-fmt:mesh").plugin.dist == "alpha-fmt"
    assert reg.resolve("beta_fmt:MESH").plugin.dist == "beta-fmt"


def test_third_party_cannot_replace_a_builtin(install_plugin) -> None:
    _install_exporter(install_plugin, "evil-npz", "npz", suffix=".npz")
    reg = exporters()
    with pytest.warns(
        PluginConflictWarning, match="evil-npz 1.0 also provides format 'npz'"
    ) as rec:
        entries = reg.entries()
    assert len(rec) == 1
    assert reg.resolve("npz").plugin.builtin
    assert reg.resolve("evil_npz:npz").plugin.dist == "evil-npz"
    assert reg.for_suffix("x.NPZ", lambda o: [o.suffix]).plugin.builtin
    [evil] = [e for e in entries if e.plugin.dist == "evil-npz"]
    assert evil.status().startswith("shadowed by the builtin format 'npz'")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.resolve("npz")  # the warning is given once, at discovery


# 5. suffix inference uses the longest match, case-insensitively -------------------
def test_longest_suffix_wins(install_plugin) -> None:
    _install_exporter(install_plugin, "plain-tif", "plaintif", suffix=".tif")
    reg = exporters()
    suffix = lambda o: [o.suffix]  # noqa: E731
    assert reg.for_suffix("video.ome.tif", suffix).name == "tif"
    assert reg.for_suffix("VIDEO.OME.TIF", suffix).name == "tif"
    assert reg.for_suffix("video.tif", suffix).name == "plaintif"
    assert reg.for_suffix("video.Tif", suffix).name == "plaintif"
    assert reg.for_suffix("video.unknown", suffix) is None


# 6. a format whose optional dependency is missing ----------------------------------
def test_missing_dependency_is_listed_and_fails_only_when_asked(install_plugin) -> None:
    _install_exporter(
        install_plugin,
        "playnano-cloud",
        "cloud",
        requires=("numpy", "no_such_module_xyz"),
        hint="pip install playnano-cloud[all]",
    )
    reg = exporters()
    [entry] = [e for e in reg.entries() if e.name == "cloud"]
    assert entry.status() == (
        "missing dependency no_such_module_xyz (pip install playnano-cloud[all])"
    )
    assert reg.resolve("npz").name == "npz"  # everything else still works
    with pytest.raises(
        MissingDependencyError,
        match=r"no_such_module_xyz.*pip install playnano-cloud\[all\]",
    ):
        reg.resolve("cloud")
    assert reg.resolve("cloud", check_dependencies=False) is entry


# 7. an unknown name lists the installed formats and suggests the closest ------------
def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownFormatError) as err:
        exporters().resolve("nzp")
    msg = str(err.value)
    assert msg.startswith("unknown format 'nzp'; did you mean npz?")
    for name in BUILTINS:
        assert name in msg


def test_lookup_is_case_insensitive_and_accepts_aliases() -> None:
    reg = exporters()
    assert reg.resolve("HDF5").name == "h5"
    assert reg.resolve("OME-TIFF").name == "tif"
    assert reg.resolve("playnano:hdf5").name == "h5"


def test_lookup_names_stay_importable_from_the_registry() -> None:
    from playnano.plugins import lookup

    for name in ("Entry", "PluginInfo", "PluginConflictWarning", "normalize"):
        assert getattr(registry, name) is getattr(lookup, name)
    assert issubclass(registry.Registry, lookup.NameIndex)
    assert registry.normalize("Playnano-Zarr.x") == "playnano_zarr_x"
