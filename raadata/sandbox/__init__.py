"""A local Prism API and auth server for notebooks, demos and tests (no credentials needed)."""
