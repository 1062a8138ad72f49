"""Dashboard views, one module per area; urls.py maps each URL to one function."""
