"""What ``ml4em integrity`` looks for: qualified names and attribute names, by category.

A *qualified name* is what an expression in an answer cell refers to once the notebook's import aliases are
resolved: ``np.allclose`` is ``numpy.allclose``, ``os.environ.get`` is ``os.environ.get``, a bare ``open`` is
``builtins.open`` and a call adds ``()`` (``pathlib.Path.cwd().parent``). Patterns are shell-style
(:func:`fnmatch.fnmatchcase`); :func:`module` writes the two patterns of a whole module.

Used in: :mod:`ml4em.integrity._scan`.
"""

import re
from fnmatch import fnmatchcase

__all__ = ["CATEGORIES", "ATTRIBUTE_RULES", "FILE_FUNCTIONS", "HARMLESS_MAGICS", "CODE_MAGICS", "NAME_RULES",
           "PATH_KEYWORDS", "SPECIAL_NAMES", "TWO_PATHS", "match_name", "matches_any", "module", "outside_path"]

CATEGORIES = ("checks", "ipython", "modules", "builtins", "process", "files", "package-answers", "cells", "sandbox")


def module(name):
    """The patterns of module ``name`` and everything in it.

    Examples
    --------
    >>> module("subprocess")
    ('subprocess', 'subprocess.*')
    """
    return (name, f"{name}.*")


# (category, patterns, patterns excepted, why it matters). The first rule that matches a name wins.
NAME_RULES = [
    ("checks", ("ml4em.checks*.sealed", "ml4em.checks*.CheckFailure"), (),
     "touches the check machinery that the test cells use"),
    ("ipython", ("IPython*.get_ipython", "IPython*InteractiveShell*", "IPython.core.magic*", "sys.displayhook",
                 "sys.excepthook", "sys.__displayhook__", "sys.__excepthook__"), (),
     "reaches into the IPython kernel, which runs the test cells"),
    ("modules", (*module("sys.modules"), *module("sys.meta_path"), *module("sys.path_hooks"),
                 *module("sys.path_importer_cache"), *module("sys.path"), *module("importlib"), *module("imp"),
                 *module("runpy"), *module("zipimport"), "builtins.__import__", "types.ModuleType"), (),
     "changes how modules are found or imported, so a test cell could get a fake module"),
    ("builtins", ("builtins", "__builtin__", "builtins.exec", "builtins.eval", "builtins.compile", "gc.*",
                  *module("ctypes"), *module("_ctypes"), *module("cffi"), *module("marshal"), "sys.settrace",
                  "sys.setprofile", "threading.settrace", "threading.setprofile", "sys._getframe",
                  "sys._current_frames", "sys.addaudithook", *module("sys.monitoring"), "inspect.currentframe",
                  "inspect.stack", "inspect.trace", "inspect.getouterframes", "inspect.getinnerframes",
                  "types.FunctionType", "types.CodeType", "types.CellType"), ("gc.collect",),
     "runs hidden code or reaches into the interpreter's frames, namespaces or objects"),
    ("process", (*module("subprocess"), *module("signal"), *module("multiprocessing"), *module("threading"),
                 *module("_thread"), *module("atexit"), *module("pty"), *module("socket"), *module("resource"),
                 "asyncio.create_subprocess_*", *module("asyncio.subprocess"), "concurrent.futures*PoolExecutor",
                 "os.system", "os.popen", "os.fork", "os.forkpty", "os.spawn*", "os.exec*", "os.posix_spawn*",
                 "os.setsid", "os.setpgrp", "os.setpgid", "os.kill", "os.killpg", "os.abort", "os._exit",
                 "os.wait*", "os.register_at_fork", "os.startfile", "sys.exit", "builtins.exit", "builtins.quit"), (),
     "starts processes or threads, or controls the kernel's process (exit, signals, hooks)"),
    ("files", (*module("os.environ"), *module("os.environb"), "os.getenv", "os.getenvb", "os.putenv",
               "os.unsetenv"), (),
     "reads or changes the environment variables of the grading machine"),
    ("files", ("os.chdir", "os.fchdir", "os.chroot", "os.remove", "os.unlink", "os.rmdir", "os.removedirs",
               "os.rename", "os.renames", "os.replace", "os.truncate", "os.chmod", "os.chown", "os.link",
               "os.symlink", "shutil.rmtree", "shutil.move", "pathlib.*.unlink", "pathlib.*.rmdir",
               "pathlib.*.rename", "pathlib.*.replace", "pathlib.*.symlink_to", "pathlib.*.chmod"), (),
     "deletes, moves or re-links files, or changes the working folder"),
    ("files", ("pathlib.*Path.home", "pathlib.*Path.cwd().parent*", "pathlib.*.resolve().parent*",
               "pathlib.*.absolute().parent*", "os.path.expanduser", "os.path.expandvars"), (),
     "looks outside the notebook's folder"),
]

