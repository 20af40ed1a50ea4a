"""Packaging: one `kerazoo` namespace mapped from the top-level folders; `import kerazoo` stays light."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    setuptools_config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = setuptools_config["package-dir"]
    listed = set(setuptools_config["packages"])
    # Each folder belongs to the mapping entry whose folder is its longest prefix.
    folders = {package: (ROOT / folder).resolve() for package, folder in mapping.items()}
    expected = set()
    for init in ROOT.rglob("__init__.py"):
        folder = init.parent.resolve()
        owners = [p for p, root in folders.items() if folder == root or root in folder.parents]
        if not owners or ".venv" in folder.parts:
            continue
        owner = max(owners, key=lambda p: len(folders[p].parts))
        expected.add(".".join([owner, *folder.relative_to(folders[owner]).parts]))
    missing = expected - listed
    assert not missing, f"add these packages to [tool.setuptools] packages: {sorted(missing)}"


def test_import_kerazoo_does_not_import_keras_or_tensorflow():
    code = (
        "import sys, kerazoo, kerazoo.registry, kerazoo.cli; "
        "heavy = [m for m in ('keras', 'tensorflow', 'jax', 'torch', 'tensorflow_datasets') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _requirement_names(requirements):
    import re

    return {re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].lower() for req in requirements}


def test_a_plain_install_serves_and_has_one_tensorflow_distribution():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = _requirement_names(project["dependencies"])
    # tensorflow-serving-api and tensorflow-text require the `tensorflow` distribution name; next to
    # tensorflow-cpu pip would install a second TensorFlow into the same folder.
    assert "tensorflow" in names and "tensorflow-cpu" not in names
    assert {"starlette", "uvicorn", "grpcio", "tensorflow-serving-api"} <= names
    all_extras = {n for extra in project["optional-dependencies"].values()
                  for n in _requirement_names(extra)}
    assert "tensorflow-cpu" not in all_extras
    assert "--no-deps" not in (ROOT / "Makefile").read_text()


def test_catalog_index_ships_as_package_data():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]
    assert "*.json" in package_data["*"]
    assert (ROOT / "kerazoo" / "catalog_index.json").is_file()
