"""Typed settings, validated at start-up.

Every setting can be given as an environment variable prefixed ``FUNDGUARD_`` (for example
``FUNDGUARD_DATA_DIR=/srv/fundguard``) or in a ``.env`` file in the working directory.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUNDGUARD_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="数据目录：分析库、临时文件、导出")
    db_name: str = Field(default="fundguard.duckdb", description="分析库文件名（位于数据目录下）")
    engine: str = Field(default="duckdb", description="规则执行引擎：duckdb 或 spark")
    threads: int = Field(default=0, ge=0, description="DuckDB 线程数，0 表示按 CPU 核数")
    memory_limit: str = Field(default="4GB", description="DuckDB 内存上限，超出部分溢写到临时目录")
    load_chunk_rows: int = Field(default=100_000, ge=1_000, description="xlsx 读取与转码的批大小（行）")

    @field_validator("engine")
    @classmethod
    def _engine_known(cls, value: str) -> str:
        if value not in ("duckdb", "spark"):
            raise ValueError(f"未知的引擎 {value!r}，可选 duckdb、spark")
        return value

    @field_validator("memory_limit")
    @classmethod
    def _memory_format(cls, value: str) -> str:
        if not _MEMORY.match(value.strip()):
            raise ValueError(f"内存上限格式应如 4GB、512MB，收到 {value!r}")
        return value.strip()

    @property
    def db_path(self) -> Path:
        return self.data_dir / self.db_name

    @property
    def temp_dir(self) -> Path:
        return self.data_dir / "tmp"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