# Attribute names that matter whatever object they are read from (obfuscated access included): category to
# (patterns, why it matters).
ATTRIBUTE_RULES = {
    "ipython": (("input_transformers_*", "ast_transformers", "set_custom_exc", "register_magic_function",
                 "register_magics", "run_line_magic", "run_cell_magic", "user_ns", "user_global_ns",
                 "InteractiveShell", "displayhook", "excepthook", "showtraceback", "_showtraceback",
                 "showsyntaxerror", "input_transformer_manager"),
                "reaches into the IPython kernel, which runs the test cells"),
    "builtins": (("f_back", "f_globals", "f_locals", "f_builtins", "f_trace", "tb_frame", "gi_frame", "cr_frame",
                  "ag_frame", "__globals__", "__code__", "__closure__", "cell_contents", "__subclasses__",
                  "__builtins__"),
                 "reaches into the interpreter's frames, functions or namespaces"),
    "files": (("unlink", "rmtree", "rmdir", "removedirs"), "deletes files or folders"),
}

# Bare names that IPython or Python put into a notebook's namespace without an import.
SPECIAL_NAMES = {"get_ipython": "IPython.get_ipython", "__builtins__": "builtins", "exit": "builtins.exit",
                 "quit": "builtins.quit"}

# Calls that open, list or test files: their path argument (the first; both for TWO_PATHS; all for pathlib's
# constructors) must stay inside the notebook's folder.
FILE_FUNCTIONS = ("builtins.open", "io.open", "codecs.open", "os.open", "os.listdir", "os.scandir", "os.walk",
                  "os.stat", "os.lstat", "os.mkdir", "os.makedirs", "os.access", "os.path.exists",
                  "os.path.lexists", "os.path.isfile", "os.path.isdir", "os.path.getsize", "shutil.*", "glob.*",
                  "pathlib.*Path", "numpy.load", "numpy.save", "numpy.savez*", "numpy.loadtxt", "numpy.savetxt",
                  "numpy.genfromtxt", "numpy.fromfile", "numpy.memmap", "pandas.read_*", "h5py.File",
                  "keras*.load_model", "matplotlib.pyplot.imread", "matplotlib.pyplot.savefig")
TWO_PATHS = ("shutil.copy*", "shutil.move", "os.rename", "os.renames", "os.replace", "os.link", "os.symlink")
PATH_KEYWORDS = ("file", "fname", "filename", "filepath", "path", "src", "dst", "top", "pathname", "dirname")

# Magics that only time, plot or show help. time/timeit run their argument, which is scanned like a cell.
HARMLESS_MAGICS = ("matplotlib", "time", "timeit", "pinfo", "pinfo2", "psearch", "who", "whos")
CODE_MAGICS = ("time", "timeit")

_ABSOLUTE = re.compile(r"^(/|~|[A-Za-z]:[\\/]|\\\\)")
_ENV = re.compile(r"\$\{?\w+|%\w+%")


def match_name(qualname):
    """The first rule of :data:`NAME_RULES` that matches ``qualname``: ``(category, why)`` or None.

    Examples
    --------
    >>> match_name("os.system")[0]
    'process'
    >>> match_name("numpy.allclose") is None
    True
    """
    for category, patterns, excepted, why in NAME_RULES:
        if any(fnmatchcase(qualname, p) for p in patterns) and not any(fnmatchcase(qualname, p) for p in excepted):
            return category, why
    return None


def matches_any(name, patterns):
    """True when ``name`` matches one of the shell-style ``patterns``."""
    return any(fnmatchcase(name, p) for p in patterns)


def outside_path(text, *, strict=True):
    """Why the path ``text`` may point outside the notebook's folder, or None.

    ``strict=False`` is for strings passed to any function: only strings without spaces that look like paths count,
    so that plot labels and messages are left alone.

    Examples
    --------
    >>> outside_path("../../tutorials/01_regression/01_regression.ipynb")
    'goes up to a parent folder (..)'
    >>> outside_path("results.csv") is None
    True
    >>> outside_path("t / lambda", strict=False) is None
    True
    """
    if not isinstance(text, str):
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    if not strict and (not text or any(ch.isspace() for ch in text)):
        return None
    if _ABSOLUTE.match(text) and (strict or len(text) > 1):
        return "is an absolute path or starts in the home folder (~)"
    if ".." in re.split(r"[\\/]", text):
        return "goes up to a parent folder (..)"
    if _ENV.search(text) and (strict or text[0] in "$%"):
        return "takes its folder from an environment variable"
    return None
