"""Tools for developers: the synthetic survey generator."""
