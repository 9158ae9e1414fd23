"""The README and docs/ say what the code does: the layout is the code's, every setting is
documented, the testing example is the file the suite runs, and every link leads somewhere."""

import re
from pathlib import Path

from api.config import Settings

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[a-z_]+(?:\.py|/))(?:\s|$)")
MAX_README_LINES = 250
# The quickstart's two commands; CI (.ci/run) runs the second.
QUICKSTART = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/signet dev",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest",
)
TESTING_EXAMPLE = REPO / "examples" / "testing" / "test_your_app.py"
# Settings that are not environment variables of their own.
# The SIGNET_PROVIDER_<NAME>_* and SIGNET_WEBHOOK_<NAME>_* variables.
UNDOCUMENTED_SETTINGS = {"provider_variables", "webhook_variables"}
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def layout_block() -> list[str]:
    layout = (DOCS / "layout.md").read_text()
    section = layout.split("\n## Modules\n", 1)[1]
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


def test_every_module_the_layout_names_exists() -> None:
    missing = sorted(str(path) for path in named_paths() if not (REPO / path).exists())

    assert missing == []


def test_the_layout_names_every_module_of_the_service() -> None:
    modules = {
        path.relative_to(REPO)
        for path in (REPO / "api").rglob("*.py")
        if path.name != "__init__.py"
    }

    assert sorted(map(str, modules - named_paths())) == []


def test_the_readme_stays_short() -> None:
    lines = len(README.read_text().splitlines())

    assert lines <= MAX_README_LINES, f"README.md has {lines} lines: move reference to docs/"


def test_the_readme_gives_the_two_quickstart_commands_as_ci_runs_them() -> None:
    readme = README.read_text()

    for command in QUICKSTART:
        assert f"```sh\n{command}\n```" in readme, command
    assert QUICKSTART[1] in (REPO / ".ci" / "run").read_text()


def test_every_setting_is_documented() -> None:
    configuration = (DOCS / "configuration.md").read_text()
    variables = {
        f"SIGNET_{name.upper()}"
        for name in Settings.model_fields
        if name not in UNDOCUMENTED_SETTINGS
    }

    assert sorted(name for name in variables if f"| `{name}` |" not in configuration) == []


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", markdown, flags=re.DOTALL | re.MULTILINE)


def test_the_testing_page_quotes_the_example_the_suite_runs() -> None:
    """docs/testing.md shows examples/testing/test_your_app.py whole, in order, a block at a time
    (top-level definitions are two blank lines apart), so what readers copy is what runs."""
    blocks = [block.rstrip("\n") for block in python_blocks((DOCS / "testing.md").read_text())]

    assert "\n\n\n".join(blocks) + "\n" == TESTING_EXAMPLE.read_text()


def test_every_relative_link_leads_to_a_file_or_heading() -> None:
    broken = []
    for page in [README, *sorted(DOCS.glob("*.md"))]:
        text = page.read_text()
        for match in LINK.finditer(text):
            target = match["target"]
            if re.match(r"^[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{page.name}: {target} (no such heading)")

    assert broken == []


def anchors(page: Path) -> set[str]:
    """The fragment each heading of a markdown page gets, as GitHub makes them."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.MULTILINE)
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")
        for heading in headings
    }
