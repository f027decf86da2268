"""Settings: explicit arguments, then ``RAADATA_*`` environment variables, then a profile file.

:func:`settings_from` takes the environment as an argument and never looks at
``os.environ`` itself, so nothing is read at import time and tests stay hermetic.

Environment variables: ``RAADATA_CLIENT_ID``, ``RAADATA_CLIENT_SECRET`` or
``RAADATA_CLIENT_SECRET_FILE`` (not both), ``RAADATA_ENVIRONMENT``, ``RAADATA_API_URL``,
``RAADATA_TOKEN_URL``, ``RAADATA_API_VERSION``, ``RAADATA_TIMEOUT`` (seconds: ``"30"`` or
``"10,300"`` for connect,read), ``RAADATA_DEADLINE`` (seconds for one whole attempt, body
included; default three read timeouts), ``RAADATA_PROFILE`` and ``RAADATA_CONFIG`` (profile
file path).
Empty values count as unset.

The profile file (TOML, default ``$XDG_CONFIG_HOME/raadata/config.toml`` or
``~/.config/raadata/config.toml``) holds ``[profile.NAME]`` sections with the non-secret
settings and optionally ``client_secret_file``; a ``client_secret`` there is refused.
``[profile.default]`` applies when no profile is named.
"""

from __future__ import annotations

import hmac
import os
import re
import stat
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from raadata._errors import ConfigurationError, InsecureFileWarning
from raadata._redaction import remember_secret
from raadata._urls import checked_url

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_API_VERSION",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOKEN_URL",
    "Secret",
    "Settings",
    "settings_from",
]

DEFAULT_API_URL = "https://prism.raalabs.io"
DEFAULT_TOKEN_URL = "https://auth.raalabs.io/oauth2/token"
DEFAULT_API_VERSION = "2025-10-31"
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 300.0)  # (connect, read) seconds

_PROFILE_KEYS = frozenset(
    {"client_id", "client_secret_file", "environment", "api_url", "token_url", "api_version",
     "timeout", "deadline"}
)
_EXPLICIT_KEYS = frozenset(
    {"client_id", "client_secret", "client_secret_file", "environment", "api_url", "token_url",
     "api_version", "timeout", "deadline", "profile"}
)
DEADLINE_FACTOR = 3.0
"""The default deadline of one attempt, in read timeouts."""
_VERSION_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Secret:
    """A string that never shows itself: repr/str are masked, pickling is refused.

    Call :meth:`reveal` to get the text (only the token exchange does).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a secret must be a str, not {type(value).__name__}")
        self._value = value
        remember_secret(value)

    def reveal(self) -> str:
        """The secret text."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, len(self._value)))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "raadata refuses to pickle a secret; build settings in each process "
            "(e.g. raadata.Client.from_env())"
        )

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


@dataclass(frozen=True)
class Settings:
    """Everything needed to talk to Prism. ``timeout`` is (connect, read) in seconds;
    ``deadline`` bounds one whole attempt, body included (seconds; default three read
    timeouts), so that a server trickling its answer is cut off."""

    client_id: str
    client_secret: Secret = field(repr=False)
    environment: str
    api_url: str = DEFAULT_API_URL
    token_url: str = DEFAULT_TOKEN_URL
    api_version: str = DEFAULT_API_VERSION
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    profile: str | None = None
    deadline: float | None = None

    def __post_init__(self) -> None:
        """The one place settings are checked (whatever built them)."""
        if not isinstance(self.client_id, str) or not self.client_id.strip():
            if self.client_id and not isinstance(self.client_id, str):
                raise ConfigurationError(
                    f"client_id must be a string, not {type(self.client_id).__name__}"
                )
            _missing_client_id()
        if not isinstance(self.environment, str) or not self.environment.strip():
            if self.environment and not isinstance(self.environment, str):
                raise ConfigurationError(
                    f"environment must be a string, not {type(self.environment).__name__}"
                )
            raise ConfigurationError(
                "no environment: set RAADATA_ENVIRONMENT, or pass environment=, or put "
                "environment in a profile (the path segment after the API URL that Raa Labs "
                "gave you)"
            )
        for key in ("api_url", "token_url", "api_version"):
            value = getattr(self, key)
            if not isinstance(value, str):
                raise ConfigurationError(f"{key} must be a string, not {type(value).__name__}")
        if isinstance(self.client_secret, str):  # be forgiving to direct construction
            object.__setattr__(self, "client_secret", Secret(self.client_secret))
        if not self.client_secret:
            _missing_secret()
        object.__setattr__(self, "client_id", self.client_id.strip())
        if "/" in self.environment.strip().strip("/"):
            raise ConfigurationError(
                f"environment {self.environment!r} must be one non-empty path segment "
                "(set RAADATA_ENVIRONMENT or pass environment=)"
            )
        object.__setattr__(self, "environment", self.environment.strip().strip("/"))
        object.__setattr__(self, "api_url", _check_url(self.api_url, "api_url", "RAADATA_API_URL"))
        object.__setattr__(
            self, "token_url", _check_url(self.token_url, "token_url", "RAADATA_TOKEN_URL")
        )
        object.__setattr__(self, "timeout", _timeout(self.timeout, "timeout"))
        object.__setattr__(self, "deadline", _deadline(self.deadline, self.timeout[1]))
        object.__setattr__(self, "api_version", self.api_version.strip())
        if not _VERSION_RE.fullmatch(self.api_version):
            raise ConfigurationError(
                f"api_version {self.api_version!r} is not YYYY-MM-DD "
                "(set RAADATA_API_VERSION or pass api_version=)"
            )

    @property
    def base_url(self) -> str:
        """``{api_url}/{environment}``: the prefix of every endpoint path."""
        return f"{self.api_url}/{self.environment}"


