"""Plant each mutant of one module and run chosen test files on it (no mutmut run).

``mutmut run`` picks the tests for a mutant from the functions each test reached in
the test process, so code that runs in a forked child or a helper process counts as
"no test", and a run over the readers takes hours on two shared cores. This plants
the same mutants (mutmut's own generator, same names as ``mutmut show``) one at a
time through mutmut's trampoline (``MUTANT_UNDER_TEST``, inherited by children) and
runs only the test files given, in a copy of ``src/``:

    python benchmarks/plant_mutants.py readers/guarded/tiff.py \\
        tests/readers/test_guarded_tiff.py [--only NAME ...] [-k EXPR] [--timeout S]

One line per mutant: ``killed`` (a test failed or timed out) or ``SURVIVED``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="path under src/playnano, e.g. info.py")
    parser.add_argument("tests", nargs="+", help="test files to run on each mutant")
    parser.add_argument("--only", nargs="*", default=None, help="mutant names")
    parser.add_argument("-k", default=None, help="pytest -k expression")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)

    from mutmut.mutation.file_mutation import mutate_file_contents

    source = ROOT / "src" / "playnano" / args.module
    dotted = "playnano." + args.module.removesuffix(".py").replace("/", ".")
    dotted = dotted.removesuffix(".__init__")
    mutated = mutate_file_contents(str(source), source.read_text()).code
    names = sorted(
        set(re.findall(r"def (x\S+?__mutmut_\d+)\(", mutated)),
        key=lambda n: (n.rsplit("_", 1)[0], int(n.rsplit("_", 1)[1])),
    )
    names = [f"{dotted}.{n}" for n in names]
    if args.only:
        names = [n for n in names if n in set(args.only)]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__"))
        (src / "playnano" / args.module).write_text(mutated)
        env = {**os.environ, "PYTHONPATH": str(src)}
        command = [sys.executable, "-m", "pytest", *args.tests, "-x", "-q",
                   "-p", "no:cacheprovider", *(["-k", args.k] if args.k else [])]  # fmt: skip
        for name in names:
            proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**env, "MUTANT_UNDER_TEST": name},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its children (walkers, helpers) go with it
            )
            try:
                code = proc.wait(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                code = -1
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            print(("SURVIVED " if code == 0 else "killed ") + name, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
