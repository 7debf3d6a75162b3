"""cryosparc-tools' login, saved the way it saves, in a loop: load the
session file, insert one new session, save it (open with O_TRUNC, write, no
lock), pause; with the pydantic model of testdata/cstools.py. Prints the
email of each session it saved, one a line.

Usage: save_race_writer.py FILE URL SAVES MAX_PAUSE_MS SEED
"""

import os
import random
import sys
import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cstools import InstanceAuthSessions  # noqa: E402

warnings.simplefilter("ignore")
path, url = Path(sys.argv[1]), sys.argv[2]
saves, max_pause, rng = int(sys.argv[3]), float(sys.argv[4]) / 1000, random.Random(int(sys.argv[5]))
expires = datetime.now(timezone.utc) + timedelta(days=1)
for i in range(saves):
    sessions, _ = InstanceAuthSessions.load(path)
    email = f"writer{i}@example.com"
    sessions.insert(url, email, f"writer-token-{i}", expires)
    sessions.save(path)
    print(email, flush=True)
    time.sleep(rng.uniform(0, max_pause))
