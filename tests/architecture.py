"""An import-linter contract type: no import cycle between modules.

``acyclic_siblings`` (import-linter's own) compares packages as wholes, so two
packages in one layer whose modules import each other in one direction each
(``formats`` and ``readers``) count as a cycle. What breaks a program is a cycle
of modules: one that cannot be imported before another that imports it. This
contract finds those (strongly connected modules of the import graph, a package's
``__init__`` counting as a module) and names every import inside each cycle.
``lint-imports`` (nox -s lint) loads it from ``pyproject.toml``.
"""

from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


def _cycles(graph, modules: set[str]) -> list[list[str]]:
    """Groups of modules that import each other, directly or not (Tarjan)."""
    imports = {
        m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i in modules)
        for m in modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(modules):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = imports[node]
            if i < len(targets):
                work.append((node, i + 1))
                nxt = targets[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


class AcyclicModulesContract(Contract):
    """No module of ``root`` imports, directly or not, a module that imports it."""

    type_name = "acyclic_modules"
    root = fields.StringField()

    def check(self, graph, verbose: bool) -> ContractCheck:
        root = str(self.root)
        modules = {m for m in graph.modules if m == root or m.startswith(root + ".")}
        cycles = _cycles(graph, modules)
        edges = [
            [
                f"{a} -> {b}"
                for a in group
                for b in group
                if graph.direct_import_exists(importer=a, imported=b)
            ]
            for group in cycles
        ]
        return ContractCheck(kept=not cycles, metadata={"cycles": edges})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for edges in check.metadata["cycles"]:
            output.print_error("These modules import each other:", bold=True)
            for edge in edges:
                output.indent_cursor()
                output.print_error(edge)
            output.new_line()
