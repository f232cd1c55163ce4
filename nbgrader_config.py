"""nbgrader configuration of the ml4em course.

Each tutorial is one assignment: ``tutorials/NN_name/NN_name.ipynb`` is the
instructor version (solutions and hidden tests, committed without outputs).
``nbgrader generate_assignment NN_name`` writes the student version to
``release/NN_name/``. See docs/instructor.md for the grading round.
"""

from ml4em.preprocessors import configure

c = get_config()  # noqa: F821  (nbgrader injects get_config)
# Release: every cell locked, checks sealed by digest. Grading: each submission in the sandbox
# (ml4em.sandbox), deleted test cells put back. Feedback: no hidden-test source, no tracebacks through it.
configure(c)

c.CourseDirectory.course_id = "ml4em"
c.CourseDirectory.source_directory = "tutorials"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Data, figures and helper files inside a tutorial folder travel with the assignment.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Student code that runs too long is stopped and graded as failing, not left to hang the round.
# nbgrader's default is 30 s per cell; full-size training cells need more.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
