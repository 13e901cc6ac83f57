"""docs/analysis.md embeds the angle and preset tables generated from the registries, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from posekit.analysis.angles import conventions_table
from posekit.analysis.reps import presets_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "analysis.md"


@pytest.mark.parametrize(("marker", "table"), [("angles", conventions_table), ("presets", presets_table)])
def test_generated_tables_match_the_code(marker, table):
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"<!-- generated: {marker} -->\n") + len(f"<!-- generated: {marker} -->\n")
    end = text.index(f"<!-- end: {marker} -->")
    assert text[start:end] == table()
