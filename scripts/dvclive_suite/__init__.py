"""DVCLive's own test suite run against ``dvcstage.Live`` (``scripts/dvclive-suite``).

- :mod:`dvclive_suite.environment`: DVCLive's sdist and the virtualenv its tests run in;
- :mod:`dvclive_suite.pytest_plugin`: the swap of ``dvclive.Live`` and the per-test record,
  loaded into pytest inside that virtualenv;
- :mod:`dvclive_suite.results`: stock against swapped: regressions, flakes, the allow-list.

Nothing is imported here: the plugin runs in another virtualenv than the driver.
"""
