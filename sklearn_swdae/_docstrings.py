"""Docstring text that several public objects share, written once.

A docstring names a shared section by a line holding only ``{name}``;
:func:`doc_filler` makes a decorator that replaces such lines by the
section, indented like the placeholder, in the docstring of a function or
a class and of the methods the class defines.  Sections are written without
indentation, so one text serves a module-level function (4 spaces) and a
method (8 spaces) alike.
"""

import inspect
import re

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\{(?P<name>\w+)\}[ \t]*$", re.MULTILINE)

SECTIONS = {
    "fit_parameters": """Parameters
----------
X : {array-like, sparse matrix} of shape (n_users, n_items)
    Training users' implicit feedback; positive means consumed.
y : None
    Ignored.

Returns
-------
self : object
    Fitted recommender.""",
    "top_n_parameter": """top_n : int, default=100
    Length of the lists of :meth:`predict`, and of :meth:`recommend`
    without ``top_n``; capped to the number of items.""",
    "l2_parameter": """l2 : float, default="deprecated"
    Former name of ``alpha``.

    .. deprecated:: 0.1
       Use ``alpha``; ``l2`` will be removed in 0.2.""",
    "keyword_only_note": """.. versionchanged:: 0.1
   Parameters are keyword-only; passing them positionally is deprecated
   and will raise a ``TypeError`` in 0.2.""",
}


def _fill(doc, sections):
    if doc is None:  # python -OO strips docstrings
        return None

    def section(match):
        text = sections[match["name"]]
        return "\n".join(match["indent"] + line if line else line for line in text.splitlines())

    return _PLACEHOLDER.sub(section, doc)


def doc_filler(sections):
    """A decorator filling the ``{name}`` lines of docstrings from ``sections``.

    Applied to a class, it also fills the docstrings of the methods the class
    itself defines.  A placeholder without a section raises ``KeyError`` at
    import, so a misspelt name cannot reach the documentation.
    """

    def fill_doc(obj):
        obj.__doc__ = _fill(obj.__doc__, sections)
        if inspect.isclass(obj):
            for member in vars(obj).values():
                if inspect.isfunction(member):
                    member.__doc__ = _fill(member.__doc__, sections)
        return obj

    return fill_doc


fill_doc = doc_filler(SECTIONS)
