"""Rewrites a session file in place for a while, exactly the way
cryosparc-tools' InstanceAuthSessions.save() does (truncate, then write, no
lock), as fast as it can; prints how many times it rewrote it.

Usage: inplace_writer.py FILE SECONDS
"""

import os
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
data = open(path, "rb").read()
end, n = time.time() + seconds, 0
while time.time() < end:
    # InstanceAuthSessions.save(), verbatim
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)
    n += 1
print(n)
