"""The fuzz loop: ``python -m tests.fuzz [--seconds N] [--seed S] [--family F ...]
[--door load|lazy|info|all]``.

Every seed is first opened unmutated; then families take turns, each turn one case
from a random seed of the family with one or two mutations. Each case goes through
the doors ``--door`` names (``all``, the default: ``read``, ``read_lazy`` with every
frame read in and out of order, ``inspect``, ``channels`` and ``check``, in one
forked child, and the doors must agree with each other). A failure is re-run to
confirm it, its edits are reduced to the fewest that still fail the same way, and it
is saved to the corpus (one case per distinct failure). Exit status 1 when any
failure was found.
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from tests.fuzz import corpus, mutate, runner, seeds

#: The wording of load()'s catch-all for exceptions a reader did not turn into errors.
GENERIC = re.compile(
    r"(?:corrupt or not understood|cannot be read|truncated or corrupt) \((\w+)[:)]"
)


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    p.add_argument("--seconds", type=float, default=300.0, help="time budget (300)")
    p.add_argument("--seed", type=int, default=None, help="random seed (random)")
    p.add_argument("--family", action="append", help="only these families")
    p.add_argument(
        "--door",
        choices=sorted(runner.DOORS),
        default="all",
        help="the doors each case goes through (all)",
    )
    p.add_argument("--cpu", type=int, default=runner.CPU_SECONDS, help="CPU s a case")
    p.add_argument("--memory-mb", type=int, default=runner.MEMORY_BYTES >> 20)
    p.add_argument("--save-to", type=Path, default=corpus.CORPUS, help="corpus folder")
    p.add_argument("--no-save", action="store_true", help="do not save found cases")
    return p.parse_args(argv)


class Fuzzer:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.stats: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        # signature -> (family, kind, name); what the corpus holds is not saved again
        self.found: dict[str, tuple[str, str, str]] = {}
        self.known = {
            info["signature"]
            for info in corpus.read_index(args.save_to).values()
            if "signature" in info
        }
        self.cases = 0

    def run(self, seed: seeds.Seed, ops: list[mutate.Op], data: bytes) -> None:
        case_dir = self.work / "case"
        case = seeds.materialise(seed, data, case_dir, f"{seed.family}-case")
        try:
            mutate.apply_h5(case / seed.member if seed.member else case, ops)
        except Exception:  # (the edit does not fit this damaged file)
            self.stats[seed.family]["skipped"] += 1
            return
        self.cases += 1
        outcome = runner.run_case(
            case,
            door=self.args.door,
            cpu_s=self.args.cpu,
            mem=self.args.memory_mb << 20,
        )
        size = corpus.input_bytes(case)
        found = runner.verdict(case, outcome, size)
        fam = self.stats[seed.family]
        fam["cases"] += 1
        res = outcome.result
        fam[res.get("status", "none")] += 1
        generic = GENERIC.search(res.get("message", ""))
        if res.get("status") == "error" and generic:
            fam[f"generic {generic.group(1)}"] += 1  # load()'s safety net caught it
        if found is None:
            return
        kind, detail = found
        again = runner.verdict(case, self.rerun(case), size)
        if again is None or again[0] != kind:
            fam["flaky"] += 1
            return
        ops = self.reduce(seed, ops, data, kind)
        sig = runner.signature(seed.family, kind, outcome, case.name)
        fam[f"FAIL {kind}"] += 1
        if sig in self.found:
            return
        if sig in self.known:
            self.found[sig] = (seed.family, kind, "(already in the corpus)")
            print(
                f"FOUND {kind} in {seed.family}: {detail[:200]} (already in the corpus)"
            )
            return
        data = mutate.apply(seed.target.read_bytes(), ops)
        case = seeds.materialise(seed, data, case_dir, f"{seed.family}-case")
        mutate.apply_h5(case / seed.member if seed.member else case, ops)
        name = "(not saved)"
        if not self.args.no_save:
            info = {"family": seed.family, "kind": kind, "detail": detail[:300]}
            info["door"] = res.get("door") or self.args.door
            info["signature"] = sig
            info["ops"] = ops if not seed.real else "see the recipe"
            saved = corpus.save(self.args.save_to, seed, ops, case, info)
            name = saved.name if saved else "(too big to save)"
        self.found[sig] = (seed.family, kind, name)
        print(
            f"FOUND {kind} in {seed.family} ({seed.id}): {detail[:200]} -> {name}",
            flush=True,
        )

    def rerun(self, case: Path) -> runner.Outcome:
        """Run ``case`` again through the same doors (to confirm or reduce it)."""
        return runner.run_case(case, door=self.args.door, cpu_s=self.args.cpu)

    def reduce(
        self, seed: seeds.Seed, ops: list[mutate.Op], data: bytes, kind: str
    ) -> list[mutate.Op]:
        """Drop edits that are not needed for the failure (cheap: one pass)."""
        if len(ops) < 2:
            return ops
        original = seed.target.read_bytes()
        for i in range(len(ops) - 1, -1, -1):
            if len(ops) < 2:
                break
            trial = ops[:i] + ops[i + 1 :]
            case = seeds.materialise(
                seed, mutate.apply(original, trial), self.work / "min", "m"
            )
            try:
                mutate.apply_h5(case / seed.member if seed.member else case, trial)
            except Exception:
                continue
            got = runner.verdict(
                case,
                self.rerun(case),
                corpus.input_bytes(case),
            )
            if got is not None and got[0] == kind:
                ops = trial
        return ops


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    seed_value = args.seed if args.seed is not None else random.randrange(2**31)
    rng = random.Random(seed_value)
    start = time.monotonic()
    runner.preload()
    with tempfile.TemporaryDirectory(prefix="playnano-fuzz-") as tmp:
        work = Path(tmp)
        all_seeds = seeds.real_seeds(work / "real")
        generated, problems = seeds.generated_seeds(work / "gen")
        all_seeds += generated
        for problem in problems:
            print(f"seed builder failed: {problem}", file=sys.stderr)
        if args.family:
            all_seeds = [s for s in all_seeds if s.family in args.family]
        by_family: dict[str, list[seeds.Seed]] = collections.defaultdict(list)
        for s in all_seeds:
            by_family[s.family].append(s)
        families = sorted(by_family)
        print(
            f"fuzz seed {seed_value}; doors: {', '.join(runner.DOORS[args.door])}; "
            f"{len(all_seeds)} seeds; families: "
            f"{', '.join(f'{f} ({len(by_family[f])})' for f in families)}",
            flush=True,
        )
        fuzzer = Fuzzer(args, work)
        blobs = {s.id: s.target.read_bytes() for s in all_seeds}
        for s in all_seeds:  # every seed as it is
            fuzzer.run(s, [], blobs[s.id])
        turn = 0
        while families and time.monotonic() - start < args.seconds:
            s = rng.choice(by_family[families[turn % len(families)]])
            turn += 1
            ops = mutate.mutate(s.family, blobs[s.id], s.target, rng)
            fuzzer.run(s, ops, mutate.apply(blobs[s.id], ops))
    elapsed = time.monotonic() - start
    print(f"\n{fuzzer.cases} cases in {elapsed:.0f} s (seed {seed_value})")
    for fam in families:
        counts = fuzzer.stats[fam]
        rest = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "cases")
        print(f"  {fam:10} {counts['cases']:6} cases: {rest}")
    if not fuzzer.found:
        print("no failures")
        return 0
    index = corpus.read_index(args.save_to)
    known = {i["signature"]: n for n, i in index.items() if i.get("xfail")}
    print(f"\n{len(fuzzer.found)} distinct failures:")
    for sig, (fam, kind, name) in fuzzer.found.items():
        note = f" (known: {known[sig]} is an xfail)" if sig in known else ""
        print(f"  {fam:10} {kind:9} {name}{note}")
    # a failure the corpus already holds as a strict xfail is tracked there
    return 1 if set(fuzzer.found) - set(known) else 0


if __name__ == "__main__":
    sys.exit(main())
