"""Run ngshare, nbgrader's exchange service, under SQLAlchemy 2: ``python -m ml4em.ngshare_service [ngshare args]``.

ngshare 0.6 (its latest release) creates a new row by pointing it at an existing one, e.g.
``Assignment(name, course)`` sets ``assignment.course = course``, and relies on SQLAlchemy 1.x's backref cascade
to put the new row into the course's session. SQLAlchemy 2 removed that cascade (its migration notes, change
5150): the release is then silently dropped, with only the warning "Object of type <Assignment> not in session".
JupyterHub 5 and nbgrader need SQLAlchemy 2, so this launcher restores the old behaviour for ngshare's own models
only (an attribute event that adds the new object to the session of the object it is linked to) and then starts
ngshare unchanged. ``hub/jupyterhub_config.py`` runs the service through it; tests/test_hub_round.py proves it.
"""

import sys

__all__ = ["restore_backref_cascade", "main"]


def restore_backref_cascade(base):
    """Add a sessionless object to the session of the object a relationship of ``base``'s models links it to.

    Parameters
    ----------
    base : SQLAlchemy declarative base
        The models whose relationships get the listener (ngshare's ``database.Base``).

    Returns
    -------
    n_listeners : int
        How many relationship attributes got the listener.
    """
    from sqlalchemy import event, inspect
    from sqlalchemy.orm import object_session

    def adopt(target, value, *_):
        if value is None:
            return value
        session = object_session(value)
        if session is not None and object_session(target) is None:
            session.add(target)
        return value

    n = 0
    for mapper in base.registry.mappers:
        for prop in inspect(mapper.class_).relationships:
            attribute = getattr(mapper.class_, prop.key)
            event.listen(attribute, "append" if prop.uselist else "set", adopt, retval=True)
            n += 1
    return n


def main(argv=None):
    """Start ngshare with :func:`restore_backref_cascade` applied to its models."""
    from ngshare import ngshare as service
    from ngshare.database import database

    restore_backref_cascade(database.Base)
    service.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":  # pragma: no cover
    main()
