"""Checks of the run as a whole, so that a green run means the suite ran:

- under CI (`CI` set), the PostgreSQL half must run: TEST_DATABASE_URL is required;
- no test may be skipped: a skip fails the run;
- a run of whole directories (no -k, -m or --deselect) must run at least
  the number of tests kept for each of them in `tests/expected.toml`, on
  SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

Counted from the test reports, so it holds under pytest-xdist too.
"""
import os
import tomllib
from collections import Counter
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
EXPECTED = TESTS / "expected.toml"


def pytest_configure(config):
    if os.environ.get("CI") and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError(
            "CI runs the suite on PostgreSQL too: set TEST_DATABASE_URL "
            "(e.g. postgresql://postgres@127.0.0.1:5432/test)."
        )
    if not hasattr(config, "workerinput"):  # pytest-xdist's workers report to the controller
        config.pluginmanager.register(RunCheck(config), "keepalive-run-check")


def kind_of(nodeid):
    """The database an item ran on: PostgreSQL when one of its parameters names it."""
    params = nodeid.partition("[")[2].rstrip("]").split("-")
    return "postgresql" if "postgresql" in params else "sqlite"


def directory_of(nodeid):
    return nodeid.split("::", 1)[0].rpartition("/")[0]


class RunCheck:
    def __init__(self, config):
        self.config = config
        self.ran = Counter()  # (kind, directory) -> tests that passed or failed
        self.skipped = []

    def pytest_runtest_logreport(self, report):
        if report.skipped:
            self.skipped.append(f"{report.nodeid}: {skip_reason(report)}")
        elif report.when == "call":
            self.ran[kind_of(report.nodeid), directory_of(report.nodeid)] += 1

    def whole_directories(self):
        """The directories this run selected whole; none when tests were picked by name or marker."""
        option = self.config.option
        if option.keyword or option.markexpr or option.deselect or getattr(option, "lf", False):
            return []
        root = Path(self.config.rootpath)
        args = [Path(arg.split("::")[0]) for arg in self.config.args]
        given = [(arg if arg.is_absolute() else Path(self.config.invocation_params.dir) / arg).resolve()
                 for arg in args if "::" not in str(arg)]
        directories = {directory for floors in self.expected().values() for directory in floors}
        return sorted(directory for directory in directories
                      if any(path.is_dir() and (root / directory).resolve().is_relative_to(path) for path in given))

    def expected(self):
        with EXPECTED.open("rb") as file:
            return tomllib.load(file)

    def problems(self):
        found = []
        if self.skipped:
            found.append(f"{len(self.skipped)} test(s) skipped; a skipped test is a test that did not run:")
            found += [f"  {line}" for line in self.skipped]
        kinds = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
        expected = self.expected()
        for directory in self.whole_directories():
            for kind in kinds:
                least = expected.get(kind, {}).get(directory, 0)
                ran = self.ran[kind, directory]
                if ran < least:
                    found.append(f"{directory} ran {ran} test(s) on {kind}, fewer than the {least} expected "
                                 f"({EXPECTED.relative_to(TESTS.parent)}): a part of the suite is missing.")
        return found

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        if session.exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return  # interrupted, a usage error, nothing collected: pytest says so itself
        option = self.config.option
        if option.collectonly or option.setuponly or option.setupplan:
            return  # nothing was meant to run
        self.found = self.problems()
        if self.found:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if getattr(self, "found", None):
            terminalreporter.write_sep("=", "the run is incomplete", red=True, bold=True)
            for line in self.found:
                terminalreporter.write_line(line, red=True)


def skip_reason(report):
    if isinstance(report.longrepr, tuple):
        return report.longrepr[2]
    return str(report.longrepr)
