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

A table that is not the file's first is named in the results file by a line
`<!-- table-name: NAME -->` before it, and quoted as `<!-- table: FILE NAME -->`.
A results file `X.md` beside a benchmark's `X.json` must be what
tools/bench_table.py makes of that JSON.

Measurements in prose are checked too. A paragraph (lines up to the next blank
line) that names a time or a speed (`1.19 ms`, `3.1k tokens/s`, `12 GFLOP/s`,
`2.3x faster`, ...) must follow a marker line naming the results files it
quotes, and each such number, with its unit, must appear in one of them:

    <!-- measured: results/README.md ../../results/amd-epyc-2-cores/gpt_bench.md -->
    The step takes 41.2 ms on ...

A number that is no measurement of ours (a data-sheet peak, a time limit, an
example) follows `<!-- not measured: why -->` instead. Code quotes and quoted
tables are left alone.

Exercises (the chapter's BUILD maps each solution file to its stub, `x.cc`:
`x_exercise.cc`): the lesson may quote a solution file only inside a
`<details>` fold, no fenced block outside a fold may show a line of a solution
that the stub does not have, and HINTS.md holds, under a heading naming each
exercise, three folds: Hint 1 (the idea), Hint 2 (the shapes), Hint 3 (the
formula).

  tools/lesson_quotes.py --check chapters/01_tokens   # fails on any difference
  tools/lesson_quotes.py --fix chapters/01_tokens     # rewrites the README's blocks
"""
import argparse
import difflib
import os
import re
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_table  # noqa: E402  (tools/bench_table.py, beside this file)

QUOTE = re.compile(r"^<!-- quote: (\S+) (\S+) -->\s*$")
TABLE = re.compile(r"^<!-- table: (\S+)(?: (\S+))? -->\s*$")
TABLE_NAME = re.compile(r"^<!-- table-name: (\S+) -->\s*$")
MEASURED = re.compile(r"<!-- measured: ([^>]+?) -->")
NOT_MEASURED = re.compile(r"<!-- not measured: [^>]+ -->")
COMMENT = re.compile(r"<!--.*?-->")
CODE_SPAN = re.compile(r"`[^`]*`")
# A time or a speed: a number, an optional k/M/G multiplier, a unit.
MEASUREMENT = re.compile(
    r"(?<![\w.,/=-])(\d+(?:[.,]\d+)*)\s?([kKMG]?)\s?"
    r"(ns|µs|μs|us|ms|s|sec|seconds?|min|minutes?|h|hours?|"
    r"[GT]?FLOP/s|[GT]FLOPS|[GMT]i?B/s|(?:tokens|tok|steps|elements|items)/s|"
    r"[x×] (?:faster|slower|as fast|the speed)|% of (?:cuBLAS|cuBLASLt|peak|PyTorch|its|the machine))(?![\w/])")
# "2.2–2.6 TB/s", "580-900 GFLOP/s": a low end that borrows the high end's unit.
RANGE = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)\s?[–-]\s?(\d+(?:[.,]\d+)*)\s?"
                   r"([kKMG]?\s?(?:ns|µs|ms|s|min|[GT]?FLOP/s|[GMT]i?B/s|(?:tokens|tok|steps)/s))(?![\w/])")
# A table column of measurements: its header names a unit of time or speed.
MEASURED_COLUMN = re.compile(
    r"(?<![\w/])(ns|µs|μs|us|ms|s|min|[GT]?FLOP/s|[GT]FLOPS|[GMT]i?B/s|(?:tokens|tok|steps)/s|ms/step|time|speedup|% of)(?![\w/])",
    re.I)
NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")
EXERCISE_PAIR = re.compile(r'"([\w/]+\.(?:cc|cu))"\s*:\s*"([\w/]+)_exercise\.(?:cc|cu)"')
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


def table_in(path, name=None):
    """The first run of lines starting with '|' in a Markdown file, or the
    first after its line `<!-- table-name: NAME -->`."""
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    begin = 0
    if name:
        begin = next((i for i, line in enumerate(lines)
                      if TABLE_NAME.match(line) and TABLE_NAME.match(line).group(1) == name), None)
        if begin is None:
            raise ValueError(f"{path}: has no '<!-- table-name: {name} -->'")
    start = next((i for i in range(begin, len(lines)) if lines[i].startswith("|")), None)
    if start is None:
        raise ValueError(f"{path}: has no Markdown table" + (f" after '{name}'" if name else ""))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "".join(lines[start:end])


def tables(readme_lines):
    """Yields (results file, table name or None, first line of the quoted table, line after it)."""
    for i, line in enumerate(readme_lines):
        m = TABLE.match(line)
        if m:
            end = i + 1
            while end < len(readme_lines) and readme_lines[end].startswith("|"):
                end += 1
            yield m.group(1), m.group(2), i + 1, end


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


def exercise_pairs(chapter_dir):
    """[(solution file, exercise name)] from the chapter's BUILD."""
    build = os.path.join(chapter_dir, "BUILD")
    if not os.path.exists(build):
        return []
    with open(build, encoding="utf-8") as f:
        return [(m.group(1), os.path.basename(m.group(2))) for m in EXERCISE_PAIR.finditer(f.read())]


