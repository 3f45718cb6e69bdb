"""Autograder helpers: feedback-rich assertions, safe calls, submission loading, the pytest plugin.

* :func:`compare` -- shape, dtype and value check with a message naming the case and the worst error
* :func:`call_checked` -- call a submission on copies and report in-place modification of inputs
* :func:`submission_fixture` / :func:`load_submission` -- import ``chXX/<name>.py`` lazily
* :func:`assert_self_contained` -- AST check that a submission is plain NumPy
* :func:`assert_cuda_source` -- a submitted ``.cu`` kernel exists and includes no other file
* :mod:`.regions` -- solution regions (reference and stub from one file)
* :mod:`.plugin` -- the pytest plugin that records points and results as JSON lines
* :mod:`.sandbox`, :mod:`.sandbox_worker`, :mod:`.proxy`, :mod:`.wire` -- the learner's code runs
  in a separate, restricted process; tests call it through a stand-in module
* :mod:`.environment` -- checks of the grading machine; :mod:`.cu_rules` -- what a kernel may hold
"""
from .feedback import GradingFailure, compare, describe_case, unpack
from .guard import call_checked
from .loader import (FORBIDDEN_IMPORTS, assert_cuda_source, assert_self_contained, exercise_path,
                     forbidden_imports, load_submission, submission_fixture)

__all__ = ["GradingFailure", "compare", "describe_case", "unpack", "call_checked",
           "FORBIDDEN_IMPORTS", "assert_self_contained", "assert_cuda_source", "exercise_path",
           "forbidden_imports", "load_submission", "submission_fixture"]