def _check_url(url: str, name: str, var: str) -> str:
    try:
        return checked_url(url.strip())
    except ValueError as exc:
        raise ConfigurationError(f"{name} {url!r} {exc} (set {var} or pass {name}=)") from None


def _timeout(value: object, name: str) -> tuple[float, float]:
    try:
        if isinstance(value, str):
            items = [float(v) for v in value.split(",")]
        elif isinstance(value, int | float):
            items = [float(value)]
        elif isinstance(value, tuple | list):
            items = [float(v) for v in value]
        else:
            raise TypeError
    except (TypeError, ValueError):
        items = []
    if len(items) == 1:
        items = [min(items[0], DEFAULT_TIMEOUT[0]), items[0]]
    if len(items) != 2 or not all(v > 0 for v in items):
        raise ConfigurationError(
            f"{name} {value!r} must be seconds > 0, or (connect, read) seconds "
            "(set RAADATA_TIMEOUT, e.g. '10,300', or pass timeout=)"
        )
    return (items[0], items[1])


def _deadline(value: object, read: float) -> float:
    """Seconds for one whole attempt: ``value``, or ``DEADLINE_FACTOR`` read timeouts."""
    if value is None or value == "":
        return DEADLINE_FACTOR * read
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = 0.0
    if not seconds > 0:
        raise ConfigurationError(
            f"deadline {value!r} must be seconds > 0 (set RAADATA_DEADLINE or pass deadline=)"
        )
    return seconds


def _missing_client_id() -> NoReturn:
    raise ConfigurationError(
        "no client id: set RAADATA_CLIENT_ID, or pass client_id=, or put client_id in a "
        "profile. No credentials yet? Try the built-in sandbox: run `raadata demo`, or in "
        "Python `from raadata.sandbox import serve` (with serve() as sb: sb.client())"
    )


def _missing_secret() -> NoReturn:
    raise ConfigurationError(
        "no client secret: set RAADATA_CLIENT_SECRET or RAADATA_CLIENT_SECRET_FILE, "
        "or pass client_secret="
    )


def _config_path(env: Mapping[str, str]) -> Path | None:
    if env.get("RAADATA_CONFIG"):
        return Path(env["RAADATA_CONFIG"]).expanduser()
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]) / "raadata" / "config.toml"
    home = env.get("HOME") or env.get("USERPROFILE")
    return Path(home) / ".config" / "raadata" / "config.toml" if home else None


def _load_profile(env: Mapping[str, str], name: str | None) -> tuple[str | None, dict[str, Any]]:
    """(profile name, its settings); ``({}, None)`` when there is no file and none was named."""
    path = _config_path(env)
    named = name is not None
    if path is None or not path.is_file():
        if named:
            where = path or "RAADATA_CONFIG"
            raise ConfigurationError(
                f"profile {name!r} asked for, but there is no profile file at {where} "
                "(set RAADATA_CONFIG to its path)"
            )
        return None, {}
    check_private(path, "the profile file", env)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read profile file {path}: {exc}") from None
    profiles = data.get("profile", {})
    if not isinstance(profiles, dict):
        raise ConfigurationError(f"{path}: 'profile' must be a table of [profile.NAME] sections")
    key = name if named else "default"
    section = profiles.get(key)
    if section is None:
        if named:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigurationError(
                f"no [profile.{name}] in {path} (profiles there: {known}); "
                "set RAADATA_PROFILE or pass profile="
            )
        return None, {}
    if not isinstance(section, dict):
        raise ConfigurationError(f"{path}: [profile.{key}] must be a table")
    if "client_secret" in section:
        raise ConfigurationError(
            f"{path}: [profile.{key}] holds client_secret; profile files must not hold secrets. "
            "Remove it and set RAADATA_CLIENT_SECRET, or point client_secret_file at a file"
        )
    unknown = set(section) - _PROFILE_KEYS
    if unknown:
        raise ConfigurationError(
            f"{path}: [profile.{key}] has unknown keys {sorted(unknown)}; "
            f"known keys: {sorted(_PROFILE_KEYS)}"
        )
    return key, dict(section)


