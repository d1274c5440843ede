"""``liq-signals install-strategies``: the shipped strategies into a user directory, never
over a file the user changed unless asked."""

from __future__ import annotations

from pathlib import Path

from liq_signals.cli import main
from tests.conftest import STRATEGIES

SHIPPED = sorted(p.name for p in STRATEGIES.glob("*.py"))


def test_copies_every_shipped_strategy(tmp_path: Path) -> None:
    assert main(["install-strategies", "--userdir", str(tmp_path / "ud")]) == 0
    target = tmp_path / "ud" / "strategies"
    assert sorted(p.name for p in target.glob("*.py")) == SHIPPED
    for name in SHIPPED:
        assert (target / name).read_bytes() == (STRATEGIES / name).read_bytes()
    assert main(["install-strategies", "--userdir", str(tmp_path / "ud")]) == 0  # same: fine


def test_a_changed_file_is_kept_unless_forced(tmp_path: Path, capsys) -> None:
    target = tmp_path / "ud" / "strategies"
    target.mkdir(parents=True)
    mine = target / "BaselineStrategy.py"
    mine.write_text("# my edits\n")
    assert main(["install-strategies", "--userdir", str(tmp_path / "ud")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("liq-signals install-strategies: error: ")
    assert "BaselineStrategy.py already exist with other contents; --force" in err
    assert mine.read_text() == "# my edits\n"
    assert not (target / "LiquidationMagnetStrategy.py").exists()  # nothing copied
    assert main(["install-strategies", "--userdir", str(tmp_path / "ud"), "--force"]) == 0
    assert mine.read_bytes() == (STRATEGIES / "BaselineStrategy.py").read_bytes()


def test_print_path_names_the_shipped_folder(capsys) -> None:
    assert main(["install-strategies", "--print-path"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert sorted(p.name for p in folder.glob("*.py")) == SHIPPED
