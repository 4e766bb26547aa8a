"""README's "Architecture" section describes the tree as it is."""

from __future__ import annotations

import ast
import re

from tests.helpers import REPO

README = (REPO / "README.md").read_text()
SECTION = README[README.index("## Architecture") :].split("\n## ", 1)[0]
TREE = SECTION[SECTION.index("```text") : SECTION.index("```", SECTION.index("```text") + 3)]
PACKAGES = sorted(p.name for p in (REPO / "gateway").iterdir() if (p / "__init__.py").is_file())


def test_every_package_is_in_the_tree_and_has_its_paragraph() -> None:
    """Each package of gateway/ is a line of the tree and a bullet naming it in bold, so a new
    package cannot land undescribed."""
    assert len(PACKAGES) >= 10
    for name in PACKAGES:
        assert re.search(rf"^  {name}/ ", TREE, re.MULTILINE), name
        assert f"**{name}**" in SECTION, name


def test_every_module_the_tree_names_exists() -> None:
    """The tree's module names (`process.py`, `hub.py`, ...) are files of the package they sit
    under: renaming one without the README fails here."""
    package = ""
    for line in TREE.splitlines()[1:]:
        top = re.match(r"^  (\w+)/", line)
        if top:
            package = top.group(1)
            continue
        if not line.startswith("    "):
            package = ""
            for name in re.findall(r"^  (\w+\.py)", line):
                assert (REPO / "gateway" / name).is_file(), name
            continue
        for name in re.findall(r"(\w+\.py)", line):
            assert (REPO / "gateway" / package / name).is_file(), f"{package}/{name}"


def test_each_package_says_what_lives_there_and_what_it_may_import() -> None:
    """Every package's __init__ has a docstring that names what it may import."""
    for name in PACKAGES:
        source = (REPO / "gateway" / name / "__init__.py").read_text()
        doc = ast.get_docstring(ast.parse(source)) or ""
        assert "import" in doc, name


def test_the_packages_the_tree_opens_list_every_module() -> None:
    """Where the tree lists a package's modules (server/, watch/), it lists all of them: a new
    module there cannot land unnamed."""
    named = set(re.findall(r"(\w+\.py)", TREE))
    for package in ("server", "watch"):
        for path in (REPO / "gateway" / package).glob("*.py"):
            if path.name != "__init__.py":
                assert path.name in named, f"{package}/{path.name}"
