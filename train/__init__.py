"""Training recipes for the models the project ships (the reranker)."""
