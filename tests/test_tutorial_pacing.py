"""Pacing of the tutorials: how long each takes, and a Think! question after each explorer.

Every tutorial ``tutorials/NN_name/NN_name.ipynb`` must

* say in its first markdown cell how long it takes, on a line starting ``**Estimated time:**`` with a total in
  minutes or hours and minutes ("about 1 h 50 min", "95 min —", "95 minutes.", "about 125 min (2 h 5 min)"),
  followed by the time of every part, ``Part N (M min)``; the parts must sum to the total within 5 minutes;
* give every part heading (``## N. Title`` or ``## Part N (M min). Title``) its own time, either on the heading
  line, ``(M min)``, or on the line under it, ``*(about M min)*``, and that time must be the one listed for the part
  in the first cell;
* follow every code cell that shows an explorer (calls ``explore(`` or a ``*_explorer(`` function) by a markdown
  cell containing "Think!";
* grade at least one of those Think! questions: the Think! cell right after the explorer is followed by an answer
  cell and a locked test cell (where it announces its points, "(N point[s])", the test cell has them).
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted(p for p in (ROOT / "tutorials").glob("[0-9][0-9]_*/[0-9][0-9]_*.ipynb")
                   if p.stem == p.parent.name)


TOLERANCE_MIN = 5
DURATION = re.compile(r"(?:(\d+)\s*h(?:ours?)?\b\s*)?(\d+)\s*min(?:utes?)?\b|(\d+)\s*h(?:ours?)?\b")
PART = re.compile(r"Part\s+(\d+)\s*\((\d+)\s*min(?:utes?)?\)")
HEADING = re.compile(r"^##\s+(?:Part\s+)?(\d+)\b(.*)$")
TIME_ON_HEADING = re.compile(r"\((?:about\s+)?(\d+)\s*min(?:utes?)?\)")
TIME_UNDER_HEADING = re.compile(r"^\*\((?:about\s+)?(\d+)\s*min(?:utes?)?\)\*\s*$")


def _ids(paths):
    return [p.parent.name for p in paths]


def _read(path):
    return nbformat.read(path, as_version=4)


def _first_markdown(nb):
    return next(c.source for c in nb.cells if c.cell_type == "markdown")


def parse_duration(text):
    """The first duration in ``text``, in minutes ("1 h 50 min" -> 110, "95 minutes" -> 95), or None."""
    m = DURATION.search(text)
    if m is None:
        return None
    if m.group(3) is not None:
        return 60 * int(m.group(3))
    return 60 * int(m.group(1) or 0) + int(m.group(2))


def parse_estimate(source):
    """(total, {part: minutes}) from the ``**Estimated time:**`` paragraph of a first cell."""
    start = source.find("**Estimated time:**")
    assert start >= 0, "the first markdown cell has no '**Estimated time:**' line"
    paragraph = source[start + len("**Estimated time:**"):].split("\n\n")[0]
    first_part = re.search(r"\bPart\s+\d", paragraph)
    head = paragraph[:first_part.start()] if first_part else paragraph
    total = parse_duration(head)
    assert total is not None, f"no total time in minutes or hours in {paragraph!r}"
    parts = {}
    for number, minutes in PART.findall(paragraph):
        assert int(number) not in parts, f"Part {number} is listed twice in {paragraph!r}"
        parts[int(number)] = int(minutes)
    return total, parts


def heading_times(nb):
    """[(number, heading line, minutes or None)] for every ``## N.`` / ``## Part N`` heading."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            m = HEADING.match(line)
            if not m:
                continue
            minutes = TIME_ON_HEADING.search(line)
            if minutes is None and i + 1 < len(lines):
                minutes = TIME_UNDER_HEADING.match(lines[i + 1].strip())
            found.append((int(m.group(1)), line, int(minutes.group(1)) if minutes else None))
    return found


def test_parser_accepts_the_forms_in_use():
    assert parse_duration("about 1 h 50 min. Part 1") == 110
    assert parse_duration("95 min — Part 1") == 95
    assert parse_duration("95 minutes. Part 1") == 95
    assert parse_duration("about 125 min (2 h 5 min).") == 125
    assert parse_duration("about 2 h.") == 120
    total, parts = parse_estimate("**Estimated time:** 95 min — Part 1 (25 min): a; Part 2 (70 min): b.\n\nnext")
    assert (total, parts) == (95, {1: 25, 2: 70})


def test_there_are_tutorials():
    assert len(TUTORIALS) >= 12


@pytest.mark.parametrize("path", TUTORIALS, ids=_ids(TUTORIALS))
def test_estimated_time_and_parts(path):
    nb = _read(path)
    total, parts = parse_estimate(_first_markdown(nb))
    headings = heading_times(nb)
    numbers = [n for n, _, _ in headings]
    assert numbers == list(range(1, len(numbers) + 1)), f"part headings are not numbered 1, 2, ...: {numbers}"
    assert sorted(parts) == numbers, f"the first cell lists parts {sorted(parts)}, the headings are {numbers}"
    assert abs(sum(parts.values()) - total) <= TOLERANCE_MIN, \
        f"the parts sum to {sum(parts.values())} min, the total is {total} min"
    for number, line, minutes in headings:
        assert minutes is not None, f"heading {line!r} has no time of its own"
        assert minutes == parts[number], \
            f"heading {line!r} says {minutes} min, the first cell says {parts[number]} min"


EXPLORER = re.compile(r"\bexplore\(|_explorer\(")
POINTS = re.compile(r"\((\d+(?:\.\d+)?) points?\b")


def _is_explorer(cell):
    return cell.cell_type == "code" and EXPLORER.search(cell.source) is not None and not cell.source.lstrip().startswith(
        "def ")


@pytest.mark.parametrize("path", TUTORIALS, ids=_ids(TUTORIALS))
def test_a_think_question_after_an_explorer_is_graded(path):
    cells = _read(path).cells
    graded = []
    for i, cell in enumerate(cells[:-3]):
        if not _is_explorer(cell):
            continue
        think, answer, test = cells[i + 1:i + 4]
        answer_meta, test_meta = answer.metadata.get("nbgrader", {}), test.metadata.get("nbgrader", {})
        if (think.cell_type == "markdown" and "Think!" in think.source and answer_meta.get("solution")
                and answer.cell_type == "code" and test_meta.get("grade") and test_meta.get("locked")):
            announced = POINTS.search(think.source)
            if announced:
                assert float(test_meta.get("points", 0)) == float(announced.group(1)), \
                    f"cell {i + 1} announces {announced.group(1)} point(s), its test cell has {test_meta.get('points')}"
            graded.append(test_meta["grade_id"])
    assert graded, "no explorer is followed by a graded Think! question (the Think! cell, an answer cell, a test cell)"


@pytest.mark.parametrize("path", TUTORIALS, ids=_ids(TUTORIALS))
def test_every_explorer_is_followed_by_think(path):
    cells = _read(path).cells
    missing = []
    for i, cell in enumerate(cells):
        if _is_explorer(cell):
            nxt = cells[i + 1] if i + 1 < len(cells) else None
            if nxt is None or nxt.cell_type != "markdown" or "Think!" not in nxt.source:
                missing.append(i)
    assert not missing, f"explorer cells {missing} are not followed by a markdown cell with 'Think!'"