def inside_folds(lines):
    """For each line, whether it is inside a <details> fold."""
    depth, inside = 0, []
    for line in lines:
        depth += line.count("<details")
        inside.append(depth > 0)
        depth = max(0, depth - line.count("</details>"))
    return inside


def fenced_blocks(lines):
    """Yields (info string, marker line above or '', first body line, line after the body)."""
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            k = i + 1
            while k < len(lines) and not lines[k].startswith("```"):
                k += 1
            above = lines[i - 1] if i > 0 else ""
            yield lines[i][3:].strip(), above, i + 1, k
            i = k + 1
        else:
            i += 1


def measurement_tokens(text):
    """The measurements named in a text, each as 'number multiplier unit' without spaces."""
    text = text.replace("μ", "µ").replace("**", "")
    # A range, "2.2–2.6 TB/s": each end is a measurement with the unit.
    text = RANGE.sub(lambda m: f"{m.group(1)} {m.group(3)} and {m.group(2)} {m.group(3)}", text)
    found = []
    for m in MEASUREMENT.finditer(text):
        unit = m.group(3).replace("×", "x")
        if unit == "us":
            unit = "µs"
        found.append(f"{m.group(1)}{m.group(2)}{unit}".replace(" ", ""))
    return found


def table_measurements(paragraph_lines):
    """The numbers in a prose table's columns whose header names a unit of time or speed."""
    rows = [line for line in paragraph_lines if line.startswith("|")]
    if len(rows) < 3:
        return []
    cells = lambda row: [c.strip() for c in row.strip().strip("|").split("|")]
    columns = [k for k, header in enumerate(cells(rows[0])) if MEASURED_COLUMN.search(header)]
    found = []
    for row in rows[2:]:
        values = cells(row)
        for k in columns:
            if k < len(values):
                found += NUMBER.findall(CODE_SPAN.sub("", values[k]).replace("**", ""))
    return found


def check_exercises(chapter_dir, lines, problems):
    """Solutions only inside folds; hints for every exercise."""
    pairs = exercise_pairs(chapter_dir)
    if not pairs:
        return
    readme = os.path.join(chapter_dir, "README.md")
    folded = inside_folds(lines)
    solutions = {solution for solution, _ in pairs}
    for i, line in enumerate(lines):
        m = QUOTE.match(line)
        if m and m.group(1) in solutions and not folded[i]:
            problems.append(f"{readme}:{i + 1}: quotes {m.group(1)}, an exercise's solution, "
                            f"outside a <details> fold")
    # Lines of a solution that its stub lacks: the answer, which no open block may show.
    answer_lines = set()
    for solution, name in pairs:
        stub = os.path.join(chapter_dir, solution.replace(".", "_exercise.", 1))
        with open(os.path.join(chapter_dir, solution), encoding="utf-8") as f:
            solved = {line.strip() for line in f}
        with open(stub, encoding="utf-8") as f:
            given = {line.strip() for line in f}
        answer_lines |= {line for line in solved - given
                         if len(line) >= 25 and not line.startswith(("//", "#", "*", "/*"))}
    # A line the chapter's other sources share (an index, a lane number) gives nothing away.
    stubs = {solution.replace(".", "_exercise.", 1) for solution, _ in pairs}
    for other in sorted(os.listdir(chapter_dir)):
        if other.endswith((".cc", ".cu", ".h", ".cuh")) and other not in solutions | stubs:
            with open(os.path.join(chapter_dir, other), encoding="utf-8") as f:
                answer_lines -= {line.strip() for line in f}
    # Any open line: fenced, indented or prose.
    for k, line in enumerate(lines):
        if not folded[k] and line.strip() in answer_lines:
            problems.append(f"{readme}:{k + 1}: shows a line of an exercise's solution outside "
                            f"a <details> fold: {line.strip()}")
    # Every exercise is caught by some test's check (chapter.bzl's chapter_test
    # or gpu_chapter_test), so a learner can switch it alone and see red.
    with open(os.path.join(chapter_dir, "BUILD"), encoding="utf-8") as f:
        build = f.read()
    checked = set()
    for test in re.findall(r"^(?:gpu_)?chapter_test\((.*?)^\)", build, flags=re.M | re.S):
        listed = re.search(r"^    exercises = (\[.*?\]|.*$)", test, flags=re.M | re.S)
        if not listed:
            continue
        if listed.group(1).startswith("["):
            checked |= set(re.findall(r'"(\w+)"', listed.group(1)))
        else:  # the chapter's {solution: stub} dict, or its name
            checked |= {name for _, name in pairs}
    for _, name in pairs:
        if name not in checked:
            problems.append(f"{chapter_dir}/BUILD: no test lists the exercise {name} "
                            f"(chapter_test's exercises = [...]): nothing proves its stub fails")
    hints = os.path.join(chapter_dir, "HINTS.md")
    if not os.path.exists(hints):
        problems.append(f"{hints}: missing; every exercise has three graded hints there")
        return
    with open(hints, encoding="utf-8") as f:
        sections = re.split(r"^## ", f.read(), flags=re.M)[1:]
    for _, name in pairs:
        section = next((s for s in sections
                        if s.split(None, 1) and s.split(None, 1)[0].strip("`") == name), None)
        if section is None:
            problems.append(f"{hints}: has no '## ' heading naming the exercise {name}")
            continue
        for n in (1, 2, 3):
            if not re.search(rf"<details>\s*<summary>[^<]*Hint {n}\b", section):
                problems.append(f"{hints}: exercise {name} has no folded 'Hint {n}' "
                                f"(<details><summary>Hint {n}: ...</summary>)")


