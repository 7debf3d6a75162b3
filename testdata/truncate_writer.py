"""A cryosparc-tools save caught at its start: the session file is opened
with O_TRUNC (as Path.write_text does) the moment a command starts, so that
the command reads it while the kernel truncates it (ext4 shows size 0 with
the old times for milliseconds on a large file); the save then stalls, and
writes what it had prepared.

Usage: truncate_writer.py FILE SAVE_FILE STALL_MS INPUT_FILE CMD...
Waits until FILE has not changed for 3 s (so that its times say it was
left alone), starts CMD with INPUT_FILE on its standard input, truncates
FILE at once, sleeps STALL_MS, writes SAVE_FILE's bytes into it; prints
CMD's exit status, then its stdout and stderr, as one JSON line.
"""

import json
import os
import subprocess
import sys
import time

path, save_file, stall, input_file = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000, sys.argv[4]
cmd = sys.argv[5:]
with open(save_file, "rb") as f:
    data = f.read()
while time.time() - os.stat(path).st_ctime < 3:
    time.sleep(0.1)
with open(input_file, "rb") as stdin:
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
time.sleep(stall)
os.write(fd, data)
os.close(fd)
out, err = proc.communicate()
print(json.dumps({"code": proc.returncode, "stdout": out.decode(), "stderr": err.decode()}))
