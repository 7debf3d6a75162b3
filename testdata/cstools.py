"""A model of cryosparc-tools' session file (cryosparc/auth.py), written for
the tests: pydantic 2 models with the same fields, validators, load(), find(),
insert() and save(). Used by the Go tests and integration_test.sh to check
that the binary agrees with Python byte for byte.

Usage:
  cstools.py roundtrip FILE            load + save FILE in place
  cstools.py dump FILE                 print what save() would write (no newline added)
  cstools.py valid FILE                exit 0 when load() accepts FILE, 1 when it warns
  cstools.py find FILE [URL [EMAIL]]   print url, email, token, expires or nothing (exit 1)
  cstools.py insert FILE URL EMAIL TOKEN EXPIRES   load, insert, save
  cstools.py choose-env FILE           print the token CryoSPARC() would use in this process's environment (exit 1: none)
  cstools.py batch                     JSON lines on stdin: {"op": ..., ...} -> JSON lines

The batch op "choose" models which session cryosparc-tools' CryoSPARC() uses
(cryosparc/tools.py, CryoSPARC.__init__, without a password) in a given
environment, with an optional base_url/email given by the caller.
"""

import json
import os
import re
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Literal, Optional

from pydantic import AwareDatetime, BaseModel, RootModel, ValidationError, field_validator


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"]


class AuthSession(BaseModel):
    token: Token
    expires: AwareDatetime


class UserAuthSessions(RootModel):
    root: Dict[str, AuthSession]

    @field_validator("root", mode="after")
    @classmethod
    def remove_expired_tokens(cls, value):
        now = datetime.now(timezone.utc)
        return {k: v for k, v in value.items() if v.expires > now}


class InstanceAuthSessions(RootModel):
    root: Dict[str, UserAuthSessions]

    @classmethod
    def parse(cls, data: bytes):
        try:
            return cls.model_validate_json(data), True
        except ValidationError:
            return cls({}), False

    @classmethod
    def load(cls, path: Path):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls({}), True
        return cls.parse(data)

    def dump(self) -> bytes:
        return self.model_dump_json(indent=4).encode()

    def save(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, self.dump())
        finally:
            os.close(fd)

    def find(self, url: Optional[str] = None, email: Optional[str] = None):
        url = (
            url
            or next((k for k, s in self.root.items() if s.root and (not email or email in s.root)), None)
            or "http://localhost:61000"
        )
        if url in self.root:
            s = next((v for e, v in self.root[url].root.items() if not email or e == email), None)
            if s:
                email = next(e for e, v in self.root[url].root.items() if v is s)
                return url, email, s

    def insert(self, url, email, token, expires):
        if url not in self.root:
            self.root[url] = UserAuthSessions({})
        self.root[url].root[email] = AuthSession(token=Token(access_token=token, token_type="bearer"), expires=expires)


def expires_text(s: AuthSession) -> str:
    return json.loads(s.model_dump_json())["expires"]


def canonical(url):
    """The canonical form this project matches beyond cryosparc-tools' exact
    keys (SPEC §2): scheme and host lower-cased, default port and trailing /
    dropped. Enough for the URLs the tests generate."""
    m = re.match(r"^([A-Za-z]+)://([^/:]*)(?::(\d+))?(/.*)?$", url)
    if not m:
        return url
    scheme, host, port, path = m.group(1).lower(), m.group(2).lower(), m.group(3), (m.group(4) or "").rstrip("/")
    if port and (scheme, int(port)) in (("http", 80), ("https", 443)):
        port = None
    return f"{scheme}://{host}" + (f":{int(port)}" if port else "") + path


def choose(sessions, env, base_url=None, email=None):
    """CryoSPARC(base_url, email=email) with os.getenv read from env: the
    session it authenticates with, or None where it raises. As in
    CryoSPARC.__init__: host/port variables with a base URL are refused;
    host defaults to localhost, port to 61000 (int() of it, or refused);
    http:// is added when the URL does not match ^https?://; then
    find(base_url, email). A base_url given by the caller (this project's
    --url) wins over the host/port variables instead of clashing with
    them, and gets http:// only when it has no scheme at all (SPEC §3)."""
    own = base_url is not None
    if not own:
        base_url = env.get("CRYOSPARC_BASE_URL") or None
        host = env.get("CRYOSPARC_MASTER_HOSTNAME") or None
        base_port = env.get("CRYOSPARC_BASE_PORT") or None
    else:
        # The caller's own URL follows this project's protocol rule
        # (http:// added when there is no "://" at all).
        host = base_port = None
        if "://" not in base_url:
            base_url = "http://" + base_url
    email = email or env.get("CRYOSPARC_EMAIL") or None
    if host or base_port:
        if base_url:
            return None
        host = host or "localhost"
        try:
            port = int(base_port or 61000)
        except ValueError:
            return None
        base_url = f"http://{host}:{port}"
    elif base_url and not own and not re.match(r"^https?://", base_url):
        base_url = "http://" + base_url
    if base_url and base_url not in sessions.root:
        # This project's one addition: a key that is the same URL in
        # canonical form matches.
        same = [k for k in sessions.root if canonical(k) == canonical(base_url)]
        if same:
            base_url = same[0]
    return sessions.find(base_url, email)


def batch():
    for line in sys.stdin:
        req = json.loads(line)
        sessions, ok = InstanceAuthSessions.parse(req["data"].encode("utf-8", "surrogateescape"))
        out = {"valid": ok}
        if req["op"] == "dump":
            out["dump"] = sessions.dump().decode()
        elif req["op"] == "find":
            r = sessions.find(req.get("url") or None, req.get("email") or None)
            out["found"] = None if r is None else [r[0], r[1], r[2].token.access_token, expires_text(r[2])]
        elif req["op"] == "choose":
            r = choose(sessions, req.get("env") or {}, req.get("url") or None, req.get("email") or None)
            out["found"] = None if r is None else [r[0], r[1], r[2].token.access_token, expires_text(r[2])]
        print(json.dumps(out), flush=True)


def main(argv):
    warnings.simplefilter("ignore")
    op = argv[1]
    if op == "batch":
        return batch()
    path = Path(argv[2])
    sessions, ok = InstanceAuthSessions.load(path)
    if op == "choose-env":
        r = choose(sessions, os.environ)
        if r is None:
            return 1
        print(r[2].token.access_token)
        return 0
    if op == "valid":
        return 0 if ok else 1
    if op == "dump":
        sys.stdout.buffer.write(sessions.dump())
        return 0
    if op == "roundtrip":
        sessions.save(path)
        return 0
    if op == "find":
        r = sessions.find(argv[3] if len(argv) > 3 else None, argv[4] if len(argv) > 4 else None)
        if r is None:
            return 1
        print(f"url={r[0]}\nemail={r[1]}\naccess_token={r[2].token.access_token}\nexpires={expires_text(r[2])}")
        return 0
    if op == "insert":
        sessions.insert(argv[3], argv[4], argv[5], argv[6])
        sessions.save(path)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
