"""Install advice that works when copied: one place that knows how playnano got here.

playnano is installed from its source repository, not from the package index: the
index's ``playnano`` is an unrelated 0.5.0, and the plugins in the repository's
``plugins/`` folder are not on the index at all. So ``pip install "playnano[dask]"``
or ``pip install playnano-video`` would install the wrong thing or nothing. Every
hint the command line prints comes from here, and names what exists from where this
copy was installed:

- from a checkout (an editable install, or the source on ``sys.path``): the
  checkout's own path, ``pip install -e "/path/to/playnano[dask]"`` and
  ``pip install /path/to/playnano/plugins/playnano-video``;
- built from a checkout that is still there (``pip install /path/to/playnano``,
  recorded in the installation's ``direct_url.json``): the same, without ``-e``;
- otherwise (a wheel): an extra's own requirements (``pip install
  "dask[distributed]>=2024.1"``), and for a plugin, its folder in a playnano
  source checkout.

Paths inside the current folder are shown relative to it (``"."``,
``plugins/playnano-video``), others in full.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = [
    "Source",
    "extra_hint",
    "install_source",
    "plugin_hint",
    "requirement_hint",
]

DIST = "playnano"
#: A module's import name where it differs from its distribution's.
_DISTRIBUTION_OF = {"PIL": "pillow", "yaml": "pyyaml", "skimage": "scikit-image"}


@dataclass(frozen=True)
class Source:
    """Where this copy of playnano was installed from.

    Attributes
    ----------
    checkout : pathlib.Path or None
        The source repository (it holds ``pyproject.toml`` and ``plugins/``), when
        known and still present.
    editable : bool
        The copy runs from that checkout (changes to it take effect).
    """

    checkout: Path | None
    editable: bool


def _is_checkout(path: Path) -> bool:
    project = path / "pyproject.toml"
    if not (project.is_file() and (path / "plugins").is_dir()):
        return False
    try:
        text = project.read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(r'(?m)^name\s*=\s*"playnano"\s*$', text) is not None


def _direct_url() -> dict | None:
    from importlib import metadata

    try:
        text = metadata.distribution(DIST).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


@functools.cache
def install_source() -> Source:
    """How this copy was installed (cached: it does not change while running)."""
    # this file is src/playnano/plugins/install_hints.py in a checkout
    here = Path(__file__).resolve().parents[3]
    if _is_checkout(here):
        return Source(here, True)
    info = _direct_url() or {}
    url = urlparse(str(info.get("url", "")))
    if url.scheme == "file":
        path = Path(unquote(url.path))
        if _is_checkout(path):
            editable = bool((info.get("dir_info") or {}).get("editable"))
            return Source(path, editable)
    return Source(None, False)


def _shown(path: Path) -> str:
    """``path`` as typed from the current folder: relative inside it, else full."""
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return str(path)
    return str(rel) if str(rel) != "." else "."


def _quoted(arg: str) -> str:
    return f'"{arg}"' if re.search(r"[\s\[\]*?<>|&;()$]", arg) else arg


def extra_requirements(extra: str) -> list[str]:
    """The requirements the installed playnano declares for ``extra``."""
    from importlib import metadata

    try:
        requires = metadata.requires(DIST) or []
    except metadata.PackageNotFoundError:
        return []
    marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
    return [r.split(";")[0].strip() for r in requires if marker.search(r)]


def extra_hint(extra: str) -> str:
    """The command that installs playnano's optional ``extra`` (``dask``, ``test``)."""
    source = install_source()
    if source.checkout is not None:
        flag = "-e " if source.editable else ""
        return f"pip install {flag}{_quoted(f'{_shown(source.checkout)}[{extra}]')}"
    reqs = extra_requirements(extra) or [extra]
    return "pip install " + " ".join(_quoted(r) for r in reqs)


def plugin_hint(dist: str) -> str:
    """The command that installs ``dist``, a plugin of the repository's ``plugins/``."""
    source = install_source()
    if source.checkout is not None and (source.checkout / "plugins" / dist).is_dir():
        return f"pip install {_quoted(_shown(source.checkout / 'plugins' / dist))}"
    return (
        f"pip install PATH/TO/playnano/plugins/{dist} (it is distributed in "
        "playnano's source repository, not on the package index)"
    )


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_hint(dist: str | None, modules: list[str], declared: str = "") -> str:
    """What to install for ``modules`` that an installed plugin ``dist`` is missing.

    The hint the plugin declared; but a declared hint that only says to install a
    plugin of the repository (installed already, and not on the package index)
    gives way to the plugin's own requirement for the first module (with its
    version bounds, from the installed metadata), else ``pip install`` of the
    module's distribution.
    """
    repo_plugin = re.fullmatch(r"pip install ([A-Za-z0-9_.-]+)", declared.strip())
    if declared and not (repo_plugin and _is_repo_plugin(repo_plugin.group(1))):
        return declared
    want = _normal(_DISTRIBUTION_OF.get(modules[0], modules[0])) if modules else ""
    if dist and want:
        from importlib import metadata

        try:
            requires = metadata.requires(dist) or []
        except metadata.PackageNotFoundError:
            requires = []
        for req in requires:
            if re.search(r"extra\s*==", req):
                continue  # an optional requirement, not what the plugin needs
            name = re.split(r"[\s\[<>=!~;(]", req.strip(), maxsplit=1)[0]
            if _normal(name) == want:
                return f"pip install {_quoted(req.split(';')[0].strip())}"
    return f"pip install {want or 'the missing package'}"


def _is_repo_plugin(name: str) -> bool:
    """True for a distribution that lives in the repository's ``plugins/`` folder."""
    source = install_source()
    if source.checkout is not None:
        return (source.checkout / "plugins" / name).is_dir()
    return _normal(name) in {
        "playnano-video",
        "playnano-zarr",
        "napari-playnano",
        "bioio-playnano",
        "playnano-example",
    }
