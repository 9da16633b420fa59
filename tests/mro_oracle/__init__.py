"""A runtime MRO oracle: Python's own MROs of real packages, to check docgen's static ones.

Test-only. docgen never imports the packages it reads; this oracle does, in its own venv.
"""
