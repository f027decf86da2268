import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import raadata


def test_version_is_exported() -> None:
    assert isinstance(raadata.__version__, str)
    assert "__version__" in raadata.__all__


def test_all_matches_what_is_importable() -> None:
    assert sorted(raadata.__all__) == sorted(set(raadata.__all__))
    assert dir(raadata) == sorted(raadata.__all__)
    fresh = importlib.import_module("raadata")
    for name in raadata.__all__:
        assert getattr(fresh, name) is not None
    namespace: dict[str, object] = {}
    exec("from raadata import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(raadata.__all__)
    with pytest.raises(AttributeError, match="no attribute 'client'"):
        raadata.client  # noqa: B018  (the old public module is private now)


def test_every_public_name_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [name for name in raadata.__all__ if not re.search(rf"\b{re.escape(name)}\b", readme)]
    assert missing == []


def test_core_names_are_public() -> None:
    for name in ("Client", "RaadataError", "ConfigurationError", "TransportError", "ApiError",
                 "BadRequestError", "AuthenticationError", "PermissionDeniedError",
                 "NotFoundError", "NotAcceptableError", "ResponseTooLargeError",
                 "RateLimitedError", "ServerError"):
        assert name in raadata.__all__
        assert isinstance(getattr(raadata, name), type)
    assert issubclass(raadata.ConfigurationError, ValueError)
    assert all(issubclass(getattr(raadata, n), raadata.RaadataError)
               for n in raadata.__all__ if n.endswith("Error"))


def test_import_is_cheap_and_the_heavy_names_load_on_use() -> None:
    code = ("import sys, raadata; heavy = {'pandas', 'pyarrow'} & set(sys.modules); "
            "print(sorted(heavy)); raadata.Client; print('pandas' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["[]", "True"]
