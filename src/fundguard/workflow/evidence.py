"""Attachments (证据材料): validation, storage rows and views. Files live in the workflow database with SHA-256.

Why the database and not files: one backup holds the procedure and its evidence, the transaction that records an
appeal also stores its files (no orphan or missing file), and every read goes through the service's scope check.
The stored content type follows the file extension from a fixed list, never the client's claim, so a file is
never served as HTML or script.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata

from fundguard.errors import ValidationFailed
from fundguard.workflow.models import AttachmentRow
from fundguard.workflow.views import AttachmentIn, AttachmentView

CONTENT_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".ofd": "application/ofd",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".wps": "application/vnd.ms-works",
    ".et": "application/vnd.ms-excel",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".zip": "application/zip",
}
MAX_FILES = 20


def clean_filename(name: str) -> str:
    """The base name only, without control characters, at most 200 characters (extension kept)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[: 200 - len(ext)] + ext
    return name


def validate(attachments: list[AttachmentIn] | None, max_bytes: int) -> list[tuple[str, str, bytes, str]]:
    """(filename, content_type, data, sha256) for each file; ``ValidationFailed`` names the first bad file."""
    files = list(attachments or [])
    if len(files) > MAX_FILES:
        raise ValidationFailed(f"一次最多上传 {MAX_FILES} 个附件")
    out = []
    for att in files:
        name = clean_filename(att.filename)
        ext = os.path.splitext(name)[1].lower()
        if not name or ext not in CONTENT_TYPES:
            allowed = "、".join(sorted({e.lstrip(".") for e in CONTENT_TYPES}))
            raise ValidationFailed(f"附件“{name or att.filename}”的类型不允许，可上传：{allowed}")
        data = bytes(att.data)
        if not data:
            raise ValidationFailed(f"附件“{name}”是空文件")
        if len(data) > max_bytes:
            raise ValidationFailed(f"附件“{name}”超过大小上限 {max_bytes // (1024 * 1024) or 1} MB")
        out.append((name, CONTENT_TYPES[ext], data, hashlib.sha256(data).hexdigest()))
    return out


def rows_for(files: list[tuple[str, str, bytes, str]], jr_id: str, log_id: int, at, actor_id: int | None,
             actor_name: str) -> list[AttachmentRow]:
    return [AttachmentRow(jr_id=jr_id, log_id=log_id, filename=name, content_type=ctype, size=len(data),
                          sha256=digest, uploaded_at=at, uploaded_by_id=actor_id, uploaded_by_name=actor_name,
                          data=data)
            for name, ctype, data, digest in files]


def view(row: AttachmentRow) -> AttachmentView:
    return AttachmentView(id=row.id, jr_id=row.jr_id, log_id=row.log_id, filename=row.filename,
                          content_type=row.content_type, size=row.size, sha256=row.sha256,
                          uploaded_at=row.uploaded_at, uploaded_by=row.uploaded_by_name)
