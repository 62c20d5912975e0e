"""Suite-wide test settings.

``MENTOR_TEST_CORE=1`` (set by ``make test-core``) marks a run of the core tests in
a virtual environment without the optional extras: there, a test that skips
because a module could not be imported (``pytest.importorskip``) fails the run,
so that the core cannot pass by skipping its way to green. Tests that need an
extra on purpose carry a marker (``torch``) and are left out with ``-m``.
"""

from __future__ import annotations

import os

import pytest

CORE_RUN = os.environ.get("MENTOR_TEST_CORE") == "1"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not CORE_RUN:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    missing = [r for r in skipped if "could not import" in str(r.longrepr)]
    if missing:
        for report in missing:
            reporter.write_line(f"core run: {report.nodeid} skipped: {report.longrepr}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
