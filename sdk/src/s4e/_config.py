"""Named connection profiles shared by the SDK and the `s4e` command.

The file lives in the user's config directory (`$XDG_CONFIG_HOME/s4e/config.json`, `~/.config/s4e/config.json`,
`%APPDATA%\\s4e\\config.json` on Windows), is written atomically with mode 0600 because it holds API keys, and
looks like `{"default_profile": "default", "profiles": {"default": {"base_url": ..., "api_key": ...}}}`.

Precedence for every setting: explicit argument > environment (`S4E_API_KEY`, `S4E_BASE_URL`, `S4E_WORKSPACE`,
`S4E_CLIENT_ID` + `S4E_CLIENT_SECRET` for OAuth, `S4E_PROFILE` selects the profile) > profile > built-in default.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s4e.errors import ConfigurationError

DEFAULT_BASE_URL = "http://127.0.0.1:8000/api/v1"
DEFAULT_PROFILE = "default"
PROFILE_KEYS = ("base_url", "api_key", "workspace")
_PROFILE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def config_dir() -> Path:
    """The directory holding `config.json` for this user."""
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "s4e"
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "s4e"


def config_path() -> Path:
    """The profile file path."""
    return config_dir() / "config.json"


def check_profile_name(name: str) -> str:
    """Profile names are 1-64 characters of letters, digits, `-`, `_` and `.`."""
    if not name or len(name) > 64 or not set(name) <= _PROFILE_NAME_CHARS:
        raise ConfigurationError(f"Invalid profile name {name!r}: use 1-64 letters, digits, '-', '_' or '.'")
    return name


@dataclass
class ConfigFile:
    """The parsed profile file."""

    default_profile: str
    profiles: dict[str, dict[str, str]]
    path: Path

    @classmethod
    def load(cls, path: Path | None = None) -> ConfigFile:
        """Read the file; a missing file is an empty configuration, a corrupt one a ConfigurationError."""
        path = path or config_path()
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(DEFAULT_PROFILE, {}, path)
        except OSError as exc:
            raise ConfigurationError(f"Cannot read {path}: {exc.strerror}") from None
        try:
            data = json.loads(raw)
        except ValueError:
            raise ConfigurationError(f"{path} is not valid JSON; fix or delete it") from None
        if not isinstance(data, dict) or not isinstance(data.get("profiles", {}), dict):
            raise ConfigurationError(f"{path} does not hold an s4e configuration")
        profiles: dict[str, dict[str, str]] = {}
        for name, values in data.get("profiles", {}).items():
            if isinstance(values, dict):
                profiles[str(name)] = {k: str(v) for k, v in values.items() if k in PROFILE_KEYS and v is not None}
        default = data.get("default_profile")
        return cls(default if isinstance(default, str) and default else DEFAULT_PROFILE, profiles, path)

    def save(self) -> None:
        """Write atomically, readable by the owner only (the file holds API keys)."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        body = json.dumps({"default_profile": self.default_profile, "profiles": self.profiles}, indent=2,
                          sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".json", dir=str(self.path.parent))
        try:
            os.chmod(tmp, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body + "\n")
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        os.chmod(self.path, 0o600)

    def profile(self, name: str) -> dict[str, str]:
        """One profile's settings (empty when it does not exist)."""
        return dict(self.profiles.get(name, {}))

    def set(self, name: str, **values: Any) -> None:
        """Set (or with None, remove) settings of a profile, creating it when needed."""
        check_profile_name(name)
        current = self.profiles.setdefault(name, {})
        for key, value in values.items():
            if key not in PROFILE_KEYS:
                raise ConfigurationError(f"Unknown setting {key!r}; settings are {', '.join(PROFILE_KEYS)}")
            if value is None or value == "":
                current.pop(key, None)
            else:
                current[key] = str(value)

    def remove(self, name: str) -> None:
        """Delete a profile."""
        if name not in self.profiles:
            raise ConfigurationError(f"No profile named {name!r}")
        del self.profiles[name]
        if self.default_profile == name:
            self.default_profile = DEFAULT_PROFILE


@dataclass(frozen=True)
class Settings:
    """The effective connection settings after applying precedence."""

    base_url: str
    api_key: str | None
    workspace: str | None
    profile: str
    client_id: str | None = None
    """OAuth client id, when the client authenticates with client credentials instead of an API key."""
    client_secret: str | None = None
    """OAuth client secret going with `client_id`."""


def _credentials(api_key: str | None, client_id: str | None, client_secret: str | None,
                 stored_key: str | None) -> tuple[str | None, str | None, str | None]:
    """(api_key, client_id, client_secret): explicit arguments, then the environment, then the profile's key.

    An API key and client credentials given at the same level are ambiguous and refused.
    """
    env = os.environ
    levels = [(api_key, client_id, client_secret, "arguments"),
              (env.get("S4E_API_KEY"), env.get("S4E_CLIENT_ID"), env.get("S4E_CLIENT_SECRET"), "environment")]
    for key, cid, secret, where in levels:
        if key and (cid or secret):
            raise ConfigurationError(f"Both an API key and OAuth client credentials are set in the {where}; "
                                     f"use one")
        if key:
            return key, None, None
        if cid or secret:
            if not (cid and secret):
                raise ConfigurationError(f"OAuth needs both client_id and client_secret (set in the {where})")
            return None, cid, secret
    return stored_key or None, None, None


def resolve(*, api_key: str | None = None, base_url: str | None = None, workspace: str | None = None,
            profile: str | None = None, client_id: str | None = None,
            client_secret: str | None = None) -> Settings:
    """Apply argument > environment > profile > default, for the SDK constructor and the CLI alike.

    Credentials: an API key (S4E_API_KEY) or OAuth client credentials (S4E_CLIENT_ID + S4E_CLIENT_SECRET);
    profiles store API keys only.
    """
    env = os.environ
    explicit_profile = profile or env.get("S4E_PROFILE") or None
    config = ConfigFile.load()
    name = explicit_profile or config.default_profile
    if explicit_profile and explicit_profile not in config.profiles:
        raise ConfigurationError(f"No profile named {explicit_profile!r} in {config.path}; run `s4e login "
                                 f"--profile {explicit_profile}`")
    stored = config.profile(name)
    url = base_url or env.get("S4E_BASE_URL") or stored.get("base_url") or DEFAULT_BASE_URL
    key, cid, secret = _credentials(api_key, client_id, client_secret, stored.get("api_key"))
    return Settings(base_url=url.rstrip("/"), api_key=key,
                    workspace=workspace or env.get("S4E_WORKSPACE") or stored.get("workspace") or None,
                    profile=name, client_id=cid, client_secret=secret)
