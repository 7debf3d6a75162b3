"""Rewrites a session file in place, alternating between two versions, the
way cryosparc-tools' save() writes (Path.write_text: open with O_TRUNC, then
write, no lock), so that a reader overlapping a save can see bytes of two
versions.

Modes:
  shift      A = user000000 … user004999, B = user000001 … user005000, each
             user's token tok-<n>: two files of exactly the same size, whose
             sessions sit one place apart, so that a reader mixing them finds
             a neighbour's token under a user's email.
  realistic  3,000 sessions, alternately without and with one new login
             (new@example.com, added at the end as insert() does): files of
             different sizes and contents.

Usage: mixed_writer.py FILE MODE SECONDS PERIOD_MS
Writes the first version at once, then rewrites the file every PERIOD_MS
until SECONDS have passed (until FILE.stop exists, when SECONDS is 0; not
at all when SECONDS is negative); prints the number of rewrites.
"""

import json
import os
import sys
import time

URL = "https://cs.example.com"
EXPIRES = "2099-01-01T00:00:00Z"


def session_file(users, extra=None):
    sessions = {}
    for n in users:
        sessions["user%06d@example.com" % n] = {
            "token": {"access_token": "tok-%06d" % n, "token_type": "bearer"},
            "expires": EXPIRES,
        }
    if extra:
        sessions[extra] = {
            "token": {"access_token": "tok-" + extra, "token_type": "bearer"},
            "expires": EXPIRES,
        }
    # model_dump_json(indent=4) for ASCII content, no trailing newline.
    return json.dumps({URL: sessions}, indent=4).encode()


def save(path, data):
    # InstanceAuthSessions.save(): Path.write_text, verbatim in effect.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


path, mode, seconds, period = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]) / 1000
if mode == "shift":
    versions = [session_file(range(0, 5000)), session_file(range(1, 5001))]
    assert len(versions[0]) == len(versions[1])
elif mode == "realistic":
    versions = [session_file(range(3000)), session_file(range(3000), "new@example.com")]
else:
    sys.exit("unknown mode " + mode)

save(path, versions[0])
if seconds < 0:
    print(0)
    sys.exit()
end, n = time.time() + seconds, 1
def more():
    return time.time() < end if seconds > 0 else not os.path.exists(path + ".stop")


while more():
    # A long pause is slept in steps, so that a stop is seen soon.
    wake = time.time() + period
    while time.time() < wake and more():
        time.sleep(max(0, min(wake - time.time(), 0.05)))
    if not more():
        break
    save(path, versions[n % 2])
    n += 1
print(n)
