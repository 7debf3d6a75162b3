"""Random store/get/erase steps, run through the binary and through a model
of the spec built on cryosparc-tools' own session model (cstools.py): after
every step the two files must be byte-identical and every get must agree.

Usage: differential.py BINARY STEPS SEED
"""

import os
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(__file__))
from cstools import AuthSession, InstanceAuthSessions, Token  # noqa: E402


def canonical(url):
    if "://" not in url:
        url = "http://" + url
    u = urlsplit(url)
    scheme, host = u.scheme.lower(), u.netloc.lower()
    if (scheme, host.rsplit(":", 1)[-1]) in (("http", "80"), ("https", "443")) and ":" in host:
        host = host.rsplit(":", 1)[0]
    return f"{scheme}://{host}{u.path.rstrip('/')}"


def with_scheme(url):
    return url if "://" in url else "http://" + url


def keys_for(model, url):
    """The instance keys a URL names: itself, else those of the same canonical form."""
    if url in model.root:
        return [url]
    c = canonical(url)
    return [k for k in model.root if canonical(k) == c]


def spec_find(model, url, email):
    if url:
        keys = keys_for(model, url)
        if keys and keys[0] != url:
            url = keys[0]
    return model.find(url or None, email or None)


def spec_store(model, url, email, token, expires):
    keys = keys_for(model, url)
    key = keys[0] if keys else canonical(url)
    model.insert(key, email, token, expires)


def spec_erase(model, url, email, token):
    keys = keys_for(model, url) if url else list(model.root)
    for k in keys:
        sessions = model.root[k].root
        gone = [e for e, s in sessions.items() if (not email or e == email) and (token is None or s.token.access_token == token)]
        for e in gone:
            del sessions[e]
        if not sessions and (gone or (url and not email and token is None)):
            del model.root[k]


HOSTS = ["cryosparc.example.com", "lab.example.org:39000", "Cryosparc.Example.com", "10.0.0.7:39000"]
EMAILS = ["ali@example.com", "bo@example.com", "ü@例え.jp", "x\"y@example.com"]
TOKENS = ["abc", "", "tok/with<>&", "é€😀", "back\\slash", "ctl\x01\x1f", "tab\tcr\r"]


def random_url(r):
    host = r.choice(HOSTS)
    scheme = r.choice(["https://", "http://", "HTTPS://", ""])
    url = scheme + host
    if r.random() < 0.2:
        url += "/"
    if r.random() < 0.1 and scheme.lower() == "https://" and ":" not in host:
        url += ":443" if not url.endswith("/") else ""
    return url


def random_expiry(r, now):
    t = now + timedelta(seconds=r.randint(-3600, 30 * 86400), microseconds=r.choice([0, 0, 1, 123456, 999999]))
    form = r.randint(0, 5)
    if form == 0:
        return "expires_in", str(r.randint(0, 30 * 86400)), None
    off = timezone(timedelta(minutes=r.choice([0, 330, -420, 59, -1439])))
    text = t.astimezone(off).isoformat()
    if form == 1:
        text = text.replace("+00:00", "Z")
    if form == 2:
        text = text.replace("T", " ")
    return "expires", text, datetime.fromisoformat(text.replace("Z", "+00:00"))


def main():
    binary, steps, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    r = random.Random(seed)
    tmp = tempfile.TemporaryDirectory()  # removed when main returns
    work = tmp.name
    path = os.path.join(work, "auth.json")
    env = dict(os.environ, CRYOSPARC_AUTH_FILE=path)
    model = InstanceAuthSessions({})
    agreed = 0

    def run(action, lines):
        data = "".join(f"{k}={v}\n" for k, v in lines)
        p = subprocess.run([binary, action], input=data.encode(), capture_output=True, env=env)
        return p.returncode, p.stdout.decode()

    for step in range(steps):
        now = datetime.now(timezone.utc)
        op = r.choice(["store", "store", "get", "get", "erase"])
        url = random_url(r)
        email = r.choice(EMAILS)
        if op == "store":
            token = r.choice(TOKENS) + str(r.randint(0, 9))
            key, value, when = random_expiry(r, now)
            code, _ = run("store", [("url", url), ("email", email), ("access_token", token), (key, value)])
            if key == "expires_in":
                when = (datetime.now(timezone.utc) + timedelta(seconds=int(value))).replace(microsecond=0)
                # The binary took its own clock: allow a second of skew.
                if code == 0:
                    stored = spec_find(InstanceAuthSessions.load(__import__("pathlib").Path(path))[0], with_scheme(url), email)
                    when = stored[2].expires if stored else when
            live = when > datetime.now(timezone.utc)
            # A carriage return anywhere in a token is refused on the way in
            # (a reader in Python's text mode would split the line there).
            carriable = "\r" not in token
            want_code = 0 if live and carriable else 2
            if code != want_code and not (key == "expires_in" and value == "0" and carriable):
                sys.exit(f"step {step}: store exit {code}, expected {want_code}")
            if code == 0:
                spec_store(model, with_scheme(url), email, token, when)
        elif op == "get":
            q_url = url if r.random() < 0.8 else ""
            q_email = email if r.random() < 0.5 else ""
            lines = ([("url", q_url)] if q_url else []) + ([("email", q_email)] if q_email else [])
            code, out = run("get", lines)
            want = spec_find(model, with_scheme(q_url) if q_url else "", q_email)
            if want is None:
                if code != 1 or out:
                    sys.exit(f"step {step}: get {lines} gave exit {code} {out!r}, model finds nothing")
            else:
                exp = InstanceAuthSessions({want[0]: {want[1]: want[2]}}).model_dump_json()
                import json
                exp_text = json.loads(exp)[want[0]][want[1]]["expires"]
                expected = f"url={want[0]}\nemail={want[1]}\naccess_token={want[2].token.access_token}\ntoken_type=bearer\nexpires={exp_text}\n"
                if "\n" in want[2].token.access_token or want[2].token.access_token.endswith("\r"):
                    if code == 0:
                        sys.exit(f"step {step}: a token with a line break was printed")
                elif code != 0 or out != expected:
                    sys.exit(f"step {step}: get {lines} gave exit {code}\n{out}\nmodel:\n{expected}")
        else:
            q_email = email if r.random() < 0.6 else ""
            token = None
            if r.random() < 0.3:
                token = r.choice(TOKENS) + str(r.randint(0, 9))
            lines = [("url", url)] + ([("email", q_email)] if q_email else []) + ([("access_token", token)] if token is not None else [])
            code, _ = run("erase", lines)
            if code != 0:
                sys.exit(f"step {step}: erase exit {code}")
            spec_erase(model, with_scheme(url), q_email, token)
        # Compare the files: what the binary wrote, and what the model saves.
        if os.path.exists(path):
            ours = open(path, "rb").read()
            theirs = InstanceAuthSessions.parse(ours)[0]
            if not InstanceAuthSessions.parse(ours)[1]:
                sys.exit(f"step {step}: cryosparc-tools rejects the file")
            if ours != model.dump() and op != "get":
                # Writes drop expired sessions; the model does so on load.
                model = InstanceAuthSessions.parse(model.dump())[0]
                if ours != model.dump():
                    sys.exit(f"step {step} ({op}): files differ\nbinary:\n{ours.decode()}\nmodel:\n{model.dump().decode()}")
        agreed += 1
    print(f"differential: {agreed} passed, 0 failed")


if __name__ == "__main__":
    main()
