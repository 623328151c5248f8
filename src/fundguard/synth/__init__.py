"""Synthetic city generator: a deterministic, labelled 医保 city for testing and benchmarking FundGuard."""

from .city import generate_city
from .config import SCHEMES, SynthConfig, SynthSummary

__all__ = ["SCHEMES", "SynthConfig", "SynthSummary", "generate_city"]