def check_measurements(chapter_dir, lines, problems):
    """Every time or speed named in the prose is one a results file holds."""
    readme = os.path.join(chapter_dir, "README.md")
    skip = [False] * len(lines)
    for info, above, start, end in fenced_blocks(lines):
        # Code (quoted or a command) is not prose; unmarked output blocks are.
        if QUOTE.match(above) or info not in ("", "text", "console", "output"):
            for k in range(start - 1, min(end + 1, len(lines))):
                skip[k] = True
    for _, _, start, end in tables(lines):
        for k in range(start - 1, end):
            skip[k] = True
    cache = {}
    i = 0
    while i < len(lines):
        if not lines[i].strip() or skip[i]:
            i += 1
            continue
        # One paragraph: up to a blank line (or a skipped block), with the marker line above.
        j = i
        while j < len(lines) and lines[j].strip() and not skip[j]:
            j += 1
        paragraph = "".join(lines[i:j])
        above = lines[i - 1] if i > 0 and not lines[i - 1].strip() == "" else ""
        markers = paragraph + above
        text = CODE_SPAN.sub("", COMMENT.sub("", paragraph))
        named = measurement_tokens(" ".join(text.split()))
        in_table = table_measurements(lines[i:j])
        if (named or in_table) and not NOT_MEASURED.search(markers):
            m = MEASURED.search(markers)
            if not m:
                what = ", ".join(sorted(set(named))) or "a table of measurements"
                problems.append(f"{readme}:{i + 1}: names {what} without "
                                f"a '<!-- measured: FILE ... -->' line saying which results hold it")
            else:
                held, numbers = set(), set()
                for file in m.group(1).split():
                    path = os.path.normpath(os.path.join(chapter_dir, file))
                    if path not in cache:
                        if not os.path.exists(path):
                            problems.append(f"{readme}:{i + 1}: measured: {file} does not exist")
                            cache[path] = ()
                        else:
                            generated = bench_table_problem(path)
                            if generated:
                                problems.append(generated)
                            with open(path, encoding="utf-8") as f:
                                content = " ".join(f.read().split())
                            cache[path] = (set(measurement_tokens(content)),
                                           set(NUMBER.findall(content)))
                    if cache[path]:
                        held |= cache[path][0]
                        numbers |= cache[path][1]
                for token in dict.fromkeys(named):
                    if token not in held:
                        problems.append(f"{readme}:{i + 1}: names {token}, which none of "
                                        f"{m.group(1)} holds")
                for number in dict.fromkeys(in_table):
                    if number not in numbers:
                        problems.append(f"{readme}:{i + 1}: its table shows {number}, which none "
                                        f"of {m.group(1)} holds")
        i = j


def bench_table_problem(source):
    """A results X.md beside a benchmark's X.json must be tools/bench_table.py's table of it."""
    json_path = source[:-3] + ".json"
    if not source.endswith(".md") or not os.path.exists(json_path):
        return None
    with open(json_path, encoding="utf-8") as f:
        if '"benchmarks"' not in f.read():
            return None  # not a Google Benchmark file
    with open(source, encoding="utf-8") as f:
        have = f.read()
    want = bench_table.markdown(json_path)
    if have != want:
        return (f"{source}: differs from what tools/bench_table.py makes of {json_path} "
                f"(/usr/bin/python3 tools/bench_table.py {json_path} > {source})")
    return None


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
    for file, name, body_start, body_end in tables(lines):
        table_count += 1
        source = os.path.normpath(os.path.join(chapter_dir, file))
        if not os.path.exists(source):
            problems.append(f"{readme}:{body_start}: quotes a table of {file}, which does not exist")
            continue
        try:
            want = table_in(source, name)
        except ValueError as e:
            problems.append(f"{readme}:{body_start}: {e}")
            continue
        generated = bench_table_problem(source)
        if generated:
            problems.append(generated)
        have = "".join(lines[body_start:body_end])
        if want != have:
            replacements.append((body_start, body_end, want))
            diff = "".join(difflib.unified_diff(
                have.splitlines(True), want.splitlines(True),
                f"README.md (table of {file})", file))
            stale.append(f"{readme}:{body_start}: the table quoted from {file} differs:\n{diff}")
    check_exercises(chapter_dir, lines, problems)
    check_measurements(chapter_dir, lines, problems)
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
