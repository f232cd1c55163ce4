"""Fingerprints of token sequences, made and compared with copydetect's functions.

copydetect (the winnowing of Schleimer, Wilkerson and Aiken, the method of MOSS) works on a string and hashes its
character k-grams. Here each distinct normalised token is written as one character (a :class:`Vocabulary` shared
by everything compared in one run), so that its k-grams are k-grams of tokens. Its
``get_document_fingerprints`` gives the hashes and where they occur, ``get_token_coverage`` how many tokens
a set of hashes covers, and ``get_copied_slices`` the token ranges they cover.

The window is 1: every k-gram is a fingerprint. Answer cells are short, so nothing needs thinning out, and
copydetect hashes with Python's ``hash``, which changes from one run to the next unless ``PYTHONHASHSEED`` is set:
with a larger window the winnowing would keep different k-grams on each run and the scores would change a little.
With every k-gram kept they are the same on every run.

References
----------
S. Schleimer, D. S. Wilkerson, A. Aiken, "Winnowing: local algorithms for document fingerprinting",
SIGMOD 2003, 76-85. https://doi.org/10.1145/872757.872770

Used in: :mod:`ml4em.similarity`.
"""

import functools
from dataclasses import dataclass, field

__all__ = ["Vocabulary", "Fingerprints", "fingerprint", "copydetect_utils"]

_FIRST = 0x10000  # the characters that stand for tokens: planes 1 to 16, a million of them


@functools.lru_cache(maxsize=1)
def copydetect_utils():
    """copydetect's ``utils`` module, or an error that says how to install it."""
    try:
        from copydetect import utils
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError('ml4em similarity needs copydetect, which is not installed here; install the '
                                  'instructor tools with: pip install "ml4em[instructor]"') from err
    return utils


class Vocabulary:
    """One character for each distinct token text.

    Examples
    --------
    >>> from ml4em.similarity._tokens import Token
    >>> vocab = Vocabulary()
    >>> len(vocab.encode([Token("V", 0, 1), Token("=", 2, 3), Token("V", 4, 5)]))
    3
    """

    def __init__(self):
        self._codes = {}

    def encode(self, tokens):
        """The tokens as a string, one character each."""
        codes = self._codes
        return "".join(codes.setdefault(t.text, chr(_FIRST + len(codes) % (0x110000 - _FIRST))) for t in tokens)


@dataclass
class Fingerprints:
    """The k-gram hashes of one token sequence.

    Attributes
    ----------
    tokens : list of Token
    k : int
        Tokens per k-gram.
    where : dict of int to list of int
        Hash to the positions (token indices) of the k-grams that have it.
    """

    tokens: list
    k: int
    where: dict = field(default_factory=dict)

    @property
    def hashes(self):
        """The set of hashes."""
        return set(self.where)

    def coverage(self, hashes):
        """How many tokens the k-grams with these hashes cover."""
        hashes = [h for h in hashes if h in self.where]
        if not hashes:
            return 0
        return int(copydetect_utils().get_token_coverage({h: self.where[h] for h in hashes}, self.k,
                                                         len(self.tokens)))

    def spans(self, hashes):
        """The character spans ``(start, end)`` of the source covered by the k-grams with these hashes, merged."""
        positions = [i for h in hashes for i in self.where.get(h, ())]
        if not positions:
            return []
        starts, ends = copydetect_utils().get_copied_slices(positions, self.k)
        spans = []
        for first, last in zip(starts, ends):
            start, end = self.tokens[int(first)].start, max(t.end for t in self.tokens[int(first):int(last)])
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
        return spans


def fingerprint(tokens, vocab, *, k):
    """The :class:`Fingerprints` of a token sequence (none when it has fewer than ``k`` tokens).

    Examples
    --------
    >>> from ml4em.similarity._tokens import code_tokens
    >>> vocab = Vocabulary()
    >>> a = fingerprint(code_tokens("def fit(X, y):\\n    return np.linalg.pinv(X) @ y"), vocab, k=5)
    >>> b = fingerprint(code_tokens("def solve(A, b):\\n    return np.linalg.pinv(A) @ b"), vocab, k=5)
    >>> len(a.tokens), len(a.hashes), a.hashes == b.hashes
    (19, 15, True)
    """
    doc = vocab.encode(tokens)
    if len(doc) < k:
        return Fingerprints(list(tokens), k)
    _, where = copydetect_utils().get_document_fingerprints(doc, k, 1)
    return Fingerprints(list(tokens), k, {int(h): [int(i) for i in idx] for h, idx in where.items()})
