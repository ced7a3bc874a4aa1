"""HDF5 edits through h5py, each a function ``fn(path, **args)`` with JSON args.

Hostile structures our readers must refuse or bound: virtual datasets (onto the file
itself or a missing file), external links, external raw storage, huge unallocated
datasets, odd dtypes and shapes, and attributes set to odd values or removed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np


def _datasets(path: Path) -> list[tuple[str, list[int], str]]:
    import h5py

    found: list[tuple[str, list[int], str]] = []
    with h5py.File(path, "r") as f:

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                found.append((name, list(obj.shape), obj.dtype.str))

        f.visititems(visit)
    return found


def _attrs(path: Path) -> list[tuple[str, str]]:
    import h5py

    found: list[tuple[str, str]] = []
    with h5py.File(path, "r") as f:

        def visit(name: str, obj: Any) -> None:
            found.extend((name, k) for k in obj.attrs)

        found.extend(("/", k) for k in f.attrs)
        f.visititems(visit)
    return found


def pick(path: Path, rng: random.Random) -> dict[str, Any]:
    """A random edit that applies to the file at ``path``: ``{"fn", "args"}``."""
    sets = _datasets(path)
    attrs = _attrs(path)
    # the big datasets are the interesting ones: pick them more often
    sets.sort(key=lambda s: -int(np.prod(s[1])) if s[1] else 0)
    name, shape, _ = rng.choice(sets[:3] + sets) if sets else ("data", [1], "<f8")
    choice = rng.randrange(10)
    if choice == 0:
        return {"fn": "virtual_self", "args": {"name": name}}
    if choice == 1:
        return {"fn": "virtual_missing", "args": {"name": name}}
    if choice == 2:
        return {"fn": "external_link", "args": {"name": name}}
    if choice == 3:
        return {"fn": "external_storage", "args": {"name": name}}
    if choice == 4:
        factor = rng.choice((1000, 100_000, 2**20))
        axis = rng.randrange(len(shape)) if shape else 0
        return {
            "fn": "unallocated",
            "args": {"name": name, "axis": axis, "factor": factor},
        }
    if choice == 5:
        dtype = rng.choice(
            ("bool", "complex128", "S8", "float16", "uint64", ">f8", "vlen")
        )
        return {"fn": "retype", "args": {"name": name, "dtype": dtype}}
    if choice == 6:
        new = rng.choice(([0], [], [*shape, 2], shape[:-1] or [3], [1] * 5, [3, 0, 4]))
        return {"fn": "reshape", "args": {"name": name, "shape": new}}
    if choice in (7, 8) and attrs:
        obj, key = rng.choice(attrs)
        value = rng.choice(
            (
                0,
                -1,
                "nan",
                "inf",
                2**62,
                "",
                "text\nwith lines",
                [1, 2, 3],
                "arr",
                "none",
            )
        )
        return {"fn": "set_attr", "args": {"obj": obj, "key": key, "value": value}}
    target = (
        rng.choice([n for n, _, _ in sets] + [o for o, _ in attrs]) if sets else "/"
    )
    key = (
        rng.choice([k for o, k in attrs if o == target] or [""])
        if rng.random() < 0.5
        else ""
    )
    return {"fn": "delete", "args": {"obj": target, "key": key}}


def _replace(f: Any, name: str) -> tuple[tuple[int, ...], np.dtype]:
    ds = f[name]
    shape, dtype = ds.shape, ds.dtype
    del f[name]
    return shape, dtype


def virtual_self(path: Path, name: str) -> None:
    """``name`` becomes a virtual dataset mapping onto itself in the same file."""
    import h5py

    with h5py.File(path, "a") as f:
        shape, dtype = _replace(f, name)
        layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
        layout[...] = h5py.VirtualSource(".", name, shape=shape)
        f.create_virtual_dataset(name, layout, fillvalue=0)


def virtual_missing(path: Path, name: str) -> None:
    """``name`` becomes a virtual dataset onto a file that does not exist."""
    import h5py

    with h5py.File(path, "a") as f:
        shape, dtype = _replace(f, name)
        layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
        layout[...] = h5py.VirtualSource("no_such_file.h5", name, shape=shape)
        f.create_virtual_dataset(name, layout, fillvalue=0)


def external_link(path: Path, name: str) -> None:
    """``name`` becomes an external link to itself in this same file."""
    import h5py

    with h5py.File(path, "a") as f:
        _replace(f, name)
        f[name] = h5py.ExternalLink(path.name, name)


def external_storage(path: Path, name: str) -> None:
    """``name`` stores its bytes in an external raw file: the HDF5 file itself."""
    import h5py

    with h5py.File(path, "a") as f:
        shape, dtype = _replace(f, name)
        if dtype.kind in "OSU" or not shape:
            shape, dtype = (4, 4), np.dtype("<f8")
        nbytes = int(np.prod(shape)) * dtype.itemsize
        f.create_dataset(name, shape, dtype, external=[(path.name, 0, nbytes)])


def unallocated(path: Path, name: str, axis: int, factor: int) -> None:
    """``name`` becomes a chunked dataset ``factor`` times longer, never written."""
    import h5py

    with h5py.File(path, "a") as f:
        shape, dtype = _replace(f, name)
        big = list(shape) or [1]
        big[min(axis, len(big) - 1)] = max(1, big[min(axis, len(big) - 1)]) * factor
        if dtype.kind in "OSU":
            dtype = np.dtype("<f8")
        chunks = tuple(min(s, 64) for s in big)
        f.create_dataset(name, tuple(big), dtype, chunks=chunks)


def retype(path: Path, name: str, dtype: str) -> None:
    """``name`` keeps its shape but holds ``dtype`` values."""
    import h5py

    with h5py.File(path, "a") as f:
        data = f[name][()]
        del f[name]
        arr = np.asarray(data)
        if dtype == "vlen":
            f.create_dataset(name, arr.shape, h5py.string_dtype())
        elif dtype == "S8":
            f[name] = arr.astype(str).astype("S8")
        else:
            with np.errstate(all="ignore"):
                f[name] = arr.astype(dtype)


def reshape(path: Path, name: str, shape: list[int]) -> None:
    """``name`` becomes a dataset of ``shape`` (same dtype, values 0, 1, 2...)."""
    import h5py

    with h5py.File(path, "a") as f:
        _, dtype = _replace(f, name)
        if dtype.kind in "OSUV":
            dtype = np.dtype("<f8")
        f[name] = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


def set_attr(path: Path, obj: str, key: str, value: Any) -> None:
    """Set attribute ``key`` of ``obj`` to an odd value."""
    import h5py

    odd = {
        "nan": np.nan,
        "inf": np.inf,
        "arr": np.zeros((2, 3)),
        "none": h5py.Empty("f"),
    }
    with h5py.File(path, "a") as f:
        target = f if obj == "/" else f[obj]
        target.attrs[key] = odd.get(value, value) if isinstance(value, str) else value


def delete(path: Path, obj: str, key: str) -> None:
    """Delete attribute ``key`` of ``obj`` or, with no key, the object itself."""
    import h5py

    with h5py.File(path, "a") as f:
        if key:
            target = f if obj == "/" else f[obj]
            if key in target.attrs:
                del target.attrs[key]
        elif obj != "/" and obj in f:
            del f[obj]
