"""networkx projections of the stored graph, layouts and statistics (never the source of truth)."""
