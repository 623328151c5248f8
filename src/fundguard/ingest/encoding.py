"""Detect a CSV's encoding (UTF-8, UTF-8 with BOM, GB18030/GBK) and hash it in the same pass."""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 8 << 20
BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int
    encoding: str  # "utf-8", "utf-8-sig" or "gb18030"


def inspect_file(path: Path) -> FileFacts:
    """One streaming pass: SHA-256 of the bytes and whether they are valid UTF-8."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    size = 0
    first = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            if not first:
                first = chunk[:3]
            size += len(chunk)
            digest.update(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        encoding = "utf-8-sig" if first.startswith(BOM) else "utf-8"
    else:
        encoding = "gb18030"  # a superset of GBK and GB2312
    return FileFacts(sha256=digest.hexdigest(), size=size, encoding=encoding)


def hash_file(path: Path) -> FileFacts:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return FileFacts(sha256=digest.hexdigest(), size=size, encoding="binary")


def transcode_to_utf8(src: Path, dst: Path, encoding: str) -> Path:
    """Stream ``src`` from ``encoding`` into UTF-8 at ``dst``; undecodable bytes raise."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(src, "rb") as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
        while chunk := fin.read(_CHUNK):
            fout.write(decoder.decode(chunk))
        fout.write(decoder.decode(b"", final=True))
    return dst


def read_header_line(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as fh:
        line = fh.readline()
    return line.lstrip("\ufeff").rstrip("\r\n")
