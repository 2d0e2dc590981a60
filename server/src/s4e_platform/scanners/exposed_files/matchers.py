"""Content matchers: a status 200 alone is never a finding; the body must look like the file it claims to be.

Each matcher takes the response and returns a `Match` (its name plus extracted values) or None. Redactors turn a
matched body into the evidence excerpt: secrets found in an exposed file must not be copied into the finding
store in the clear.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml

from s4e_platform.scanners.exposed_files.http import Response


@dataclass(frozen=True)
class Match:
    name: str
    extracted: list[str] = field(default_factory=list)


Matcher = Callable[[Response], "Match | None"]

_HTML = re.compile(rb"<\s*(!doctype\s+html|html|head|body)\b", re.IGNORECASE)


def _text(resp: Response, limit: int = 256 * 1024) -> str:
    return resp.body[:limit].decode("utf-8", "replace")


def _is_html(resp: Response) -> bool:
    return resp.content_type in ("text/html", "application/xhtml+xml") or bool(_HTML.search(resp.body[:2048]))


# --- version control ---------------------------------------------------------------------------------------------
_GIT_HEAD = re.compile(r"(ref: refs/[\x21-\x7e]{1,200}|[0-9a-f]{40}|[0-9a-f]{64})\s*")


def git_head(resp: Response) -> Match | None:
    text = _text(resp, 512)
    found = _GIT_HEAD.fullmatch(text)
    return Match("git_head", [found.group(1)]) if found and len(resp.body) <= 300 else None


def git_config(resp: Response) -> Match | None:
    text = _text(resp, 64 * 1024)
    if _is_html(resp) or not re.search(r"^\s*\[core\]\s*$", text, re.MULTILINE):
        return None
    if not re.search(r"^\s*repositoryformatversion\s*=\s*\d+\s*$", text, re.MULTILINE):
        return None
    remotes = re.findall(r"^\s*url\s*=\s*(\S+)\s*$", text, re.MULTILINE)
    return Match("git_config", [_strip_userinfo(url) for url in remotes[:5]])


def svn_wc_db(resp: Response) -> Match | None:
    return Match("svn_wc_db") if resp.body.startswith(b"SQLite format 3\x00") else None


def svn_entries(resp: Response) -> Match | None:
    text = _text(resp, 8192)
    if re.match(r"\d{1,2}\n\n?dir\n", text) or "<wc-entries" in text:
        return Match("svn_entries")
    return None


# --- configuration and secrets -----------------------------------------------------------------------------------
_ENV_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)")


def env_file(resp: Response) -> Match | None:
    """Mostly `KEY=VALUE` lines (comments and blank lines aside), at least two of them, and no HTML."""
    if _is_html(resp) or b"\x00" in resp.body[:4096]:
        return None
    lines = [ln.strip() for ln in _text(resp, 64 * 1024).splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    keys = [m.group(1) for m in map(_ENV_LINE.fullmatch, lines) if m]
    if len(keys) >= 2 and len(keys) >= 0.8 * len(lines):
        return Match("env_key_value_lines", keys[:20])
    return None


_PRIVATE_KEY = re.compile(r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----\s*"
                          r"[A-Za-z0-9+/=\r\n:,\- ]{40,}")


def private_key(resp: Response) -> Match | None:
    found = _PRIVATE_KEY.search(_text(resp, 64 * 1024))
    return Match("pem_private_key", [found.group(1)]) if found else None


_HTPASSWD = re.compile(r"[^:\s]{1,255}:(\$apr1\$|\$2[aby]\$|\{SHA\}|\$[156]\$|[./0-9A-Za-z]{13}$)\S*")


def htpasswd(resp: Response) -> Match | None:
    if _is_html(resp):
        return None
    lines = [ln.strip() for ln in _text(resp, 64 * 1024).splitlines() if ln.strip()]
    if lines and all(_HTPASSWD.fullmatch(ln) for ln in lines):
        return Match("htpasswd_entries", [ln.split(":", 1)[0] for ln in lines[:20]])
    return None


# --- dumps, archives and backups -----------------------------------------------------------------------------------
_MAGIC = ((b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"\x1f\x8b", "gzip"), (b"Rar!\x1a\x07", "rar"),
          (b"7z\xbc\xaf\x27\x1c", "7z"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))


def archive(resp: Response) -> Match | None:
    for magic, kind in _MAGIC:
        if resp.body.startswith(magic):
            return Match(f"{kind}_magic", [kind])
    if len(resp.body) >= 262 and resp.body[257:262] == b"ustar":
        return Match("tar_magic", ["tar"])
    return None


_DUMP_HEADERS = re.compile(r"^-- (MySQL dump|MariaDB dump|PostgreSQL database dump|Dumping data for table)",
                           re.MULTILINE)


def sql_dump(resp: Response) -> Match | None:
    if resp.body.startswith(b"SQLite format 3\x00"):
        return Match("sqlite_database")
    compressed = archive(resp)
    if compressed and compressed.extracted[0] in ("gzip", "zip", "bzip2", "xz", "zstd"):
        return Match("compressed_dump", compressed.extracted)
    if _is_html(resp):
        return None
    text = _text(resp, 64 * 1024)
    header = _DUMP_HEADERS.search(text)
    if header:
        return Match("sql_dump_header", [header.group(1)])
    if re.search(r"\bCREATE TABLE\b", text, re.IGNORECASE) and re.search(r"\bINSERT INTO\b", text, re.IGNORECASE):
        return Match("sql_statements")
    return None


def php_source(resp: Response) -> Match | None:
    """A backup copy of a PHP file is served as text: its source starts with `<?php`."""
    if resp.body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?php"):
        secrets_named = re.findall(r"define\(\s*['\"](DB_\w+|AUTH_KEY|SECURE_AUTH_KEY)['\"]", _text(resp, 64 * 1024))
        return Match("php_source", secrets_named[:10])
    return None


def ds_store(resp: Response) -> Match | None:
    return Match("ds_store_magic") if resp.body.startswith(b"\x00\x00\x00\x01Bud1") else None


# --- status and debug pages ----------------------------------------------------------------------------------------
def _all_of(name: str, *patterns: str, flags: int = 0) -> Matcher:
    compiled = [re.compile(p, flags) for p in patterns]

    def match(resp: Response) -> Match | None:
        text = _text(resp)
        return Match(name) if all(p.search(text) for p in compiled) else None

    return match


def phpinfo(resp: Response) -> Match | None:
    text = _text(resp, 1024 * 1024)
    if "phpinfo()" not in text or '<td class="e">' not in text:
        return None
    version = re.search(r"PHP Version\s*(?:</t[dh]>\s*<td[^>]*>)?\s*([0-9][0-9A-Za-z.+~-]*)", text)
    return Match("phpinfo_tables", [version.group(1)]) if version else None


apache_status = _all_of("apache_server_status", r"Apache Server Status for", r"Server (Version|uptime)")
apache_info = _all_of("apache_server_info", r"Apache Server Information", r"Server Settings|Module Name:")
nginx_status = _all_of("nginx_stub_status", r"^Active connections:\s*\d+", r"server accepts handled requests",
                       flags=re.MULTILINE)
django_debug = _all_of("django_debug_404", r"seeing this error because you have <code>DEBUG = True</code>")
symfony_profiler = _all_of("symfony_profiler", r"<title>[^<]*Symfony Profiler[^<]*</title>")
werkzeug_console = _all_of("werkzeug_console", r"Werkzeug", r"Interactive Console|__debugger__")
rails_info = _all_of("rails_properties", r"Rails version", r"Ruby version")
elmah = _all_of("elmah_log", r"Error Log for", r"ELMAH")
asp_trace = _all_of("aspnet_trace", r"Application Trace", r"Requests to this Application")


def _json(resp: Response) -> object | None:
    try:
        return json.loads(resp.body[:1024 * 1024])
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def spring_env(resp: Response) -> Match | None:
    data = _json(resp)
    if isinstance(data, dict) and "propertySources" in data and "activeProfiles" in data:
        return Match("spring_actuator_env", [str(p)[:64] for p in data.get("activeProfiles") or []][:5])
    return None


def java_heapdump(resp: Response) -> Match | None:
    return Match("hprof_magic") if resp.body.startswith(b"JAVA PROFILE 1.0.") else None


def ignition_health(resp: Response) -> Match | None:
    data = _json(resp)
    if isinstance(data, dict) and "can_execute_commands" in data:
        return Match("laravel_ignition", [f"can_execute_commands={data['can_execute_commands']}"])
    return None


# --- API descriptions -------------------------------------------------------------------------------------------------
class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors/aliases: a hostile document cannot expand into a huge object graph."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases are not accepted")
        return super().compose_node(parent, index)


def _api_document(resp: Response) -> object | None:
    data = _json(resp)
    if data is None and not _is_html(resp) and re.search(rb"^(openapi|swagger)\s*:", resp.body[:4096], re.MULTILINE):
        try:
            data = yaml.load(resp.body[:1024 * 1024], Loader=_NoAliasLoader)  # noqa: S506 - safe loader subclass
        except (yaml.YAMLError, RecursionError, UnicodeDecodeError):
            return None
    return data


def openapi(resp: Response) -> Match | None:
    """An OpenAPI 3 or Swagger 2 document: the version key, an `info` object and a `paths` object."""
    doc = _api_document(resp)
    if not isinstance(doc, dict) or not isinstance(doc.get("info"), dict) or not isinstance(doc.get("paths"), dict):
        return None
    version = doc.get("openapi")
    if isinstance(version, str) and version.startswith("3."):
        name = "openapi_3"
    elif str(doc.get("swagger")) == "2.0":
        name, version = "swagger_2", "2.0"
    else:
        return None
    title = str(doc["info"].get("title", ""))[:128]
    return Match(name, [f"version={version}", f"title={title}", f"paths={len(doc['paths'])}"])


# --- evidence excerpts ------------------------------------------------------------------------------------------------
def _strip_userinfo(url: str) -> str:
    return re.sub(r"(://)[^/@\s]+@", r"\1***@", url)


def _mask(value: str) -> str:
    value = value.strip()
    return value[:2] + "***" + value[-2:] if len(value) > 6 else "***"


def excerpt_text(resp: Response, limit: int = 4096) -> str:
    if b"\x00" in resp.body[:512] or archive(resp):
        return "<binary> " + resp.body[:64].hex(" ")
    return _text(resp, limit)


def redact_env(resp: Response) -> str:
    out = []
    for line in _text(resp, 4096).splitlines():
        found = _ENV_LINE.fullmatch(line.strip())
        out.append(f"{found.group(1)}={_mask(found.group(2))}" if found else line)
    return "\n".join(out)


def redact_key(resp: Response) -> str:
    found = _PRIVATE_KEY.search(_text(resp, 64 * 1024))
    return f"-----BEGIN {found.group(1)}-----\n[key material redacted]" if found else "[redacted]"


def redact_htpasswd(resp: Response) -> str:
    return "\n".join(ln.split(":", 1)[0] + ":[hash redacted]" for ln in _text(resp, 4096).splitlines() if ln.strip())


def redact_userinfo(resp: Response) -> str:
    return _strip_userinfo(_text(resp, 4096))


def redact_dump(resp: Response) -> str:
    """Schema and comments only: rows of a dump are the data the finding is about."""
    if resp.body.startswith(b"SQLite format 3\x00") or archive(resp):
        return "<binary> " + resp.body[:64].hex(" ")
    keep = [ln for ln in _text(resp, 16 * 1024).splitlines() if not re.match(r"\s*INSERT\s", ln, re.IGNORECASE)]
    return "\n".join(keep)[:4096]


_PHP_SECRET = re.compile(r"(define\(\s*['\"]\w+['\"]\s*,\s*['\"]|\$\w*(?:pass|secret|key|token)\w*\s*=\s*['\"])"
                         r"([^'\"]*)(['\"])", re.IGNORECASE)


def redact_php(resp: Response) -> str:
    """Constants and credential-like variables keep their names; their values are masked."""
    return _PHP_SECRET.sub(lambda m: m.group(1) + _mask(m.group(2)) + m.group(3), _text(resp, 4096))
