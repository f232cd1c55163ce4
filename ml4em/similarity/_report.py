"""The files of ``ml4em similarity``: a self-contained HTML report and a CSV, written atomically.

``<out>/`` holds the marker file ``.ml4em-similarity`` and one folder per assignment, ``<out>/<assignment>/`` with
``report.html`` and ``pairs.csv``. A folder that exists, is not empty and has no marker was not written by this
tool and is never written into. Each assignment's folder is written in full into a temporary folder beside it
and then renamed into place, so a reader sees the old reports or the new ones, never half of each.

Used in: :mod:`ml4em.similarity`.
"""

import csv
import html
import shutil
import tempfile
from pathlib import Path

__all__ = ["MARKER", "check_out", "write", "to_html"]

MARKER = ".ml4em-similarity"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1500px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { text-align: left; padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; }
td.score { font-variant-numeric: tabular-nums; }
section.pair { border-top: 2px solid #555; margin-top: 2.5em; }
.cells { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
pre { background: #f5f5f5; padding: 0.6em; white-space: pre-wrap; word-break: break-word; font-size: 0.85em; }
mark { background: #ffd54f; }
.flag { color: #b00020; font-weight: bold; }
.note { color: #555; }
"""


def check_out(out):
    """Refuse a destination that is a file, or a folder with content that this tool did not write.

    Examples
    --------
    >>> check_out("no-such-folder-yet")  # a new folder is fine
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out={str(out)!r} is a file, not a folder; pass a folder for the reports.")
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise ValueError(f"out={str(out)!r} exists and was not written by ml4em similarity (it has no {MARKER} "
                         "file), so it is left alone; pass another folder, or empty this one.")


def _marked(source, spans):
    pieces, at = [], 0
    for start, end in spans:
        pieces += [html.escape(source[at:start]), "<mark>", html.escape(source[start:end]), "</mark>"]
        at = end
    pieces.append(html.escape(source[at:]))
    return "".join(pieces)


def _pair_section(report, index, a, b):
    mine = {m.grade_id: m for m in report.matches if (m.student_a, m.student_b) == (a, b)}
    esc = html.escape
    parts = [f'<section class="pair" id="pair-{index}"><h2>{esc(a)} and {esc(b)}</h2>']
    whole = mine.get("notebook")
    if whole is not None:
        flag = ' <span class="flag">flagged</span>' if whole.score >= report.threshold else ""
        parts.append(f"<p>Notebook: score {whole.score:.2f} ({esc(a)} {whole.share_a:.2f}, {esc(b)} "
                     f"{whole.share_b:.2f}; {whole.n_shared} shared fingerprints){flag}</p>")
    for exercise in report.exercises:
        spans_a, spans_b = report.shared_spans(a, b, exercise)
        match = mine.get(exercise)
        if not spans_a and (match is None or match.score < report.threshold):
            continue
        if match is None:
            verdict = '<span class="note">not compared on its own (too short)</span>'
        else:
            flag = ' <span class="flag">flagged</span>' if match.score >= report.threshold else ""
            verdict = f"score {match.score:.2f} ({match.n_shared} shared fingerprints){flag}"
        cells = "".join(f"<div><h4>{esc(s)}</h4><pre>{_marked(report.answers[s, exercise].source, spans)}</pre></div>"
                        for s, spans in ((a, spans_a), (b, spans_b)))
        parts.append(f'<h3>{esc(exercise)}: {verdict}</h3><div class="cells">{cells}</div>')
    parts.append("</section>")
    return "\n".join(parts)


def to_html(report):
    """The report as one HTML page, with no external resources."""
    esc = html.escape
    flagged = report.flagged
    pairs = list(dict.fromkeys((m.student_a, m.student_b) for m in flagged))
    anchors = {pair: i for i, pair in enumerate(pairs)}
    rows = "".join(f'<tr><td class="score">{m.score:.2f}</td><td>{esc(m.student_a)}</td><td>{esc(m.student_b)}'
                   f'</td><td><a href="#pair-{anchors[m.student_a, m.student_b]}">{esc(m.grade_id)}</a></td></tr>'
                   for m in flagged)
    settings = report.settings
    problems = "".join(f"<li>could not read {esc(p)}</li>" for p in report.problems)
    body = [
        f"<h1>Similar answers: {esc(report.assignment)}</h1>",
        f"<p>{len(report.students)} students, {len(report.matches)} comparisons, {len(flagged)} at or above "
        f"{report.threshold:g}. A flag is a reason to read the two answers, not a verdict.</p>",
        '<p class="note">Names a cell binds, strings, comments and whitespace are normalised; what the students '
        "were given (stubs, the instructor's solutions and cells, the package's code) and what more than "
        f"{settings.get('common', '?')} of the class wrote do not count. Fingerprints of {settings.get('k', '?')} "
        f"tokens; answers with fewer than {settings.get('min_fingerprints', '?')} counted fingerprints are compared "
        "only within the notebook. Score: the larger of the two shares of each answer's counted code that the "
        "other also has. <mark>Marked</mark>: code in shared fingerprints.</p>",
        f"<ul>{problems}</ul>" if problems else "",
        "<table><tr><th>score</th><th>student_a</th><th>student_b</th><th>exercise</th></tr>" + rows + "</table>"
        if flagged else "<p>No pair at or above the threshold.</p>",
        *[_pair_section(report, anchors[pair], *pair) for pair in pairs],
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>ml4em similarity: {esc(report.assignment)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def write(report, out):
    """Write ``report.html`` and ``pairs.csv`` of ``report`` into ``out/<assignment>/``; return that folder."""
    out = Path(out)
    check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("Written by `ml4em similarity`, which replaces the reports in this folder.\n")
    tmp = Path(tempfile.mkdtemp(prefix=f".{report.assignment}-", dir=out))
    dest, old = out / report.assignment, tmp.with_name(tmp.name + "-old")
    try:
        tmp.chmod(out.stat().st_mode & 0o777)
        (tmp / "report.html").write_text(to_html(report), encoding="utf-8")
        with open(tmp / "pairs.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["student_a", "student_b", "grade_id", "score"])
            writer.writerows([m.student_a, m.student_b, m.grade_id, f"{m.score:.3f}"] for m in report.matches)
        if dest.exists():
            dest.rename(old)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not dest.exists():
            old.rename(dest)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return dest
