"""Benchmark: Argon2id cost on this machine and the login/token paths built on it.

Reports: hash and verify time of the production parameters (RFC 9106 low-memory profile)
against the OWASP minimum (m=19 MiB, t=2, p=1) as the baseline in the same run; median
`authenticate` time for a right password, a wrong one, an unknown user and an unknown tenant
(the others must cost about the same: ratio to "wrong password"; over-long passwords, for a
known or an unknown user, included); and the engine's token
check (signature only vs signature + the user-row lookup) on SQLite.

    .venv/bin/python bench/bench_auth.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argon2 import PasswordHasher  # noqa: E402

from bench._common import machine_info, print_machine  # noqa: E402
from core import migrations  # noqa: E402
from core.errors import AuthError  # noqa: E402
from core.runtime import build_runtime  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.tenants import create_tenant  # noqa: E402
from identity.engine_tokens import Principal, issue_token, verify_active_token, verify_token  # noqa: E402
from identity.passwords import HASHER  # noqa: E402
from identity.users import authenticate, create_user  # noqa: E402

PASSWORD = "bench-password-123"


def median_ms(fn, repeat: int) -> float:  # noqa: ANN001
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def attempt(rt, tenant: str, username: str, password: str) -> None:  # noqa: ANN001
    try:
        authenticate(rt.db, rt.settings, tenant=tenant, username=username, password=password)
    except AuthError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat
    print_machine(machine_info(("argon2-cffi", "argon2-cffi-bindings", "PyJWT", "SQLAlchemy")))
    owasp = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    print(f"production params: argon2id m={HASHER.memory_cost // 1024} MiB t={HASHER.time_cost} "
          f"p={HASHER.parallelism} salt={HASHER.salt_len} B tag={HASHER.hash_len} B; repeat={repeat}")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    prod_hash = median_ms(lambda: HASHER.hash(PASSWORD), repeat)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stored = HASHER.hash(PASSWORD)
    prod_verify = median_ms(lambda: HASHER.verify(stored, PASSWORD), repeat)
    base_hash = median_ms(lambda: owasp.hash(PASSWORD), repeat)
    print(f"hash   : {prod_hash:7.1f} ms  (OWASP-minimum baseline {base_hash:6.1f} ms, "
          f"ratio {prod_hash / base_hash:4.1f}x)")
    print(f"verify : {prod_verify:7.1f} ms  → at most {1000 / prod_verify:4.1f} logins/s per core")
    print(f"peak RSS growth while hashing: {(rss1 - rss0) / 1024:.0f} MB")

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env="test", var_dir=Path(tmp), secret_key="b" * 40, jwt_secret="j" * 40,
                                 lockout_threshold=10_000)
        rt = build_runtime(settings)
        migrations.upgrade_central(rt.db.central_engine)
        create_tenant(rt.db, "bench", name="Bench")
        uid = create_user(rt.db, tenant="bench", username="ana", password=PASSWORD, role="admin")
        cases = {
            "right password": ("bench", "ana", PASSWORD),
            "wrong password": ("bench", "ana", "not-the-password"),
            "unknown user": ("bench", "nobody", "not-the-password"),
            "unknown tenant": ("nope", "ana", "not-the-password"),
            "over-long pwd": ("bench", "ana", "x" * 1025),
            "over-long, unkn": ("bench", "nobody", "x" * 1025),
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(repeat):  # interleaved, so load drift hits every case alike
            for name, args in cases.items():
                t0 = time.perf_counter()
                attempt(rt, *args)
                samples[name].append((time.perf_counter() - t0) * 1000)
        times = {name: statistics.median(values) for name, values in samples.items()}
        print("authenticate (SQLite, audit row included, interleaved medians):")
        for name, ms in times.items():
            print(f"  {name:15s} {ms:7.1f} ms  ratio to wrong password {ms / times['wrong password']:4.2f}")
        token = issue_token(settings, Principal(uid, "ana", "bench", "admin"))
        sig = median_ms(lambda: verify_token(settings, token), repeat * 20)
        full = median_ms(lambda: verify_active_token(settings, token, rt.db), repeat * 20)
        print(f"token check: signature {sig * 1000:6.0f} µs, + user row {full * 1000:6.0f} µs "
              f"(lookup adds {(full - sig) * 1000:.0f} µs)")
        rt.db.dispose()


if __name__ == "__main__":
    main()
