"""cryosparc-tools' own session code, cryosparc/auth.py, imported from the
checkout CRYOSPARC_TOOLS_SRC names (a work tree of
github.com/cryoem-uoft/cryosparc-tools), for measurements against the real
thing (scripts/stress.sh). Nothing of it is copied here.

auth.py imports three modules of its package: models/auth.py and
platform.py are imported as they are; util.py needs numpy, which this
machine lacks, so only the function auth.py takes from it, first(), is
taken from its source and run alone.
"""

import ast
import importlib.util
import os
import sys
import types

SRC = os.path.join(os.environ["CRYOSPARC_TOOLS_SRC"], "cryosparc")


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(SRC, file))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _util():
    with open(os.path.join(SRC, "util.py")) as f:
        tree = ast.parse(f.read())
    # The last definition is the function; those before it, @overload
    # stubs.
    wanted = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "first"][-1:]
    if not wanted:
        raise SystemExit("cryosparc/util.py has no first()")
    module = types.ModuleType("cryosparc.util")
    # first()'s annotations name typing's generics and util.py's type
    # variable; give them.
    exec("from typing import *\nV = TypeVar('V')\n", module.__dict__)
    exec(compile(ast.Module(body=wanted, type_ignores=[]), "util.py", "exec"), module.__dict__)
    sys.modules["cryosparc.util"] = module


package = types.ModuleType("cryosparc")
package.__path__ = [SRC]
sys.modules["cryosparc"] = package
models = types.ModuleType("cryosparc.models")
models.__path__ = [os.path.join(SRC, "models")]
sys.modules["cryosparc.models"] = models
_load("cryosparc.models.auth", "models/auth.py")
_load("cryosparc.platform", "platform.py")
_util()
auth = _load("cryosparc.auth", "auth.py")

InstanceAuthSessions = auth.InstanceAuthSessions
Token = sys.modules["cryosparc.models.auth"].Token
