"""Django's SQLite backend, with each process keeping its closed connections for reuse
(`base.DatabaseWrapper`)."""
