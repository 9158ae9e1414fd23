"""The layout holds: no module of the service over 300 lines, no two modules that import each
other (however indirectly), and the web layer never imports development wiring."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
API = REPO / "api"
MAX_LINES = 300
# The app factory mounts development's routes when SIGNET_ENV=development; nothing else may.
LOADS_DEVELOPMENT = {"api.app"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in API.rglob("*.py")}


def nearest_module(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """The api modules `module` imports, at its top or inside functions."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {nearest_module(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                found.add(nearest_module(f"{base}.{alias.name}") or nearest_module(base))
    return {name for name in found if name is not None and name != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def cycles() -> list[list[str]]:
    """Groups of modules that reach each other through imports (Tarjan's components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in GRAPH[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_no_module_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(REPO)): lines
        for path in MODULES.values()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }

    assert long == {}


def test_no_modules_import_each_other() -> None:
    assert cycles() == []


def test_only_the_app_factory_loads_development_wiring() -> None:
    loading = {
        module
        for module, imported in GRAPH.items()
        if not module.startswith("api.dev")
        and any(name == "api.dev" or name.startswith("api.dev.") for name in imported)
    }

    assert loading <= LOADS_DEVELOPMENT


def test_the_import_graph_is_read() -> None:
    """A check of the checks: the graph sees imports inside functions and relative ones."""
    assert "api.dev.mailbox" in GRAPH["api.app"]
    assert "api.web.deps" in GRAPH["api.dev.mailbox"]
