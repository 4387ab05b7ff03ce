#!/usr/bin/python3
"""Keeps the code that a lesson README quotes identical to the real source.

In a source file, a region is marked

    // lesson: encode                 (or "# lesson: encode" in Python/BUILD)
    ...code...
    // end lesson

and the README quotes it with a marker line followed by a fenced block:

    <!-- quote: encode_decode.cc encode -->
    ```cpp
    ...the same code, indentation removed...
    ```

Measurements are quoted the same way: a results file's first Markdown table,
copied into the lesson after a marker line, must stay identical to it:

    <!-- table: results/busy_machine_avx512.md -->
    | mode | ... |
    |---|...|

  tools/lesson_quotes.py --check chapters/01_tokens   # fails on any difference
  tools/lesson_quotes.py --fix chapters/01_tokens     # rewrites the README's blocks
"""
import argparse
import difflib
import os
import re
import sys
import textwrap

QUOTE = re.compile(r"^<!-- quote: (\S+) (\S+) -->\s*$")
TABLE = re.compile(r"^<!-- table: (\S+) -->\s*$")
START = re.compile(r"^\s*(?://|#) lesson: (\S+)\s*$")
END = re.compile(r"^\s*(?://|#) end lesson\s*$")


def regions(path):
    """{region name: dedented text} for one source file."""
    found, name, lines = {}, None, []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if START.match(line):
                if name:
                    raise ValueError(f"{path}:{number}: lesson '{name}' is not closed")
                name, lines = START.match(line).group(1), []
            elif END.match(line):
                if not name:
                    raise ValueError(f"{path}:{number}: 'end lesson' without a start")
                found[name] = textwrap.dedent("".join(lines))
                name = None
            elif name:
                lines.append(line)
    if name:
        raise ValueError(f"{path}: lesson '{name}' is not closed")
    return found


def first_table(path):
    """The first run of lines starting with '|' in a Markdown file."""
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("|")), None)
    if start is None:
        raise ValueError(f"{path}: has no Markdown table")
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "".join(lines[start:end])


def tables(readme_lines):
    """Yields (results file, first line of the quoted table, line after it)."""
    for i, line in enumerate(readme_lines):
        m = TABLE.match(line)
        if m:
            end = i + 1
            while end < len(readme_lines) and readme_lines[end].startswith("|"):
                end += 1
            yield m.group(1), i + 1, end


def quotes(readme_lines):
    """Yields (file, region, first line of the block body, line after the block)."""
    i = 0
    while i < len(readme_lines):
        m = QUOTE.match(readme_lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        if j >= len(readme_lines) or not readme_lines[j].startswith("```"):
            raise ValueError(f"README line {i + 1}: a quote marker must be followed by ```")
        k = j + 1
        while k < len(readme_lines) and not readme_lines[k].startswith("```"):
            k += 1
        if k == len(readme_lines):
            raise ValueError(f"README line {j + 1}: code block is not closed")
        yield m.group(1), m.group(2), j + 1, k
        i = k + 1


def process(chapter_dir, fix):
    readme = os.path.join(chapter_dir, "README.md")
    with open(readme, encoding="utf-8") as f:
        lines = f.readlines()
    problems, count, cache = [], 0, {}
    replacements, stale = [], []  # stale: the problems --fix repairs
    for file, region, body_start, body_end in quotes(lines):
        count += 1
        source = os.path.join(chapter_dir, file)
        if not os.path.exists(source):
            problems.append(f"{readme}:{body_start - 1}: quotes {file}, which does not exist")
            continue
        if source not in cache:
            cache[source] = regions(source)
        if region not in cache[source]:
            problems.append(f"{readme}:{body_start - 1}: {file} has no '// lesson: {region}'")
            continue
        want = cache[source][region]
        have = "".join(lines[body_start:body_end])
        if want != have:
            replacements.append((body_start, body_end, want))
            diff = "".join(difflib.unified_diff(
                have.splitlines(True), want.splitlines(True),
                f"README.md (quote of {file}:{region})", f"{file} (lesson: {region})"))
            stale.append(f"{readme}:{body_start}: quote of {file} '{region}' differs "
                         f"from the source:\n{diff}")
    if count == 0:
        problems.append(f"{readme}: quotes no code; a lesson shows the code it teaches")
    table_count = 0
    for file, body_start, body_end in tables(lines):
        table_count += 1
        source = os.path.join(chapter_dir, file)
        if not os.path.exists(source):
            problems.append(f"{readme}:{body_start}: quotes a table of {file}, which does not exist")
            continue
        try:
            want = first_table(source)
        except ValueError as e:
            problems.append(f"{readme}:{body_start}: {e}")
            continue
        have = "".join(lines[body_start:body_end])
        if want != have:
            replacements.append((body_start, body_end, want))
            diff = "".join(difflib.unified_diff(
                have.splitlines(True), want.splitlines(True),
                f"README.md (table of {file})", file))
            stale.append(f"{readme}:{body_start}: the table quoted from {file} differs:\n{diff}")
    if fix and replacements:
        for start, end, text in sorted(replacements, reverse=True):
            lines[start:end] = text.splitlines(True)
        with open(readme, "w", encoding="utf-8") as f:
            f.writelines(lines)
        print(f"{readme}: rewrote {len(replacements)} quote(s)")
        stale = []
    for p in stale + problems:
        print(p)
    print(f"{readme}: {count} quote(s) and {table_count} table(s) checked, "
          f"{len(stale) + len(problems)} problem(s)")
    return 1 if stale or problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--fix", action="store_true")
    parser.add_argument("chapters", nargs="+")
    args = parser.parse_args()
    status = 0
    for chapter in args.chapters:
        try:
            status |= process(chapter, args.fix)
        except ValueError as e:
            print(e)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
