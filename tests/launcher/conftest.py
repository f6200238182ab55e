"""Fixtures of the launcher tests that boot real guests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from real_guests import libvirtd_running

from supervm.launcher import daemon


@pytest.fixture(scope="module")
def libvirtd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[daemon.Daemons | None]:
    """Use the libvirtd that answers, else start one for the module and stop it by pid."""
    with libvirtd_running(tmp_path_factory.mktemp("libvirtd")) as started:
        yield started
