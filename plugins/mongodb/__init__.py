"""The MongoDB storage plugin (see issue "MongoDB storage plugin")."""
