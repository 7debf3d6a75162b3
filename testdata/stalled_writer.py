"""Rewrites a session file in place the way cryosparc-tools' save() does
(open with O_TRUNC, then write), but stalls in the middle of each write, as
a process descheduled on a loaded login node or over NFS does: it truncates,
writes a prefix (nothing, a third, or all but the last byte), sleeps, then
writes the rest. Each round first loads the file (keeping what others
stored, as cryosparc-tools' load/insert/save does) and adds a session of its
own.

The load and the truncation are done under the lock this program uses: that
closes the window, which no reader can close, between cryosparc-tools'
load() and its truncation (docs/reliability.md), so that any session lost
in this test is lost to the stall and nothing else. The stall itself is
outside the lock, as with the real cryosparc-tools.

Usage: stalled_writer.py FILE ROUNDS SEED MIN_STALL MAX_STALL
Prints one line: rounds done and the emails it stored.
"""

import fcntl
import json
import os
import random
import sys
import time

path, rounds, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lo, hi = float(sys.argv[4]), float(sys.argv[5])
rng = random.Random(seed)
url = "https://python.example.com"
mine = []
for i in range(rounds):
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(open(path).read() or "{}")
        except ValueError:
            data = {}
        email = "py%d@example.com" % i
        data.setdefault(url, {})[email] = {
            "token": {"access_token": "py-token-%d" % i, "token_type": "bearer"},
            "expires": "2099-01-01T00:00:00Z",
        }
        mine.append(email)
        text = json.dumps(data, indent=4).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        fcntl.flock(lock, fcntl.LOCK_UN)
    cut = rng.choice([0, len(text) // 3, len(text) - 1])
    try:
        os.write(fd, text[:cut])
        time.sleep(rng.uniform(lo, hi))
        os.write(fd, text[cut:])
    finally:
        os.close(fd)
    time.sleep(0.02)
print(rounds, " ".join(mine))
