"""The regression corpus: every case the fuzzer found, replayed by the test suite.

A case from a generated seed is saved whole, named ``<family>-<hash>.<suffix>``; a case
from a real instrument file is saved as a recipe ``<family>-<hash>.json`` (the seed's
id, the frame edited for a folder seed, and the edits), since real files are never
copied into the repository. ``index.json`` records what each case showed when found
and, for a case still failing, the ``xfail`` reason its replay test carries.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from tests.fuzz import mutate, seeds

CORPUS = Path(__file__).resolve().parent / "corpus"
INDEX = "index.json"
MAX_BYTES = 50_000


def read_index(folder: Path = CORPUS) -> dict[str, dict[str, Any]]:
    path = folder / INDEX
    return json.loads(path.read_text()) if path.is_file() else {}


def entries(folder: Path = CORPUS) -> list[Path]:
    """The saved cases, in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name != INDEX and p.is_file())


def _suffix(path: Path) -> str:
    name = path.name
    return ".ome.tif" if name.endswith(".ome.tif") else path.suffix


def save(
    folder: Path,
    seed: seeds.Seed,
    ops: list[mutate.Op],
    case: Path,
    info: dict[str, Any],
) -> Path | None:
    """Save a found case; None when a generated case is too big to keep."""
    folder.mkdir(parents=True, exist_ok=True)
    if seed.real:
        recipe = {"seed": seed.id, "member": seed.member, "ops": ops}
        text = json.dumps(recipe, indent=1) + "\n"
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        out = folder / f"{seed.family}-{digest}.json"
        out.write_text(text)
    else:
        data = case.read_bytes()
        if len(data) > MAX_BYTES:
            return None
        digest = hashlib.sha256(data).hexdigest()[:10]
        out = folder / f"{seed.family}-{digest}{_suffix(case)}"
        out.write_bytes(data)
    index = read_index(folder)
    index[out.name] = {**info, "seed": seed.id}
    (folder / INDEX).write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    return out


def materialise(entry: Path, work: Path) -> Path | None:
    """Write the case ``entry`` describes under ``work``; None if its seed is absent."""
    work.mkdir(parents=True, exist_ok=True)
    if entry.suffix != ".json":
        out = work / entry.name
        shutil.copyfile(entry, out)
        return out
    recipe = json.loads(entry.read_text())
    seed = seeds.real_seed(recipe["seed"], work / "seeds")
    if seed is None:
        return None
    if seed.member != recipe.get("member"):
        seed = seeds.Seed(seed.id, seed.family, seed.path, recipe.get("member"))
    data = mutate.apply(seed.target.read_bytes(), recipe["ops"])
    case = seeds.materialise(seed, data, work / "case", entry.stem)
    mutate.apply_h5(case / seed.member if seed.member else case, recipe["ops"])
    return case


def input_bytes(case: Path) -> int:
    """The bytes a case holds (a folder's files together)."""
    if case.is_dir():
        return sum(p.stat().st_size for p in case.iterdir())
    return case.stat().st_size
