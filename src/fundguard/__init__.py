"""FundGuard 医保基金智能监管系统."""

__version__ = "0.1.0"
