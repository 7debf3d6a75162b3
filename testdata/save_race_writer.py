"""cryosparc-tools' login, saved the way it saves, in a loop: load the
session file, insert one new session, save it (open with O_TRUNC, write, no
lock), pause. Prints the email of each session it saved, one a line, once
save() has returned.

Usage: save_race_writer.py FILE URL SAVES MAX_PAUSE_MS SEED [SECONDS]
Stops after SAVES saves, or, when SAVES is 0, after SECONDS.

With CRYOSPARC_TOOLS_SRC naming a checkout of cryosparc-tools, its own
cryosparc/auth.py is used (see real_cstools.py); else the pydantic model of
testdata/cstools.py.
"""

import os
import random
import sys
import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if os.environ.get("CRYOSPARC_TOOLS_SRC"):
    from real_cstools import InstanceAuthSessions, Token  # noqa: E402

    def token(value):
        return Token(access_token=value, token_type="bearer")
else:
    from cstools import InstanceAuthSessions  # noqa: E402

    def token(value):
        return value

warnings.simplefilter("ignore")
path, url = Path(sys.argv[1]), sys.argv[2]
saves, max_pause, rng = int(sys.argv[3]), float(sys.argv[4]) / 1000, random.Random(int(sys.argv[5]))
end = time.time() + float(sys.argv[6]) if len(sys.argv) > 6 else None
expires = datetime.now(timezone.utc) + timedelta(days=1)
i = 0
while (i < saves) if saves > 0 else (time.time() < end):
    sessions = InstanceAuthSessions.load(path)
    if isinstance(sessions, tuple):  # the model returns (sessions, warnings)
        sessions = sessions[0]
    email = f"writer{i}@example.com"
    sessions.insert(url, email, token(f"writer-token-{i}"), expires)
    sessions.save(path)
    print(email, flush=True)
    i += 1
    time.sleep(rng.uniform(0, max_pause))
