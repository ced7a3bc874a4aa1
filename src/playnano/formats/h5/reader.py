"""The HDF5 bundle reader: playnano's ``.h5`` bundles (this version's and 0.5.0's).

Bundles come back bit for bit: data, every processed layer and mask in their own
dtype, frame metadata, provenance and state backups. Anything missing or malformed
raises :class:`~playnano.errors.ReadError` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ReadError
from playnano.formats import _reading
from playnano.formats.h5 import layout
from playnano.plugins import hookimpl

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.info import StackInfo

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def load_h5_bundle(path: str | Path, channel: str | None = None) -> AFMImageStack:
    """Load an HDF5 bundle written by playnano (this version or 0.5.0).

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.h5`` file.
    channel : str, optional
        Accepted for compatibility with playnano 0.5.0 and ignored.

    Returns
    -------
    AFMImageStack
        Data, processed layers, masks, frame metadata, provenance and state backups
        as stored, in their own dtypes.
    """
    import h5py

    p = _reading.existing(path)
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise ReadError(f"{p}: not an HDF5 file ({exc})") from None
    with f:
        try:
            missing = [k for k in layout.REQUIRED if k not in f]
            missing += [
                f"attribute {a}" for a in layout.REQUIRED_ATTRS if a not in f.attrs
            ]
            if missing:
                raise ReadError(
                    f"{p}: not a playnano bundle; missing {', '.join(missing)}"
                )
            _reading.check_version(
                p, f.attrs.get(layout.VERSION_KEY), layout.FORMAT_VERSION
            )

            def arrays(group_name: str) -> dict[str, np.ndarray]:
                group = f.get(group_name)
                if group is None:
                    return {}
                if not isinstance(group, h5py.Group):
                    raise ReadError(f"{p}: /{group_name} is not a group")
                out = {}
                for name, ds in group.items():
                    if not isinstance(ds, h5py.Dataset):
                        raise ReadError(f"{p}: /{group_name}/{name} is not a dataset")
                    out[name] = ds[()]
                return out

            def text(key: str) -> str:
                ds = f[key]
                if not isinstance(ds, h5py.Dataset):
                    raise ReadError(f"{p}: /{key} is not a dataset")
                return _reading.as_text(p, key, ds[()])

            def json_dataset(key: str) -> Any:
                return _reading.parse_json(p, key, text(key))

            backups = None
            if layout.STATE_BACKUPS in f:
                backups = json_dataset(layout.STATE_BACKUPS)
            data = f[layout.DATA]
            return _reading.build_stack(
                p,
                data[()] if isinstance(data, h5py.Dataset) else None,
                f.attrs[layout.PIXEL_SIZE_ATTR],
                _reading.as_text(p, "channel", f.attrs[layout.CHANNEL_ATTR]),
                json_dataset(layout.FRAME_METADATA),
                json_dataset(layout.PROVENANCE),
                state_backups=backups,
                layers=arrays(layout.LAYERS_GROUP),
                masks=arrays(layout.MASKS_GROUP),
            )
        except (OSError, KeyError, RuntimeError) as exc:  # corrupt or truncated
            raise ReadError(f"{p}: unreadable ({exc})") from None


class H5BundleReader(_reading.BundleReader):
    """Reads playnano ``.h5`` bundles (this version's and 0.5.0's)."""

    name = "h5-bundle"
    aliases = ("h5", "hdf5")
    suffixes = (layout.SUFFIX, ".hdf5")
    description = "playnano HDF5 bundle (data, layers, masks, metadata, provenance)"
    requires = ("h5py",)
    install_hint = "pip install h5py"
    magics = (HDF5_MAGIC,)

    def load_file(self, path: Path) -> AFMImageStack:
        """Load the bundle with :func:`load_h5_bundle`."""
        return load_h5_bundle(path)

    def inspect(self, path: Path) -> StackInfo:
        """Describe the file from its metadata (see :mod:`.info`)."""
        from playnano.formats.h5 import info

        return info.inspect(path)

    def check(self, path: Path) -> list[str]:
        """Problems against the bundle specification, one line each."""
        from playnano.formats.h5 import info

        return info.check(path)


@hookimpl
def register_readers(register: Any) -> None:
    """Register the HDF5 bundle reader."""
    register(H5BundleReader())
