"""Generated secrets: created once, atomically, private to the owner, and read once per Settings."""

from __future__ import annotations

import stat
import threading

from core.settings import _generated_secret, load_settings


def test_secret_is_generated_once_private_and_read_once(tmp_path):
    settings = load_settings(env="test", var_dir=tmp_path / "var")
    first = settings.secret("jwt_secret")
    path = tmp_path / "var" / "jwt_secret.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and path.read_text() == first
    path.write_text("x" * 40)
    assert settings.secret("jwt_secret") == first  # read once per Settings
    assert load_settings(env="test", var_dir=tmp_path / "var").secret("jwt_secret") == "x" * 40
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == ["jwt_secret.txt"]  # no temp left


def test_concurrent_first_use_agrees_on_one_secret(tmp_path):
    path = tmp_path / "var" / "secret_key.txt"
    seen: list[str] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        seen.append(_generated_secret(path))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and len(set(seen)) == 1 and path.read_text().strip() == seen[0]
    assert [p.name for p in path.parent.iterdir()] == ["secret_key.txt"]
