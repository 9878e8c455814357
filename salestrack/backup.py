"""Backup and restore of a whole installation as one zip: the database (an
SQLite online-backup copy, or a pg_dump of PostgreSQL), the archive of sealed
PDFs, the attachments, the seal (key and certificate), the secret key and the
audit key, with manifest.json listing every member's SHA-256 and size.

Consistency while people work: the database is copied first (one snapshot),
the files after. Archived PDFs and attachments are written to disk before the
transaction that records them commits, and never removed, so every file the
snapshot names is already on disk when the files are copied; files of acts
that commit later are extra, harmless, and not referenced.

Restore checks every member against the manifest before writing anything,
and only into an empty instance: a database without tables, no archive, no
attachments, no seal, no keys."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404 # pg_dump and psql, with arguments built here, never a shell
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from flask import current_app

from .extensions import db
from .models import ArchivedPdf

FORMAT = 1
SQLITE_MEMBER = "database.sqlite"
PG_MEMBER = "database.sql"


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason for the operator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Place:
    """Where one kind of file lives on this installation, and its name in the zip."""
    member: str  # "archive/" for a folder, "seal/key.pem" for a file
    path: Path
    secret: bool  # restored with mode 0600

    @property
    def is_dir(self) -> bool:
        return self.member.endswith("/")


def places() -> list[Place]:
    """The instance's files that a backup holds, from the configuration. The
    secret key file only when it is the key in use (not when SECRET_KEY is set)."""
    cfg = current_app.config
    out = [
        Place("archive/", Path(cfg["ARCHIVE_DIR"]), False),
        Place("attachments/", Path(cfg["ATTACHMENT_DIR"]), False),
        Place("seal/key.pem", Path(cfg["SEAL_KEY_PATH"]), True),
        Place("seal/cert.pem", Path(cfg["SEAL_CERT_PATH"]), False),
        Place("audit_key", Path(cfg["AUDIT_KEY_PATH"]), True),
    ]
    return out


SECRET_MEMBER = "secret_key"  # nosec B105 # the name of a file in the zip


def _secret_path() -> Path:
    """instance/secret_key, the key sessions are signed with when no SECRET_KEY
    is configured (see create_app)."""
    return Path(current_app.instance_path) / "secret_key"


def _uses_secret_file() -> bool:
    path = _secret_path()
    return path.is_file() and path.read_text().strip() == current_app.config["SECRET_KEY"]


def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


# ── the database ──────────────────────────────────────────────────────────
def _dialect() -> str:
    return db.engine.dialect.name


def _sqlite_path() -> str:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份")
    return database


def _libpq() -> tuple[str, dict]:
    """The database address for pg_dump/psql, and an environment carrying the
    password (kept off the command line, where `ps` would show it)."""
    url = db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    address = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return address, env


def _run(args: list[str], env: dict) -> None:
    tool = shutil.which(args[0])
    if tool is None:
        raise BackupError(f"找不到 {args[0]}：请安装 Debian 软件包 postgresql-client（bin/setup 会安装）")
    done = subprocess.run([tool, *args[1:]], env=env, capture_output=True, text=True)  # nosec B603 # no shell
    if done.returncode != 0:
        raise BackupError(f"{args[0]} 失败：{done.stderr.strip()[:2000]}")


def _dump_database(out: Path) -> str:
    """Writes a consistent copy of the database to `out`; returns its member name."""
    if _dialect() == "sqlite":
        source = sqlite3.connect(_sqlite_path(), timeout=30)
        target = sqlite3.connect(out)
        try:
            source.backup(target)  # SQLite's online backup: one consistent snapshot, writers keep working
        finally:
            target.close()
            source.close()
        return SQLITE_MEMBER
    address, env = _libpq()
    _run(["pg_dump", "--no-owner", "--no-privileges", "--format=plain", f"--file={out}", f"--dbname={address}"],
         env)
    return PG_MEMBER


def _database_is_empty() -> bool:
    with db.engine.connect() as conn:
        return not sa.inspect(conn).get_table_names()


def _load_database(source: Path, member: str) -> None:
    if member == SQLITE_MEMBER:
        if _dialect() != "sqlite":
            raise BackupError("备份中是 SQLite 数据库，当前配置的是 PostgreSQL：请按备份时的数据库类型配置 DATABASE_URL")
        db.engine.dispose()
        src = sqlite3.connect(source)
        dst = sqlite3.connect(_sqlite_path(), timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    if _dialect() != "postgresql":
        raise BackupError("备份中是 PostgreSQL 数据库，当前配置的是 SQLite：请按备份时的数据库类型配置 DATABASE_URL")
    address, env = _libpq()
    db.engine.dispose()
    _run(["psql", "--quiet", "--no-psqlrc", "--single-transaction", "-v", "ON_ERROR_STOP=1",
          f"--file={source}", f"--dbname={address}"], env)


# ── backup ────────────────────────────────────────────────────────────────
def backup(out_path: str | os.PathLike) -> dict:
    """Writes the whole installation to the zip `out_path` (written beside it
    as `.partial` and renamed when complete). Returns the manifest:
    {"format", "database": "sqlite"|"postgresql", "files": {member: {"sha256", "size"}}}.
    The zip has mode 0600: it holds the seal's private key and the audit key.
    Raises BackupError when the database cannot be copied."""
    out_path = Path(out_path)
    partial = out_path.with_name(out_path.name + ".partial")
    files: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "database"
        member = _dump_database(dump)
        try:
            # it holds the seal's private key and the audit key: readable by the owner only
            partial.unlink(missing_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                sha, size = _sha256_file(dump)
                zf.write(dump, member)
                files[member] = {"sha256": sha, "size": size}
                for place in places():
                    for path, name in _files_of(place):
                        sha, size = _sha256_file(path)
                        compress = zipfile.ZIP_STORED if name.endswith(".pdf") else zipfile.ZIP_DEFLATED
                        zf.write(path, name, compress_type=compress)
                        files[name] = {"sha256": sha, "size": size}
                if _uses_secret_file():
                    zf.write(_secret_path(), SECRET_MEMBER)
                    files[SECRET_MEMBER] = dict(zip(("sha256", "size"), _sha256_file(_secret_path()), strict=True))
                manifest = {"format": FORMAT, "database": _dialect(), "files": files}
                zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, out_path)
    return manifest


def _files_of(place: Place):
    """(path, member name) of every file of one place that exists."""
    if not place.is_dir:
        if place.path.is_file():
            yield place.path, place.member
        return
    if not place.path.is_dir():
        return
    for path in sorted(place.path.rglob("*")):
        if path.is_file() and not path.name.startswith(".tmp-"):
            yield path, place.member + path.relative_to(place.path).as_posix()


# ── restore ───────────────────────────────────────────────────────────────
def _destination(name: str) -> tuple[Path, Place] | None:
    """Where a member goes on this installation; None for a name that is not
    one of ours (or tries to leave its folder)."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts:
        return None
    for place in places():
        if place.is_dir and name.startswith(place.member) and len(name) > len(place.member):
            return place.path.joinpath(*PurePosixPath(name[len(place.member):]).parts), place
        if not place.is_dir and name == place.member:
            return place.path, place
    return None


