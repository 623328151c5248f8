"""HTTP layer: the national gateway (3101/3102/3103) and the REST API, one error envelope."""
