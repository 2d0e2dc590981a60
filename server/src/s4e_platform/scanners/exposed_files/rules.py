"""The curated check pack (our own, scanning.md 2.1 `exposed_files`): which paths are requested, what their body
must look like, and the finding each match produces.

Paths are relative to the target's base path. `{host}` stands for the scanned host name and `{label}` for its
first label, because backup archives are often named after the site (`example.com.zip`, `example.zip`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from s4e_platform.scanners.base import Severity
from s4e_platform.scanners.exposed_files import matchers as m
from s4e_platform.scanners.exposed_files.http import Response

_CWE = "https://cwe.mitre.org/data/definitions/{}.html"
_HEAD = 4096  # magic bytes and short files need only the start of the body


@dataclass(frozen=True)
class Probe:
    path: str
    matcher: m.Matcher
    max_bytes: int = 256 * 1024
    statuses: tuple[int, ...] = (200, 206)
    # A page that is itself a "not found" answer (Django's debug 404) is judged without the soft-404 baseline.
    soft404_exempt: bool = False


@dataclass(frozen=True)
class Rule:
    check_id: str
    title: str
    severity: Severity
    cwe: str
    description: str
    remediation: str
    probes: tuple[Probe, ...]
    references: tuple[str, ...] = ()
    excerpt: Callable[[Response], str] = m.excerpt_text


def _p(matcher: m.Matcher, *paths: str, max_bytes: int = 256 * 1024) -> tuple[Probe, ...]:
    return tuple(Probe(path, matcher, max_bytes) for path in paths)


_ARCHIVES = (*(f"{name}.{ext}" for name in ("backup", "site", "www", "wwwroot", "public_html", "{host}", "{label}")
               for ext in ("zip", "tar.gz", "tgz")), "backup.tar", "backup.rar", "backup.7z", "backups.zip")

RULES: tuple[Rule, ...] = (
    Rule("git_repository_exposed", "Git repository metadata is publicly accessible", "high", "527",
         "The web server serves files from the `.git` directory. With `.git/HEAD` and `.git/config` readable, tools "
         "can usually rebuild the whole repository: source code, history, and any credentials ever committed.",
         "Remove the `.git` directory from the web root (deploy build artefacts, not working copies) or deny every "
         "path containing `/.git` in the web server configuration.",
         _p(m.git_head, ".git/HEAD", max_bytes=_HEAD) + _p(m.git_config, ".git/config", max_bytes=65536),
         ("https://git-scm.com/docs/gitrepository-layout",), m.redact_userinfo),
    Rule("svn_repository_exposed", "Subversion working copy metadata is publicly accessible", "high", "527",
         "The `.svn` directory of a Subversion working copy is served; its database or entries file lists every "
         "versioned file and lets an attacker download pristine copies of the source code.",
         "Remove `.svn` directories from the web root or deny paths containing `/.svn` in the server configuration.",
         _p(m.svn_wc_db, ".svn/wc.db", max_bytes=_HEAD) + _p(m.svn_entries, ".svn/entries", max_bytes=_HEAD)),
    Rule("env_file_exposed", "Environment file with configuration values is publicly accessible", "high", "538",
         "A dotenv file is served as plain text. These files hold application settings and usually secrets: "
         "database passwords, API keys, signing keys.",
         "Keep environment files outside the web root, deny dot-files in the web server, and rotate every secret "
         "the file contained.",
         _p(m.env_file, ".env", ".env.local", ".env.production", ".env.prod", ".env.development", ".env.dev",
            ".env.backup", ".env.bak", ".env.old", ".env.save", max_bytes=65536), (), m.redact_env),
    Rule("private_key_exposed", "Private key is publicly accessible", "critical", "321",
         "A PEM-encoded private key is served by the web server. Whoever downloads it can impersonate the server "
         "or user the key belongs to, and decrypt traffic protected by it.",
         "Remove the key from the web root, treat it as compromised: revoke the certificate or remove the public "
         "key from every authorized_keys file, and issue a new key pair.",
         _p(m.private_key, "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".ssh/id_rsa", ".ssh/id_ed25519",
            "server.key", "private.key", "privatekey.pem", "private.pem", "key.pem", "ssl.key", max_bytes=65536),
         (), m.redact_key),
    Rule("database_dump_exposed", "Database dump is publicly accessible", "high", "530",
         "A database dump or database file can be downloaded. It contains the application's data and often "
         "password hashes and personal data.",
         "Remove dumps and database files from the web root, store backups outside it, and assess which data was "
         "exposed.",
         _p(m.sql_dump, "dump.sql", "backup.sql", "database.sql", "db.sql", "data.sql", "mysql.sql", "db_backup.sql",
            "{host}.sql", "{label}.sql", "dump.sql.gz", "backup.sql.gz", "database.sql.gz", "db.sqlite",
            "db.sqlite3", "database.sqlite", "database.db", max_bytes=65536), (), m.redact_dump),
    Rule("backup_archive_exposed", "Backup archive is publicly accessible", "high", "530",
         "An archive named like a site backup is served (identified by its magic bytes). Backups typically contain "
         "the application source, configuration files with credentials, and sometimes data.",
         "Store backups outside the web root (or off the server) and delete this archive; review what it held.",
         _p(m.archive, *_ARCHIVES, max_bytes=_HEAD)),
    Rule("backup_file_exposed", "Backup copy of a server-side script is publicly accessible", "high", "530",
         "A backup or editor copy of a PHP file is served as plain text instead of being executed, revealing source "
         "code and the credentials configuration files carry.",
         "Delete backup and editor copies from the web root, deny `*.bak`, `*~`, `*.old`, `*.save` in the web "
         "server, and rotate credentials found in the file.",
         _p(m.php_source, "wp-config.php.bak", "wp-config.php~", "wp-config.php.old", "wp-config.php.save",
            "wp-config.php.orig", "config.php.bak", "config.php~", "config.php.old", "configuration.php.bak",
            "index.php.bak", "settings.php.bak", max_bytes=65536), (), m.redact_php),
    Rule("htpasswd_exposed", "Password file .htpasswd is publicly accessible", "high", "522",
         "The `.htpasswd` file of HTTP basic authentication is served; its password hashes can be cracked offline.",
         "Keep `.htpasswd` outside the web root (Apache denies `.ht*` by default; check overrides) and change the "
         "passwords it contained.",
         _p(m.htpasswd, ".htpasswd", max_bytes=65536), (), m.redact_htpasswd),
    Rule("phpinfo_exposed", "phpinfo() output is publicly accessible", "medium", "200",
         "A page prints phpinfo(): PHP version and modules, file system paths, environment variables and server "
         "configuration, which help an attacker pick working exploits and sometimes reveal secrets.",
         "Delete phpinfo test pages from production servers.",
         _p(m.phpinfo, "phpinfo.php", "info.php", "php_info.php", "phpinfo", "test.php", "i.php", "pi.php",
            max_bytes=1024 * 1024), ("https://www.php.net/manual/en/function.phpinfo.php",)),
    Rule("server_status_exposed", "Web server status page is publicly accessible", "medium", "200",
         "The server status page is reachable: it shows live requests (URLs, client addresses, virtual hosts) and "
         "server internals.",
         "Restrict the status handler to administrative addresses (`Require ip` for mod_status, `allow`/`deny` for "
         "nginx stub_status) or disable it.",
         _p(m.apache_status, "server-status") + _p(m.nginx_status, "nginx_status", "status", max_bytes=4096),
         ("https://httpd.apache.org/docs/2.4/mod/mod_status.html",)),
    Rule("server_info_exposed", "Apache server-info page is publicly accessible", "medium", "200",
         "mod_info's page is reachable: it lists loaded modules and the full server configuration.",
         "Restrict `/server-info` to administrative addresses or unload mod_info.",
         _p(m.apache_info, "server-info"), ("https://httpd.apache.org/docs/2.4/mod/mod_info.html",)),
    Rule("debug_page_exposed", "Framework debug interface is publicly accessible", "high", "489",
         "A framework's debug or diagnostics interface answers to anyone. These expose configuration, environment "
         "variables, request data and stack traces, and several (Werkzeug console, Laravel Ignition, Spring heap "
         "dumps) give direct code execution or memory contents.",
         "Turn debug mode off in production (`DEBUG = False`, `APP_DEBUG=false`, no dev front controllers) and "
         "restrict management endpoints such as Spring Boot actuators to administrators.",
         (Probe("s4e-debug-check-404", m.django_debug, statuses=(404,), soft404_exempt=True),
          *_p(m.symfony_profiler, "_profiler/", "app_dev.php/_profiler/"), *_p(m.werkzeug_console, "console"),
          *_p(m.spring_env, "actuator/env"), *_p(m.java_heapdump, "actuator/heapdump", max_bytes=64),
          *_p(m.rails_info, "rails/info/properties"), *_p(m.elmah, "elmah.axd"), *_p(m.asp_trace, "trace.axd"),
          *_p(m.ignition_health, "_ignition/health-check", max_bytes=4096)),
         ("https://owasp.org/www-project-top-ten/2017/A6_2017-Security_Misconfiguration",)),
    Rule("ds_store_exposed", "macOS .DS_Store file is publicly accessible", "low", "538",
         "A Finder `.DS_Store` file is served; it lists the names of files in its directory, including ones not "
         "linked anywhere.",
         "Delete `.DS_Store` files from the web root and deny them in the web server.",
         _p(m.ds_store, ".DS_Store", max_bytes=_HEAD)),
    Rule("openapi_exposed", "API description (OpenAPI/Swagger) is publicly accessible", "info", "200",
         "An OpenAPI/Swagger document describing the API is served. That is often intended; if the API is not "
         "public, the document maps every operation and parameter for an attacker.",
         "Publish API descriptions only for public APIs; otherwise require authentication for the document.",
         _p(m.openapi, "openapi.json", "openapi.yaml", "swagger.json", "swagger.yaml", "api-docs", "v2/api-docs",
            "v3/api-docs", "swagger/v1/swagger.json", "api/openapi.json", "api/swagger.json", "api/v1/openapi.json",
            max_bytes=1024 * 1024),
         ("https://spec.openapis.org/oas/latest.html",)),
)

CHECK_IDS = tuple(rule.check_id for rule in RULES)


def cwe_reference(rule: Rule) -> str:
    return _CWE.format(rule.cwe)
