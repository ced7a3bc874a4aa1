"""A broken install of a required dependency fails the tests; it never skips them."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO

#: Import names of distributions whose name differs.
IMPORT_NAMES = {"pillow": "PIL", "pyyaml": "yaml"}


def required_modules() -> set[str]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {
        re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower() for d in deps["dependencies"]
    }
    return {IMPORT_NAMES.get(n, n) for n in names}


def test_required_dependencies_are_imported_plainly() -> None:
    required = required_modules()
    assert {"h5py", "tifffile", "numpy", "PIL"} <= required
    found = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        for m in re.finditer(r"importorskip\(\s*[\"']([\w.]+)", path.read_text()):
            if m.group(1).split(".")[0] in required:
                found.append(f"{path.relative_to(REPO)}: {m.group(1)}")
    assert found == []
