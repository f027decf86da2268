import raadata


def test_version_is_exported() -> None:
    assert isinstance(raadata.__version__, str)
    assert "__version__" in raadata.__all__
