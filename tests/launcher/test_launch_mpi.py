"""Hostfile, the mpiexec line, hydra's launcher arguments, and the initramfs pieces."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from supervm.launcher import initramfs, mpi


def test_hostfile(tmp_path: Path) -> None:
    path = mpi.write_hostfile(tmp_path / "hosts", ["10.77.0.10", "10.77.0.11"], 2)
    assert path.read_text() == "10.77.0.10:2\n10.77.0.11:2\n"


def test_mpiexec_line_pins_the_bridge_address(tmp_path: Path) -> None:
    line = mpi.mpiexec_command("mpiexec", tmp_path / "agent", tmp_path / "hosts", "10.77.0.1",
                               2, 1, ["python", "x.py"])
    assert line[line.index("-localhost") + 1] == "10.77.0.1"
    assert line[line.index("-launcher-exec") + 1] == str(tmp_path / "agent")
    assert line[-2:] == ["python", "x.py"]


def test_agent_parses_hydra_arguments() -> None:
    host, cmd = mpi.parse_agent_args(["-x", "10.77.0.11", '"/v/bin/hydra_pmi_proxy"',
                                      "--control-port", "10.77.0.1:4000"])
    assert host == "10.77.0.11"
    assert cmd == '"/v/bin/hydra_pmi_proxy" --control-port 10.77.0.1:4000'
    with pytest.raises(ValueError):
        mpi.parse_agent_args(["-x", "10.77.0.11"])


def test_agent_rejects_unknown_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    _, mapping = mpi.write_agent(tmp_path, "test:///default", {"10.77.0.10": "svm-x-g0"})
    monkeypatch.setenv(mpi.HOSTS_ENV, str(mapping))
    assert mpi.agent_main(["-x", "10.9.9.9", "true"]) == 255
    assert "10.9.9.9" in capsys.readouterr().err


def _fake_modules(root: Path) -> Path:
    mods = root / "lib" / "modules" / "9.9"
    (mods / "kernel").mkdir(parents=True)
    deps = {"a.ko": [], "b.ko": ["a.ko"], "c.ko.xz": ["b.ko", "a.ko"]}
    (mods / "modules.dep").write_text("".join(
        f"kernel/{m}: {' '.join('kernel/' + d for d in ds)}\n" for m, ds in deps.items()))
    (mods / "modules.builtin").write_text("kernel/builtin_one.ko\n")
    return mods


def test_module_order_puts_dependencies_first(tmp_path: Path) -> None:
    mods = _fake_modules(tmp_path)
    order = initramfs.module_order(mods, ("c", "builtin_one"))
    assert order == ["kernel/a.ko", "kernel/b.ko", "kernel/c.ko.xz"]
    with pytest.raises(FileNotFoundError, match="nope"):
        initramfs.module_order(mods, ("nope",))


def test_cpio_lists_with_the_system_cpio(tmp_path: Path) -> None:
    archive = initramfs._newc([("bin", 0o40755, b""), ("bin/x", 0o100755, b"hello\n")])
    done = subprocess.run(["cpio", "-t"], input=archive, capture_output=True, timeout=30)
    assert done.returncode == 0
    assert done.stdout.decode().split() == ["bin", "bin/x"]


@pytest.mark.skipif(not initramfs.BUSYBOX.is_file(), reason="busybox-static not installed")
def test_initramfs_is_cached_by_content(tmp_path: Path) -> None:
    kernel = initramfs.find_kernel()
    first = initramfs.build_initramfs(tmp_path, kernel)
    assert initramfs.build_initramfs(tmp_path, kernel) == first
    assert len(list(tmp_path.iterdir())) == 1
    listing = subprocess.run(["cpio", "-t"], input=gzip.decompress(first.read_bytes()),
                             capture_output=True, timeout=60).stdout.decode().split()
    assert {"init", "stage2", "bin/busybox", "modules.order"} <= set(listing)
    assert any(name.startswith("modules/9p") for name in listing)
