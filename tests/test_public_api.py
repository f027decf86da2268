import importlib

import raadata


def test_version_is_exported() -> None:
    assert isinstance(raadata.__version__, str)
    assert "__version__" in raadata.__all__


def test_all_matches_what_is_importable() -> None:
    public = {name for name in vars(raadata) if not name.startswith("_")}
    modules = {name for name in public if name in {"auth", "client", "config", "errors", "http"}
               or type(getattr(raadata, name)).__name__ == "module"}
    assert sorted(raadata.__all__) == sorted(set(raadata.__all__))
    assert set(raadata.__all__) == (public - modules) | {"__version__"}
    fresh = importlib.import_module("raadata")
    for name in raadata.__all__:
        assert getattr(fresh, name) is not None
    namespace: dict[str, object] = {}
    exec("from raadata import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(raadata.__all__)


def test_core_names_are_public() -> None:
    for name in ("Client", "RaadataError", "ConfigurationError", "TransportError", "ApiError",
                 "BadRequestError", "AuthenticationError", "PermissionDeniedError",
                 "NotFoundError", "NotAcceptableError", "ResponseTooLargeError",
                 "RateLimitedError", "ServerError"):
        assert name in raadata.__all__
        assert issubclass(getattr(raadata, name), object)
    assert issubclass(raadata.ConfigurationError, ValueError)
    assert all(issubclass(getattr(raadata, n), raadata.RaadataError)
               for n in raadata.__all__ if n.endswith("Error"))
