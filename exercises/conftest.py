"""Keep plain ``pytest`` away from the exercise tests.

They are run by the grader (``python -m course_lib.grade``), which copies each exercise next to
its tests in a temporary folder, one pytest process per exercise. Collected directly from here,
the stubs would fail and the public/hidden files (same basenames) would clash.
"""
collect_ignore_glob = ["ch*"]
