"""Add up the JUnit reports of all pytest runs into one closing line."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

totals = {"passed": 0, "failed": 0, "skipped": 0}
reports = [r for folder in sys.argv[1:] for r in sorted(Path(folder).glob("*.xml"))]
for report in reports:
    for suite in ET.parse(report).getroot().iter("testsuite"):
        tests = int(suite.get("tests", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        passed = tests - failed - skipped
        label = f"{report.parent.name}/{report.stem}"
        print(f"{label}: {passed} passed, {failed} failed, {skipped} skipped")
        totals["passed"] += passed
        totals["failed"] += failed
        totals["skipped"] += skipped
print(f"all: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
sys.exit(1 if totals["failed"] or not totals["passed"] else 0)
