"""Capture every log record at DEBUG and search text for secrets (used by the leak tests)."""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import pickle
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


@contextmanager
def debug_everything() -> Iterator[io.StringIO]:
    """DEBUG on the root and on every logger that exists, all captured into one buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.root] + [
        logger for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    logging.root.addHandler(handler)
    try:
        yield buffer
    finally:
        logging.root.removeHandler(handler)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


def needles(client_id: str, secret: str, tokens: Iterable[str]) -> list[str]:
    """Texts that must never appear: the secret, the Basic blob, tokens and their parts."""
    found = [secret, base64.b64encode(f"{client_id}:{secret}".encode()).decode()]
    for token in tokens:
        found.append(token)
        found.extend(part for part in token.split(".")[1:] if len(part) >= 8)
    return found


def exception_texts(exc: BaseException) -> list[str]:
    """Everything a user may see of an exception: str, repr, traceback (also with every
    frame's locals, as IPython's verbose mode and ``pytest --showlocals`` show them), pickle."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), with_locals(exc)]
    with contextlib.suppress(TypeError):  # unpicklable is fine: nothing leaks that way
        texts.append(pickle.dumps(exc).decode("latin-1"))
    return texts


def with_locals(exc: BaseException) -> str:
    """The traceback with the locals of every frame but the tests' own (which hold the
    needles themselves)."""
    rendered = traceback.TracebackException.from_exception(exc, capture_locals=True)
    seen, chain = 0, [rendered]
    while chain:
        part = chain.pop()
        for frame in part.stack:
            if "/tests/" in frame.filename:
                frame.locals = None
            else:
                seen += bool(frame.locals)
        chain += [c for c in (part.__cause__, part.__context__) if c is not None]
    assert seen, "no raadata frame with locals: the check would be empty"
    return "".join(rendered.format())


def assert_clean(texts: Iterable[str], forbidden: Iterable[str]) -> None:
    forbidden = [f for f in forbidden if f]
    for text in texts:
        for needle in forbidden:
            at = text.find(needle)
            assert at < 0, f"secret material (needle {forbidden.index(needle)}) leaked: " + (
                text[max(0, at - 80):at] + "<HERE>")
