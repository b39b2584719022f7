"""Mutation check of the method's core (``tools/mutation_check.py``): deliberate one-line bugs in a copy of the
repository, each of which some test must catch. Not part of the default pytest suite (no test_*.py files here)."""
