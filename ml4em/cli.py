"""The ``ml4em`` command line.

``ml4em data download``   fetch every registered data file into the cache (offline JupyterHub)
``ml4em data path``       print the cache folder
``ml4em grade-check``     prove that tutorials grade correctly (instructors, CI)
``ml4em student-version`` write the student versions of the tutorials (Binder, self-study)
``ml4em autograde``       grade submissions, each in a sandbox (instructors)
``ml4em integrity``       list answer cells that tamper with grading (instructors)
``ml4em publish-student`` write a student repository without solutions (graded courses)
``ml4em similarity``      compare the answers of all submissions (instructors)
``ml4em export-grades``   grades as the CSV that Brightspace, Canvas or Moodle imports (instructors)
``ml4em zlp``             the EELS replica method on a user's spectra (when ml4em.eels is installed)
``ml4em zlp-image``       thickness, cluster and band-gap maps of a spectral image of any size (dask; ml4em[image])
"""

import argparse
import importlib
import sys

__all__ = ["main", "build_parser"]

# Topic modules that add their own subcommands with ``add_parser(subparsers)``.
_PLUGINS = ["ml4em.autograde", "ml4em.integrity", "ml4em.similarity", "ml4em.lms", "ml4em.publish", "ml4em.eels.cli",
            "ml4em.eels.cli_image"]


def _data_download(args):
    from .datasets import DataUnavailableError, data_dir, download_all

    try:
        paths = download_all(progressbar=not args.quiet)
    except DataUnavailableError as err:
        print(f"ml4em data download: error: {err}", file=sys.stderr)
        return 1
    print(f"{len(paths)} file(s) ready in {data_dir()} (sha256 checked).")
    return 0


def _data_path(args):
    from .datasets import data_dir

    print(data_dir())
    return 0


def _grade_check(args):
    from .grading import main

    return main(args)


def _student_version(args):
    from .student import main

    return main(args)


def build_parser():
    """Return the argparse parser of the ``ml4em`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="ml4em", description="Machine Learning for Electron Microscopy: "
                                     "course tools and EELS analysis.")
    parser.add_argument("--version", action="version", version=f"ml4em {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    data = sub.add_parser("data", help="manage the data cache (ML4EM_DATA_DIR)")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    dl = data_sub.add_parser("download", help="download every registered file for offline use")
    dl.add_argument("--quiet", action="store_true", help="no progress bars")
    dl.set_defaults(func=_data_download)
    path = data_sub.add_parser("path", help="print the data folder")
    path.set_defaults(func=_data_path)
    data.set_defaults(func=lambda a: (data.print_help(), 2)[1])

    gc = sub.add_parser("grade-check", help="check that tutorials grade correctly with nbgrader",
                        description="Generate the student version, autograde the instructor version (full marks, no "
                        "errors) and the blank student version (0 on every autograded cell), and scan the "
                        "student version for solution and hidden-test text.")
    gc.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="e.g. 01_regression (default: all)")
    gc.add_argument("--course-root", default=".", help="folder with tutorials/ and nbgrader_config.py (default: .)")
    gc.add_argument("--quick", action="store_true", help="run the notebooks in quick mode (ML4EM_QUICK=1)")
    gc.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell")
    gc.add_argument("--keep", default=None, metavar="DIR", help="keep the temporary course folder in DIR")
    mut = gc.add_argument_group("mutation testing", "--mutants: run mutants of each answer against its test cell "
                                "and report how many the tests kill (ml4em.mutants)")
    mut.add_argument("--mutants", action="store_true", help="report the mutants the tests kill instead")
    mut.add_argument("--max-mutants", type=int, default=None, metavar="N", help="at most N mutants per exercise")
    mut.add_argument("--seed", type=int, default=0, help="seed of the draw of --max-mutants (default: 0)")
    mut.add_argument("--mutant-timeout", type=float, default=None, metavar="S",
                     help="seconds per mutant cell (default: 10x the instructor's answer and test, at least 5)")
    mut.add_argument("--json", action="store_true", help="machine-readable report")
    mut.add_argument("--min-kill-rate", type=float, default=None, metavar="R",
                     help="exit 1 when a tutorial kills less than this fraction of non-equivalent mutants")
    gc.set_defaults(func=_grade_check)

    sv = sub.add_parser("student-version", help="write the student versions of the tutorials into a folder",
                        description="Generate the student versions (solutions and hidden tests removed) with nbgrader. "
                        "An existing folder is kept unless --overwrite is given.")
    sv.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="e.g. 01_regression (default: all)")
    sv.add_argument("--out", default="student", help="destination folder (default: student)")
    sv.add_argument("--course-root", default=".", help="folder with tutorials/ (default: .)")
    sv.add_argument("--overwrite", action="store_true", help="replace existing assignment folders")
    sv.set_defaults(func=_student_version)

    for name in _PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name and name.startswith(err.name):
                continue  # that part of ml4em is not present
            raise
        module.add_parser(sub)
    return parser


def main(argv=None):
    """Run the ``ml4em`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
