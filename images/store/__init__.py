"""Persistence: the models, ids, and the queries (the one image list path, keyset pages, filters)."""
