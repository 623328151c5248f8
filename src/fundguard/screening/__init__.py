"""Big-data screening: indicators, screens, graph, risk scores."""
