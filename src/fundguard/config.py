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

    # --- 疑点 workflow, accounts and roles (fundguard.workflow) -------------------------------------------------
    workflow_db_url: str = Field(
        default="", description="工作流数据库 SQLAlchemy URL；留空则使用数据目录下的 SQLite 文件 workflow.db，"
                                "生产环境可用 postgresql+psycopg://用户@主机:端口/库名")
    first_review_deadline_workdays: int = Field(default=10, ge=1, le=250, description="初审时限（工作日）")
    second_review_deadline_workdays: int = Field(default=5, ge=1, le=250, description="复审时限（工作日）")
    push_deadline_workdays: int = Field(default=5, ge=1, le=250, description="复审通过后推送机构的时限（工作日）")
    appeal_deadline_workdays: int = Field(default=10, ge=1, le=250, description="定点机构申诉/反馈时限（工作日）")
    investigate_deadline_workdays: int = Field(default=20, ge=1, le=250, description="调查核实时限（工作日）")
    handle_deadline_workdays: int = Field(default=10, ge=1, le=250, description="机构认可后违规处理的时限（工作日）")
    workflow_four_eyes: bool = Field(default=True, description="复审人不得与初审人为同一人")
    login_max_failures: int = Field(default=5, ge=1, le=100, description="同一用户名在时间窗内允许的登录失败次数")
    login_max_failures_per_ip: int = Field(default=20, ge=1, le=1000,
                                           description="同一来源地址在时间窗内允许的登录失败次数")
    login_window_minutes: int = Field(default=15, ge=1, le=1440, description="登录失败计数的时间窗（分钟）")
    login_lock_minutes: int = Field(default=15, ge=1, le=1440, description="超过失败次数后锁定的时长（分钟）")
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024,
                                      description="单个附件的大小上限（字节）")
    session_hours: int = Field(default=8, ge=1, le=720, description="网页登录会话的有效时长（小时）")
    realtime_processes: int = Field(default=0, ge=0, le=64,
                                    description="独立网关（create_gateway_app）执行实时审核的工作进程数；"
                                                "0 表示在网关进程内用工作线程执行（只用得上一个 CPU 核）")
    secret_key: str = Field(default="", repr=False,
                            description="会话签名密钥；留空则首次使用时随机生成并保存在数据目录 secret.key")

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

    @field_validator("workflow_db_url")
    @classmethod
    def _workflow_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError(f"工作流数据库只支持 sqlite 或 postgresql 的 URL，收到 {value.split(':', 1)[0]!r}")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_length(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("会话签名密钥至少 32 个字符")
        return value

    @property
    def workflow_url(self) -> str:
        """The workflow database URL; the default is a SQLite file in the data directory."""
        if self.workflow_db_url:
            return self.workflow_db_url
        return f"sqlite:///{(self.data_dir / 'workflow.db').as_posix()}"

    def get_secret_key(self) -> str:
        """``secret_key`` when set, else a random key generated once and kept in ``<data_dir>/secret.key``."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key, encoding="utf-8")
        path.chmod(0o600)
        return key
    # --- end of workflow settings --------------------------------------------------------------------------------

    @property
    def db_path(self) -> Path:
        return self.data_dir / self.db_name

    @property
    def temp_dir(self) -> Path:
        return self.data_dir / "tmp"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