def check_private(path: Path, what: str, env: Mapping[str, str]) -> None:
    """Warn (:class:`~raadata.InsecureFileWarning`) if ``path`` may be read by group or
    others, as ssh does for keys; refuse instead if ``RAADATA_STRICT_PERMISSIONS=1``."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # reading it will say what is wrong
    if os.name != "posix" or not mode & 0o077:
        return
    message = (f"{what} {path} can be read by others (mode {stat.S_IMODE(mode):o}): "
               f"run `chmod 600 {path}`")
    if env.get("RAADATA_STRICT_PERMISSIONS", "").strip().lower() in ("1", "true", "yes"):
        raise ConfigurationError(message + " (refused: RAADATA_STRICT_PERMISSIONS is set)")
    warnings.warn(message, InsecureFileWarning, stacklevel=4)


def _read_secret_file(path: str, origin: str, env: Mapping[str, str]) -> Secret:
    check_private(Path(path).expanduser(), f"the client secret file named by {origin}", env)
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the client secret file named by {origin} ({path}): {exc.strerror}"
        ) from None
    if not text:
        raise ConfigurationError(f"the client secret file named by {origin} ({path}) is empty")
    return Secret(text)


def _secret(
    given: Mapping[str, Any], env: Mapping[str, str], profile: Mapping[str, Any],
    profile_name: str | None,
) -> Secret:
    """The secret by precedence; an empty one when none is configured (Settings says so)."""
    explicit = given.get("client_secret")
    if explicit is not None:
        if isinstance(explicit, Secret):
            return explicit
        if not isinstance(explicit, str):
            raise TypeError(f"client_secret must be a str, not {type(explicit).__name__}")
        return Secret(explicit)
    if given.get("client_secret_file"):
        return _read_secret_file(str(given["client_secret_file"]), "--client-secret-file", env)
    value, path = env.get("RAADATA_CLIENT_SECRET"), env.get("RAADATA_CLIENT_SECRET_FILE")
    if value and path:
        raise ConfigurationError(
            "both RAADATA_CLIENT_SECRET and RAADATA_CLIENT_SECRET_FILE are set; unset one"
        )
    if value:
        return Secret(value)
    if path:
        return _read_secret_file(path, "RAADATA_CLIENT_SECRET_FILE", env)
    if profile.get("client_secret_file"):
        return _read_secret_file(
            str(profile["client_secret_file"]), f"client_secret_file in [profile.{profile_name}]",
            env,
        )
    return Secret("")


def settings_from(env: Mapping[str, str], **explicit: Any) -> Settings:
    """Settings from explicit arguments, then ``RAADATA_*`` in ``env``, then a profile file.

    ``explicit`` takes ``client_id``, ``client_secret`` (or ``client_secret_file``, a path),
    ``environment``, ``api_url``, ``token_url``, ``api_version``, ``timeout`` (seconds or
    (connect, read)) and ``profile``; ``None`` means "not given". Checking is
    :class:`Settings`' own. Raises :class:`ConfigurationError` naming the
    missing or contradictory setting and how to provide it.
    """
    unknown = set(explicit) - _EXPLICIT_KEYS
    if unknown:
        raise TypeError(f"settings_from() got unexpected arguments {sorted(unknown)}")
    given = {k: v for k, v in explicit.items() if v is not None}
    profile_name, profile = _load_profile(
        env, given.get("profile") or env.get("RAADATA_PROFILE") or None
    )

    def pick(key: str, default: Any = None) -> Any:
        if key in given:
            return given[key]
        var = f"RAADATA_{key.upper()}"
        if env.get(var):
            return env[var]
        return profile.get(key, default)

    if not pick("client_id"):
        _missing_client_id()  # before the secret is looked for: the first thing to fix
    return Settings(
        client_id=pick("client_id"),
        client_secret=_secret(given, env, profile, profile_name),
        environment=pick("environment", ""),
        api_url=pick("api_url", DEFAULT_API_URL),
        token_url=pick("token_url", DEFAULT_TOKEN_URL),
        api_version=pick("api_version", DEFAULT_API_VERSION),
        timeout=pick("timeout", DEFAULT_TIMEOUT),
        deadline=pick("deadline"),
        profile=profile_name,
    )
