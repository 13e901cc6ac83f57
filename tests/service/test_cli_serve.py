"""``posekit serve``'s command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from posekit.cli import main


def test_serve_help_lists_the_contract_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--host", "--port", "--workers", "--max-upload-mb", "--api-key", "--data", "--cors-origin"):
        assert flag in text
    assert "127.0.0.1" in text


@pytest.mark.parametrize(("flags", "words"), [(["--workers", "0"], "workers"), (["--api-key", ""], "api_key")])
def test_serve_refuses_bad_settings_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], words: str
) -> None:
    assert main(["serve", "--data", str(tmp_path), *flags]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]