def read_manifest(zf: zipfile.ZipFile) -> dict:
    """The manifest of a backup zip, every member checked against its SHA-256
    and size. Raises BackupError naming the first member that differs."""
    try:
        manifest = json.loads(zf.read("manifest.json"))
        files = manifest["files"]
    except (KeyError, ValueError, TypeError):
        raise BackupError("不是本系统的备份文件（没有可读的 manifest.json）") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')!r} 不受支持")
    present = set(zf.namelist()) - {"manifest.json"}
    if present != set(files):
        raise BackupError(f"备份内容与清单不符：多出 {sorted(present - set(files))[:5]}，缺少 {sorted(set(files) - present)[:5]}")
    for name, want in files.items():
        if name not in (SQLITE_MEMBER, PG_MEMBER, SECRET_MEMBER) and _destination(name) is None:
            raise BackupError(f"备份中有不属于本系统的文件：{name}")
        digest, size = hashlib.sha256(), 0
        with zf.open(name) as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
        if digest.hexdigest() != want.get("sha256") or size != want.get("size"):
            raise BackupError(f"备份已损坏：{name} 与清单中的 SHA-256 不符")
    return manifest


def _instance_in_use() -> list[str]:
    used = []
    for place in places():
        if place.is_dir and place.path.is_dir() and any(p.is_file() for p in place.path.rglob("*")):
            used.append(str(place.path))
        elif not place.is_dir and place.path.exists():
            used.append(str(place.path))
    if not _database_is_empty():
        used.append("数据库（已有数据表）")
    return used


def restore(zip_path: str | os.PathLike) -> dict:
    """Restores a backup written by `backup` into this (empty) installation:
    the manifest is checked first, then the database is loaded and the files
    written (keys with mode 0600, archived PDFs read-only). Raises BackupError
    for a damaged or foreign file, a different database kind, or an instance
    that already holds data. Returns the manifest."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as e:
        raise BackupError(f"无法读取备份文件：{e}") from None
    with zf:
        manifest = read_manifest(zf)
        used = _instance_in_use()
        if used:
            raise BackupError("只能恢复到空的实例，以下已有内容：" + "；".join(used))
        member = SQLITE_MEMBER if SQLITE_MEMBER in manifest["files"] else PG_MEMBER
        with tempfile.TemporaryDirectory() as tmp:
            dump = Path(tmp) / "database"
            with zf.open(member) as src, open(dump, "wb") as dst:
                shutil.copyfileobj(src, dst)
            _load_database(dump, member)
        for name in manifest["files"]:
            if name in (SQLITE_MEMBER, PG_MEMBER):
                continue
            if name == SECRET_MEMBER:  # replaces the one a fresh instance made itself: sessions stay valid
                fd, tmp_name = tempfile.mkstemp(dir=_secret_path().parent)
                with os.fdopen(fd, "wb") as dst:
                    dst.write(zf.read(name))
                os.chmod(tmp_name, 0o600)
                os.replace(tmp_name, _secret_path())
                continue
            path, place = _destination(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(name) as src, open(path, "xb") as dst:
                shutil.copyfileobj(src, dst)
            os.chmod(path, 0o600 if place.secret else 0o444 if place.member == "archive/" else 0o440)
    return manifest


# ── the seal is never replaced silently ───────────────────────────────────
def seal_missing_with_archive() -> bool:
    """True when the seal key or certificate is missing while sealed PDFs are
    archived: a new seal would make every one of them fail verification, so
    the seal must come back from the backup instead."""
    cfg = current_app.config
    if Path(cfg["SEAL_KEY_PATH"]).exists() and Path(cfg["SEAL_CERT_PATH"]).exists():
        return False
    return db.session.scalar(sa.select(ArchivedPdf.id).limit(1)) is not None
