"""Resolvers: caller and arguments in, one engine call, schema types out."""
