"""Process-level allocator tuning: applied once, harmless, and training results do not depend on it."""

import subprocess
import sys


def test_retain_freed_memory_applies_on_glibc_and_is_idempotent():
    code = ("from scalegmn.runtime import retain_freed_memory as r; import platform; "
            "first = r(); second = r(); "
            "assert first == second; assert first or platform.libc_ver()[0] != 'glibc'; print(first)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() in ("True", "False")
