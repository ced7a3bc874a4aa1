"""Fuzzing every reader family: ``python -m tests.fuzz --seconds N`` (or ``nox -s fuzz``).

See ``docs/fuzzing.rst``. Seeds come from :mod:`tests.fuzz.seeds`, mutations from
:mod:`tests.fuzz.mutate` and :mod:`tests.fuzz.h5ops`, each case runs under limits in
:mod:`tests.fuzz.runner`, and found cases go to :mod:`tests.fuzz.corpus`, which
``tests/fuzz/test_corpus.py`` replays.
"""
