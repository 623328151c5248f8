from pathlib import Path

import pytest

from fundguard.synth import SynthConfig, generate_city


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("city")
    s = generate_city(SynthConfig(persons=3000, seed=7, out_dir=out, violation_rate=0.02))
    return out, s


@pytest.fixture(scope="session")
def clean_city(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("clean")
    s = generate_city(SynthConfig(persons=3000, seed=11, out_dir=out, violation_rate=0.0))
    return out, s
