"""checkov's own command line, minus a cost that is not checkov's work.

Run with .venv-checkov's Python: ``python -m tests.infra.run_checkov <checkov arguments>``.
bc_jsonpath_ng (pinned by checkov 3.3.30) builds the PLY parse tables of its JSONPath grammar
again for every path it parses: about 70 times per scan of infra/, two thirds of the scan's CPU.
The tables depend only on the grammar, and its rules keep no state, so here each grammar's
parser is built once per thread and reused. Everything else is checkov's command line as the
README runs it, and the tests check its verdicts (the unbroken copy passes, each broken copy
fails exactly the checks it should).
"""

import sys
import threading
import warnings
from typing import Any

import ply.yacc

_build = ply.yacc.yacc
_parsers = threading.local()


def _yacc_once(*args: Any, module: Any = None, start: Any = None, **kwargs: Any) -> Any:
    if module is None or args:  # a grammar found some other way: build it as PLY would
        return _build(*args, module=module, start=start, **kwargs)
    cache = _parsers.__dict__.setdefault("by_grammar", {})
    key = (type(module), start)
    if key not in cache:
        cache[key] = _build(module=module, start=start, **kwargs)
    return cache[key]


ply.yacc.yacc = _yacc_once  # bc_jsonpath_ng calls ply.yacc.yacc(...) through the module

from checkov.main import Checkov  # noqa: E402 - imported once the cache is in place

if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=SyntaxWarning)
        sys.exit(Checkov(sys.argv[1:]).run())  # the default argv is bound when imported
