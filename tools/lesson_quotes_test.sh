#!/bin/bash
# bazel test wrapper: checks the code quotes of one chapter's README.
exec /usr/bin/python3 tools/lesson_quotes.py --check "$1"
