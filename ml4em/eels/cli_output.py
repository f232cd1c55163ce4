"""The output folder of ``ml4em zlp``: never replace what ml4em did not write, never leave half of it.

``ml4em zlp`` writes the marker file ``.ml4em-zlp-output`` (JSON: what wrote
the folder, when, and which files) into every folder it writes. An existing
``--out`` is replaced only when ``--overwrite`` is given, the marker is
there, the folder holds nothing but the files the marker lists, and no
input file lies inside it (:func:`check_output_folder`); the current folder,
its ancestors, the home folder and the file-system root are never replaced.
Deleting the marker protects a result folder from ``--overwrite``.

The results go into a hidden temporary folder beside ``--out``, created
before the work (:func:`make_temporary_folder`, which also proves that
``--out`` can be written) and renamed when complete (:func:`publish`). On
failure, Ctrl-C or SIGTERM (:class:`TerminationGuard` turns it into the same
clean-up path) :func:`remove_temporary` deletes it again.

Used in: ``ml4em zlp`` (:mod:`ml4em.eels.cli`).
"""

import contextlib
import datetime
import json
import os
import shutil
import signal
import tempfile
from pathlib import Path

from .cli_checks import CLIError, os_reason

__all__ = ["MARKER", "Terminated", "TerminationGuard", "check_output_folder", "make_temporary_folder",
           "publish", "read_marker", "remove_temporary"]

MARKER = ".ml4em-zlp-output"


def _names(items, limit=5):
    items = [str(i) for i in items]
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


class Terminated(KeyboardInterrupt):
    """Raised by :class:`TerminationGuard` on SIGTERM, so that it takes the clean-up path of Ctrl-C."""


def read_marker(folder):
    """The marker of a folder that ``ml4em zlp`` wrote (a dict with its ``files``), or None."""
    try:
        marker = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("written_by") != "ml4em zlp":
        return None
    return marker if isinstance(marker.get("files"), list) else None


def check_output_folder(out, *, given, inputs, overwrite):
    """Refuse an ``--out`` whose replacement could delete anything that ``ml4em zlp`` did not write.

    Parameters
    ----------
    out : pathlib.Path
        The resolved output folder.
    given : str
        ``--out`` as typed, for messages.
    inputs : list of (str, pathlib.Path, pathlib.Path)
        From :func:`check_inputs`.
    overwrite : bool
        ``--overwrite``.

    Raises
    ------
    CLIError
        With the files that would be lost and what to do instead.
    """
    fix = "Choose another --out, a new folder name (e.g. --out zlp-results)."
    cwd = Path.cwd().resolve()
    places = {cwd: "the current folder", Path.home().resolve(): "your home folder",
              Path(out.anchor): "the file-system root"}
    if out in places or cwd.is_relative_to(out):
        what = places.get(out, "a folder that holds the current folder")
        raise CLIError(f"--out {given} is {what} ({out}); ml4em zlp writes into a folder of its own and never "
                       f"replaces this one. {fix}")
    within = [f"{role} file {a}" for role, a, r in inputs if a.is_dir() and out.is_relative_to(r)]
    if within:  # an input stored as a folder (a .zspy): writing inside it would change the input
        raise CLIError(f"--out {given} lies inside the input {within[0]}, a folder that holds the spectra; writing "
                       f"there would change the input. {fix}")
    if not out.exists():
        return
    if not out.is_dir():
        raise CLIError(f"--out {given} is a file ({out}); give a folder name.")
    inside = [f"{role} file {a}" for role, a, r in inputs if a.is_relative_to(out) or r.is_relative_to(out)]
    if inside:
        raise CLIError(f"--out {given}: the folder {out} holds {len(inside)} input file(s) ({_names(inside)}); "
                       f"replacing it would delete them. {fix}")
    entries = sorted(os.listdir(out))
    marker = read_marker(out)
    if marker is None and entries:
        raise CLIError(f"--out {given}: the folder {out} exists and was not written by ml4em zlp (it has no "
                       f"{MARKER} file); replacing it would delete {len(entries)} item(s): {_names(entries)}. "
                       f"ml4em zlp never replaces a folder it did not write. {fix}")
    ours = set() if marker is None else {n for n in marker["files"] if (out / n).is_file()} | {MARKER}
    extra = [] if marker is None else [n for n in entries if n not in ours]
    if extra:
        raise CLIError(f"--out {given}: the folder {out} holds an earlier ml4em zlp result and {len(extra)} item(s) "
                       f"that ml4em zlp did not write ({_names(extra)}); replacing it would delete them. Move them "
                       f"out of the folder, or choose another --out.")
    if not overwrite:
        what = "an earlier ml4em zlp result" if marker else "empty"
        raise CLIError(f"output folder {out} exists ({what}); choose another --out or pass --overwrite to replace "
                       "it.")


