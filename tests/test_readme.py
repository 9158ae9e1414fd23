"""The README's layout is the code's: every module it names exists, and it names every module."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[a-z_]+(?:\.py|/))(?:\s|$)")


def layout_block() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Layout", 1)[1]
    return section.split("```", 2)[1].splitlines()


def named_paths() -> set[Path]:
    """Each entry's path, from its indentation (two spaces a level) under the folders above it."""
    folders: list[str] = []
    paths = set()
    for line in layout_block():
        match = ENTRY.match(line)
        if match is None:
            continue
        depth = len(match["indent"]) // 2
        del folders[depth:]
        path = Path(*folders, match["name"].rstrip("/"))
        paths.add(path)
        if match["name"].endswith("/"):
            folders.append(match["name"].rstrip("/"))
    return paths


def test_every_module_the_readme_names_exists() -> None:
    missing = sorted(str(path) for path in named_paths() if not (REPO / path).exists())

    assert missing == []


def test_the_readme_names_every_module_of_the_service() -> None:
    modules = {
        path.relative_to(REPO)
        for path in (REPO / "api").rglob("*.py")
        if path.name != "__init__.py"
    }

    assert sorted(map(str, modules - named_paths())) == []
