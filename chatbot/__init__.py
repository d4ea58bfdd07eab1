"""Question (with history and filters) to a cited, checked Answer."""
