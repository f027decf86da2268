"""The example notebooks: committed without outputs, and they run from top to bottom against
the sandbox without an error and without showing a credential.

Each notebook starts its own sandbox, whose secrets are made at random. To know exactly
what must not appear, the test runs a hidden first cell that records every sandbox
authority and every token it issues, and a hidden last cell that prints them (its output
is taken out before the outputs are searched). Outputs are also searched for anything
JWT-shaped (``eyJ...``) and for ``client_secret=...``-style assignments.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 180  # seconds; a guard against a hung kernel, not a performance limit
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}")
SECRET_ASSIGNMENT = re.compile(
    r"""(?i)(client_secret|RAADATA_CLIENT_SECRET)\s*[=:]\s*["']?[A-Za-z0-9_\-]{8,}"""
)
TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")

SPY = """
import raadata.sandbox.tokens as _raadata_test_tokens

_raadata_test_seen = {"authorities": [], "tokens": []}
_raadata_test_init = _raadata_test_tokens.Authority.__init__
_raadata_test_issue = _raadata_test_tokens.Authority.issue

def _raadata_test_spy_init(self, *args, **kwargs):
    _raadata_test_init(self, *args, **kwargs)
    _raadata_test_seen["authorities"].append(self)

def _raadata_test_spy_issue(self, *args, **kwargs):
    response = _raadata_test_issue(self, *args, **kwargs)
    _raadata_test_seen["tokens"].append(response["access_token"])
    return response

_raadata_test_tokens.Authority.__init__ = _raadata_test_spy_init
_raadata_test_tokens.Authority.issue = _raadata_test_spy_issue
"""

REPORT = """
import json as _raadata_test_json
import sys as _raadata_test_sys

print(_raadata_test_json.dumps({
    "secrets": sorted({client.client_secret
                       for authority in _raadata_test_seen["authorities"]
                       for client in authority.clients.values()}),
    "tokens": _raadata_test_seen["tokens"],
    "prefix": _raadata_test_sys.prefix,
}))
"""


def read(path: Path) -> Any:
    """A notebook (nbformat 4); nbformat's functions carry no type hints."""
    return nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]


def code_cell(source: str) -> Any:
    return nbformat.v4.new_code_cell(source)  # type: ignore[no-untyped-call]


def test_the_notebooks_are_there() -> None:
    assert [path.name for path in NOTEBOOKS] == [
        "01-quickstart.ipynb",
        "02-statistics-and-metadata.ipynb",
        "03-export-to-parquet.ipynb",
        "04-recipes.ipynb",
        "05-dask.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_without_outputs_or_secrets(path: Path) -> None:
    notebook = read(path)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    for cell in code:
        assert cell.outputs == [], f"{path.name}: outputs in cell {cell.id}"
        assert cell.execution_count is None, f"{path.name}: execution count in cell {cell.id}"
    for cell in notebook.cells:
        assert not SECRET_ASSIGNMENT.search(cell.source), f"{path.name}: a secret in {cell.id}"
        assert not re.search(r"client_secret\s*=", cell.source), cell.source
        assert not JWT.search(cell.source)


def test_notebooks_are_what_build_py_writes() -> None:
    """The notebooks are generated: edit ``notebooks/build.py`` and run it, not the JSON."""
    spec = importlib.util.spec_from_file_location("notebooks_build", ROOT / "notebooks/build.py")
    assert spec is not None
    assert spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert sorted(build.NOTEBOOKS) == [path.name for path in NOTEBOOKS]
    for name, cells in build.NOTEBOOKS.items():
        expected = nbformat.writes(build.build(cells))  # type: ignore[no-untyped-call]
        on_disk = (ROOT / "notebooks" / name).read_text(encoding="utf-8")
        assert on_disk.rstrip("\n") == expected.rstrip("\n"), (
            f"{name} differs from notebooks/build.py: run `python notebooks/build.py`")


def texts(output: dict[str, Any]) -> list[str]:
    """The text an output shows (streams, text representations, errors; not images)."""
    kind = output["output_type"]
    if kind == "stream":
        return [output["text"]]
    if kind == "error":
        return [output["ename"], output["evalue"], *output["traceback"]]
    data = output.get("data", {})
    return [value if isinstance(value, str) else json.dumps(value)
            for mime, value in data.items() if mime in TEXT_TYPES]


def kernel_env(tmp_path: Path) -> dict[str, str]:
    """The kernel's environment: no inherited RAADATA_* settings, no profile file."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("RAADATA_")}
    env["RAADATA_CONFIG"] = str(tmp_path / "no-such-config.toml")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's frozen-modules notice
    return env


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_runs_cleanly_and_shows_no_credential(path: Path, tmp_path: Path) -> None:
    notebook = read(path)
    notebook.cells.insert(0, code_cell(SPY))
    notebook.cells.append(code_cell(REPORT))
    work = tmp_path / "work"
    work.mkdir()
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute(env=kernel_env(tmp_path))  # raises CellExecutionError on any error

    spy, *cells, report = notebook.cells
    assert spy.outputs == []
    seen = json.loads("".join(texts(report.outputs[0])))
    assert seen["prefix"] == sys.prefix, "the kernel is not this environment's python"
    assert seen["secrets"], "the notebook started no sandbox"
    assert seen["tokens"], "the notebook never signed in"

    shown: list[str] = []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"cell {cell.id} did not run"
        for output in cell.outputs:
            assert output["output_type"] != "error", f"cell {cell.id}: {output['evalue']}"
            shown += texts(output)
            if output["output_type"] == "stream" and output["name"] == "stderr":
                assert "Warning" not in output["text"], output["text"]
    everything = "\n".join(shown)
    assert everything, "the notebook showed nothing"
    for secret in seen["secrets"]:
        assert secret not in everything, "a sandbox client secret is in an output"
    for token in seen["tokens"]:
        assert token not in everything, "an access token is in an output"
    assert not JWT.search(everything), JWT.search(everything)
    assert not SECRET_ASSIGNMENT.search(everything), SECRET_ASSIGNMENT.search(everything)
    assert not list(work.iterdir()), "the notebook left files in its working directory"