def make_temporary_folder(out, *, given, files):
    """Create the hidden folder beside ``out`` that the results are written into, with the marker in it.

    This is also the check that ``--out`` can be written, made before the work.

    Returns
    -------
    tmp : pathlib.Path
    created : list of pathlib.Path
        Parent folders that did not exist before (deepest first), for :func:`remove_temporary`.
    """
    parent, created = out.parent, []
    while not os.path.lexists(parent):
        created.append(parent)
        parent = parent.parent
    if not parent.is_dir():
        raise CLIError(f"--out {given}: {parent} is a file, not a folder, so no folder can be made inside it; "
                       "choose an --out in a folder you can write to.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".ml4em-zlp-{out.name}.partial-"))
    except OSError as err:
        remove_temporary(None, created)
        raise CLIError(f"--out {given}: cannot create a folder in {out.parent} ({os_reason(err)}); choose an --out "
                       "in a folder you can write to.") from err
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the results are an ordinary folder
        from .. import __version__

        marker = {"written_by": "ml4em zlp", "ml4em_version": __version__,
                  "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "files": list(files),
                  "note": "ml4em zlp --overwrite may replace this folder; delete this file to protect it."}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    except OSError as err:
        remove_temporary(tmp, created)
        raise CLIError(f"--out {given}: cannot write files in {out.parent} ({os_reason(err)}); choose an --out on a "
                       "disk you can write to.") from err
    return tmp, created


def remove_temporary(tmp, created):
    """Delete the temporary folder and the parent folders that :func:`make_temporary_folder` created."""
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    for folder in created:
        try:
            folder.rmdir()
        except FileNotFoundError:
            continue  # never made (mkdir failed below it)
        except OSError:
            break  # no longer empty (something else wrote there): leave it and its parents


def publish(tmp, out):
    """Move the finished folder ``tmp`` to ``out``, replacing an earlier result there (checked beforehand)."""
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".ml4em-zlp-{out.name}.old-"))
        os.replace(out, old / out.name)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


class TerminationGuard:
    """While active, SIGTERM raises :class:`Terminated`; inside :meth:`deferred` it waits until the block ends.

    The previous handler is restored on exit. Outside the main thread (where
    Python allows no handler) it does nothing.
    """

    def __enter__(self):
        self._depth, self._pending, self._installed = 0, False, False
        try:
            self._previous = signal.signal(signal.SIGTERM, self._handle)
            self._installed = True
        except ValueError:  # not the main thread
            pass
        return self

    def _handle(self, signum, frame):
        if self._depth:
            self._pending = True
        else:
            raise Terminated(f"signal {signum}")

    @contextlib.contextmanager
    def deferred(self, *, reraise=True):
        """Hold SIGTERM back during the block (a rename, the clean-up); raise it afterwards if ``reraise``."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._pending and not self._depth:
                self._pending = False
                if reraise:
                    raise Terminated(f"signal {int(signal.SIGTERM)}")

    def __exit__(self, *exc):
        if self._installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if self._previous is None else self._previous)
        return False
