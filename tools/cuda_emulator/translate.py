#!/usr/bin/env python3
"""tools/cuda_emulator/translate.py — a .cu file as C++ that g++ compiles for the emulator.

    /usr/bin/python3 tools/cuda_emulator/translate.py IN.cu OUT.cc

Only a few things in the course's CUDA are not C++ once emulator.h has
defined the qualifiers and built-ins, and this script rewrites exactly those:

  kernel<<<grid, block[, shared[, stream]]>>>(args...)
      -> ::gpt_emu::launch(kernel, "kernel", __FILE__, __LINE__, grid, block[, ...])(args...)
  extern __shared__ [__align__(N)] T name[];
      -> T* const name = ::gpt_emu::dynamic_shared<T>();
  __shared__ [__align__(N)] T a[N][M], b;
      -> static [__align__(N)] T a[N][M], b; GPT_EMU_SHARED(a); GPT_EMU_SHARED(b);
         (a static variable is the block's shared memory, as one block runs at
         a time; GPT_EMU_SHARED refills it with NaN bytes for every block)
  __global__ void __launch_bounds__(N[, M]) kernel(...) {
      -> the same, with ::gpt_emu::check_launch_bounds((N), ...); after the {

The kernel may be a name, a qualified name or a template instance
(`double_buffer_kernel<S, false, true>`). Everything else is copied as it is,
line for line (a `#line` directive names the .cu file, and nothing adds a
line), so compiler messages and __FILE__/__LINE__ point into the original
source. Comments and string literals are never rewritten. Anything that looks
like a launch, a shared variable or launch bounds but does not parse stops the
build with the file and line.
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
        elif (c == "R" and text.startswith('R"', i) and
              (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"))):
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
                raise TranslateError(line_of(code, end),
                                     "unbalanced template arguments before <<<")
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
IDENTIFIER_AT_END = re.compile(r"(?<![\w:])([A-Za-z_]\w*)\s*$")
NAMESPACE_OPENER = re.compile(r"(\b(inline\s+)?namespace\b[\w:\s]*|\bextern\s*\"\s*\"\s*)$")
CLASS_OPENER = re.compile(r"\b(struct|class|union)\b")


def in_directive(code, pos):
    """Whether `pos` lies on a preprocessor line (#define, ...)."""
    start = code.rfind("\n", 0, pos) + 1
    return code[start:pos].lstrip().startswith("#")


def enclosing_scope(code, pos):
    """What opens the innermost { around `pos`: 'function' (or a block in
    one), 'namespace' (or the file), or 'class'."""
    depth = 0
    i = pos
    while i > 0:
        i -= 1
        if code[i] == "}":
            depth += 1
        elif code[i] == "{":
            if depth == 0:
                head_start = max(code.rfind(c, 0, i) for c in ";{}")
                head = code[head_start + 1:i].strip()
                if NAMESPACE_OPENER.search(head) or head.startswith("namespace"):
                    return "namespace"
                if CLASS_OPENER.search(head) and not head.endswith(")"):
                    return "class"
                return "function"
            depth -= 1
    return "namespace"


def split_top_level(code, start, end):
    """[start, end) split at the commas outside (), [], {} and a type's <>."""
    pieces, depth, angle, last = [], 0, 0, start
    for i in range(start, end):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and c == "<":
            angle += 1
        elif depth == 0 and c == ">":
            angle -= 1
        elif depth == 0 and angle == 0 and c == ",":
            pieces.append((last, i))
            last = i + 1
    pieces.append((last, end))
    return pieces


def declared_name(code, start, end, first):
    """The name a declarator in [start, end) declares: the identifier before
    its trailing [..] groups (after the type, in the first declarator)."""
    i = end
    while True:  # drop trailing [..] groups
        j = i
        while j > start and code[j - 1].isspace():
            j -= 1
        if j == start or code[j - 1] != "]":
            break
        depth = 0
        while j > start:
            j -= 1
            if code[j] == "]":
                depth += 1
            elif code[j] == "[":
                depth -= 1
                if depth == 0:
                    break
        if depth != 0:
            return None
        i = j
    m = IDENTIFIER_AT_END.search(code, start, i)
    if not m:
        return None
    before = code[start:m.start(1)]
    if first and not before.strip():
        return None  # a name without a type
    if not first and before.strip(" \t\n*"):
        return None  # only pointers may come before a later declarator's name
    return m.group(1)


def static_shared_edits(code, covered):
    """Each `__shared__ T a[N], b;` as `static T a[N], b;` followed, on the same
    line, by GPT_EMU_SHARED(a); GPT_EMU_SHARED(b); (the NaN refill per block)."""
    edits = []
    for m in re.finditer(r"\b__shared__\b", code):
        if any(a <= m.start() < b for a, b in covered):
            continue  # extern __shared__: a dynamic array
        line = line_of(code, m.start())
        if in_directive(code, m.start()):
            raise TranslateError(line, "__shared__ in a preprocessor directive (a macro) cannot be "
                                 "rewritten: write the declaration out")
        scope = enclosing_scope(code, m.start())
        if scope != "function":
            raise TranslateError(line, "a __shared__ variable declared in a %s, not in a function: "
                                 "not emulated (declare it in the kernel)" % scope)
        depth, i = 0, m.end()
        while i < len(code):
            c = code[i]
            if c in "([":
                depth += 1
            elif c in ")]":
                depth -= 1
            elif c in "{}" or (c == "=" and depth == 0):
                raise TranslateError(line, "a __shared__ declaration with an initializer (CUDA "
                                     "allows none)")
            elif c == ";" and depth == 0:
                break
            i += 1
        else:
            raise TranslateError(line, "a __shared__ declaration without its ;")
        semicolon = i
        names = []
        for n, (a, b) in enumerate(split_top_level(code, m.end(), semicolon)):
            name = declared_name(code, a, b, n == 0)
            if name is None:
                raise TranslateError(line_of(code, a), "cannot read the variable a __shared__ "
                                     "declaration declares: %r" % " ".join(code[a:b].split()))
            names.append(name)
        edits.append((m.start(), m.end(), "static"))
        edits.append((semicolon + 1, semicolon + 1,
                      "".join(" GPT_EMU_SHARED(%s);" % name for name in names)))
    return edits


def launch_bounds_edits(code):
    """After the { of each kernel with __launch_bounds__(N, ...), on the same
    line: ::gpt_emu::check_launch_bounds((N), ...); (a larger block stops the program)."""
    edits = []
    for m in re.finditer(r"\b__launch_bounds__\b", code):
        line = line_of(code, m.start())
        if in_directive(code, m.start()):
            raise TranslateError(line, "__launch_bounds__ in a preprocessor directive (a macro) "
                                 "cannot be rewritten: write it out")
        i = m.end()
        while i < len(code) and code[i].isspace():
            i += 1
        if i >= len(code) or code[i] != "(":
            raise TranslateError(line, "__launch_bounds__ without its (arguments)")
        depth, open_ = 0, i
        while i < len(code):
            if code[i] == "(":
                depth += 1
            elif code[i] == ")":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        else:
            raise TranslateError(line, "__launch_bounds__( without its )")
        first_start, first_end = split_top_level(code, open_ + 1, i)[0]
        max_threads = " ".join(code[first_start:first_end].split())
        if not max_threads:
            raise TranslateError(line, "__launch_bounds__ without a maximum number of threads")
        depth = 0
        i += 1
        while i < len(code):  # the kernel's body: the first { outside its parameters
            c = code[i]
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif depth == 0 and c == ";":
                break  # a declaration: no body to check in
            elif depth == 0 and c == "{":
                edits.append((i + 1, i + 1, " ::gpt_emu::check_launch_bounds((%s), {__FILE__, "
                               "__LINE__});" % max_threads))
                break
            i += 1
    return edits


def translate(text):
    code = code_only(text)
    edits = []  # (start, end, replacement), applied from the back

    for m in EXTERN_SHARED.finditer(code):
        type_ = m.group("type")
        line = line_of(code, m.start())
        for align in ALIGN.findall(type_):
            if int(align) > 128:
                raise TranslateError(line, "dynamic shared memory aligned to more than 128 bytes")
        type_ = " ".join(ALIGN.sub(" ", type_).split())
        if not type_:
            raise TranslateError(line, "extern __shared__ without a type")
        edits.append((m.start(), m.end(), "%s* const %s = ::gpt_emu::dynamic_shared<%s>();" %
                      (type_, m.group("name"), type_)))
    covered = [(a, b) for a, b, _ in edits]
    for m in re.finditer(r"\bextern\s+__shared__\b", code):
        if not any(a <= m.start() < b for a, b in covered):
            raise TranslateError(line_of(code, m.start()), "an extern __shared__ declaration that "
                                 "is not `extern __shared__ T name[];`")
    edits += static_shared_edits(code, covered)
    edits += launch_bounds_edits(code)

    pos = 0
    while True:
        at = code.find("<<<", pos)
        if at < 0:
            break
        start = kernel_start(code, at)
        kernel = code[start:at]
        if not kernel.strip() or not KERNEL_EXPR.fullmatch(kernel.strip()):
            raise TranslateError(line_of(code, at),
                                 "cannot read the kernel before <<<: %r" % kernel.strip())
        end = config_end(code, at + 3)
        config = text[at + 3:end - 3]
        if not config.strip():
            raise TranslateError(line_of(code, at), "an empty <<<>>> configuration")
        after = end
        while after < len(code) and code[after].isspace():
            after += 1
        if after >= len(code) or code[after] != "(":
            raise TranslateError(line_of(code, at),
                                 "a launch's >>> must be followed by its (arguments)")
        name = " ".join(kernel.split())
        # `auto kernel = some_kernel<...>; kernel<<<...>>>`: name what it holds.
        held = list(re.finditer(r"\bauto\s+%s\s*=\s*([^;]+);" % re.escape(name), code[:start]))
        if held:
            name += " = " + " ".join(held[-1].group(1).split())
        name = name.replace("\\", "\\\\").replace('"', '\\"')
        edits.append((start, end, '::gpt_emu::launch(%s, "%s", __FILE__, __LINE__, %s)' %
                      (kernel, name, config)))
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
