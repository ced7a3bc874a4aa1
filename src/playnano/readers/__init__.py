"""Builtin reader plugins, one module per file family, and :func:`load`.

(Being written: see the readers task.)
"""

BUILTIN_PLUGINS: list[str] = []
