#!/usr/bin/env python3
"""tools/cuda_emulator/translate.py — a .cu file as C++ that g++ compiles for the emulator.

    /usr/bin/python3 tools/cuda_emulator/translate.py IN.cu OUT.cc

Only two things in the course's CUDA are not C++ once emulator.h has defined
the qualifiers and built-ins, and this script rewrites exactly those:

  kernel<<<grid, block[, shared[, stream]]>>>(args...)
      -> ::gpt_emu::launch(kernel, "kernel", __FILE__, __LINE__, grid, block[, ...])(args...)
  extern __shared__ [__align__(N)] T name[];
      -> T* const name = ::gpt_emu::dynamic_shared<T>();

The kernel may be a name, a qualified name or a template instance
(`double_buffer_kernel<S, false, true>`). Everything else is copied as it is,
line for line (a `#line` directive names the .cu file), so compiler messages
and __FILE__/__LINE__ point into the original source. Comments and string
literals are never rewritten. Anything that looks like a launch or a dynamic
shared array but does not parse stops the build with the file and line.
"""
import re
import sys


class TranslateError(Exception):
    pass


def code_only(text):
    """text with comments and string/character literals blanked (same length, newlines kept)."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a, b):
        for j in range(a, b):
            if out[j] != "\n":
                out[j] = " "

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise TranslateError(line_of(text, i), "unterminated /* comment")
            blank(i, j + 2)
            i = j + 2
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                raise TranslateError(line_of(text, i), "unreadable raw string literal")
            end = text.find(")" + m.group(1) + '"', i)
            if end < 0:
                raise TranslateError(line_of(text, i), "unterminated raw string literal")
            blank(i + 1, end + len(m.group(1)) + 2)
            i = end + len(m.group(1)) + 2
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    raise TranslateError(line_of(text, i), "unterminated literal")
                j += 1
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def kernel_start(code, end):
    """Start of the kernel expression that ends just before `end` (where <<< begins)."""
    i = end
    while i > 0 and code[i - 1].isspace():
        i -= 1
    if i > 0 and code[i - 1] == ">":  # template arguments: back to the matching <
        depth = parens = 0  # a > inside (...) is a comparison, not a bracket
        while i > 0:
            i -= 1
            if code[i] == ")":
                parens += 1
            elif code[i] == "(":
                parens -= 1
            elif code[i] == ">" and parens == 0:
                depth += 1
            elif code[i] == "<" and parens == 0:
                depth -= 1
                if depth == 0:
                    break
            elif code[i] in ";{}":
                raise TranslateError(line_of(code, end), "unbalanced template arguments before <<<")
        while i > 0 and code[i - 1].isspace():
            i -= 1
    while i > 0 and (code[i - 1].isalnum() or code[i - 1] in "_:"):
        i -= 1
    return i


def config_end(code, start):
    """Position just after the >>> that closes the configuration opened at `start`."""
    depth = 0
    i = start
    while i < len(code):
        if depth == 0 and code.startswith(">>>", i):
            return i + 3
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                break
        elif c == ";":
            break
        i += 1
    raise TranslateError(line_of(code, start), "a <<< without its >>>")


KERNEL_EXPR = re.compile(r"(::)?[A-Za-z_]\w*(::[A-Za-z_]\w*)*\s*(<.*>)?", re.S)
EXTERN_SHARED = re.compile(
    r"\bextern\s+__shared__\s+(?P<type>[^;\[\]]*?)\s*\b(?P<name>[A-Za-z_]\w*)\s*\[\s*\]\s*;")
ALIGN = re.compile(r"__align__\s*\(\s*(\d+)\s*\)")


def translate(text):
    code = code_only(text)
    edits = []  # (start, end, replacement), applied from the back

    for m in EXTERN_SHARED.finditer(code):
        type_ = m.group("type")
        for align in ALIGN.findall(type_):
            if int(align) > 128:
                raise TranslateError(line_of(code, m.start()), "dynamic shared memory aligned to more than 128 bytes")
        type_ = " ".join(ALIGN.sub(" ", type_).split())
        if not type_:
            raise TranslateError(line_of(code, m.start()), "extern __shared__ without a type")
        edits.append((m.start(), m.end(),
                      "%s* const %s = ::gpt_emu::dynamic_shared<%s>();" % (type_, m.group("name"), type_)))
    covered = [(a, b) for a, b, _ in edits]
    for m in re.finditer(r"\bextern\s+__shared__\b", code):
        if not any(a <= m.start() < b for a, b in covered):
            raise TranslateError(line_of(code, m.start()), "an extern __shared__ declaration that is not `extern __shared__ T name[];`")

    pos = 0
    while True:
        at = code.find("<<<", pos)
        if at < 0:
            break
        start = kernel_start(code, at)
        kernel = code[start:at]
        if not kernel.strip() or not KERNEL_EXPR.fullmatch(kernel.strip()):
            raise TranslateError(line_of(code, at), "cannot read the kernel before <<<: %r" % kernel.strip())
        end = config_end(code, at + 3)
        config = text[at + 3:end - 3]
        if not config.strip():
            raise TranslateError(line_of(code, at), "an empty <<<>>> configuration")
        after = end
        while after < len(code) and code[after].isspace():
            after += 1
        if after >= len(code) or code[after] != "(":
            raise TranslateError(line_of(code, at), "a launch's >>> must be followed by its (arguments)")
        name = " ".join(kernel.split())
        # `auto kernel = some_kernel<...>; kernel<<<...>>>`: name what it holds.
        held = list(re.finditer(r"\bauto\s+%s\s*=\s*([^;]+);" % re.escape(name), code[:start]))
        if held:
            name += " = " + " ".join(held[-1].group(1).split())
        name = name.replace("\\", "\\\\").replace('"', '\\"')
        edits.append((start, end, '::gpt_emu::launch(%s, "%s", __FILE__, __LINE__, %s)' % (kernel, name, config)))
        pos = end

    out = text
    for start, end, replacement in sorted(edits, reverse=True):
        out = out[:start] + replacement + out[end:]
    return out


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: translate.py IN.cu OUT.cc\n")
        return 2
    source, target = argv[1], argv[2]
    with open(source, encoding="utf-8") as f:
        text = f.read()
    try:
        body = translate(text)
    except TranslateError as e:
        line, why = e.args
        sys.stderr.write("%s:%d: error: gpt_emu translate.py: %s\n" % (source, line, why))
        return 1
    with open(target, "w", encoding="utf-8") as f:
        f.write('#line 1 "%s"\n' % source)
        f.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
