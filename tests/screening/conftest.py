"""Session fixtures: one fixed-seed labelled city and one clean city, each synthesised, loaded, audited and screened
once (about half a minute together); tests read them and never change their results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from fundguard.engine.runner import run_audit
from fundguard.ingest.loader import load_dir
from fundguard.kb.builtin import ensure_builtin
from fundguard.screening.runner import ScreenRun, run_screening
from fundguard.store.db import connect
from fundguard.synth import SynthConfig, generate_city


@dataclass
class ScreenedCity:
    con: object
    city: Path
    db: Path
    run: ScreenRun

    @property
    def truth(self) -> Path:
        return self.city / "ground_truth.parquet"


def _screened(root: Path, persons: int, seed: int, rate: float) -> ScreenedCity:
    generate_city(SynthConfig(persons=persons, seed=seed, out_dir=root / "city", violation_rate=rate))
    db = root / "store.duckdb"
    con = connect(db)
    load_dir(con, root / "city")
    ensure_builtin(con)
    run_audit(con)
    return ScreenedCity(con, root / "city", db, run_screening(con))


@pytest.fixture(scope="session")
def dirty(tmp_path_factory) -> ScreenedCity:
    s = _screened(tmp_path_factory.mktemp("screen_dirty"), persons=4000, seed=11, rate=0.02)
    yield s
    s.con.close()


@pytest.fixture(scope="session")
def clean(tmp_path_factory) -> ScreenedCity:
    s = _screened(tmp_path_factory.mktemp("screen_clean"), persons=3000, seed=5, rate=0.0)
    yield s
    s.con.close()
