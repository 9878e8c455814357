"""The archive: content-addressed, read-only, never overwritten, checked on load."""
import hashlib
import os
import stat

import pytest

from salestrack import pdf


def test_round_trip(tmp_path):
    data = b"%PDF-1.7 sealed sheet"
    sha = pdf.archive_store(tmp_path, data)
    assert sha == hashlib.sha256(data).hexdigest()
    path = pdf.archive_path(tmp_path, sha)
    assert path == tmp_path / sha[:2] / f"{sha}.pdf"
    assert pdf.archive_load(tmp_path, sha) == data
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o222 == 0  # read-only
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def test_storing_again_does_not_rewrite(tmp_path):
    data = b"%PDF-1.7 same"
    sha = pdf.archive_store(tmp_path, data)
    path = pdf.archive_path(tmp_path, sha)
    os.utime(path, (1_000_000, 1_000_000))
    assert pdf.archive_store(tmp_path, data) == sha
    assert os.stat(path).st_mtime == 1_000_000


def test_changed_file_is_detected(tmp_path):
    sha = pdf.archive_store(tmp_path, b"%PDF-1.7 original")
    path = pdf.archive_path(tmp_path, sha)
    os.chmod(path, 0o644)
    path.write_bytes(b"%PDF-1.7 forged")
    with pytest.raises(pdf.ArchiveCorrupt):
        pdf.archive_load(tmp_path, sha)


def test_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        pdf.archive_load(tmp_path, "0" * 64)


@pytest.mark.parametrize("bad", ["", "abc", "../" + "0" * 61, "A" * 64, "0" * 63 + "/", None])
def test_only_hashes_make_paths(tmp_path, bad):
    with pytest.raises(ValueError):
        pdf.archive_path(tmp_path, bad)
