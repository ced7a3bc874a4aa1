"""Processing: filters, masks and the pipeline. (Being written.)"""

BUILTIN_PLUGINS: list[str] = []
