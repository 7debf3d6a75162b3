"""Rewrites a session file in place the way cryosparc-tools' save() does
(open with O_TRUNC, then write), stalling in the middle, at a chosen moment
of the second: the case that a 1-second change time misjudges.

Usage: coarse_writer.py FILE FRACTION CUT STALL
Waits until the clock's fraction of a second is FRACTION (0.90: x.90 s),
truncates FILE, writes its first CUT bytes, prints "truncated", sleeps STALL
seconds, then writes the rest. The content is the file as it was, plus one
session of its own (py@example.com under https://python.example.com).
"""

import json
import os
import sys
import time

path, fraction, cut, stall = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
data = json.loads(open(path).read())
data.setdefault("https://python.example.com", {})["py@example.com"] = {
    "token": {"access_token": "py-token", "token_type": "bearer"},
    "expires": "2099-01-01T00:00:00Z",
}
text = json.dumps(data, indent=4).encode()
cut = int(len(text) * cut)
wait = (fraction - time.time() % 1) % 1
time.sleep(wait)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
try:
    os.write(fd, text[:cut])
    print("truncated", flush=True)
    time.sleep(stall)
    os.write(fd, text[cut:])
finally:
    os.close(fd)
