"""Planning through PostgreSQL: EXPLAIN for any statement with one error mapping
(`explainer`), the HypoPG session built on it (`hypo`), and the what-if cost cache that keeps
the plans a report shows (`costs`)."""
