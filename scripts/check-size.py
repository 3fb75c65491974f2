#!/usr/bin/python3
"""House-style size limits on production C: no function body over MAX_FUNC
lines, no source file over MAX_FILE lines.

Production code is every C file git tracks under criu/ and compel/, less
test and bench folders (generated files, such as the *.pb-c.* and the
*-blob.h headers, are not tracked). A function's length runs from the line
of its opening brace to the line of its closing one.

The parser removes comments, string and character literals and
preprocessor lines, then follows braces: a brace at file level opens a
function when what leads to it (since the last ';', '}' or preprocessor
line) ends in a parameter list, possibly followed by attributes, and is no
initializer ('=' outside parentheses) and no struct, union or enum body.

Prints one PASS/FAIL line per check (test/run.py counts them) and exits 1
on any failure. `--self-test` checks the parser on known snippets first.

Usage: scripts/check-size.py [--self-test] [FILE ...]
"""
import os
import re
import subprocess
import sys

MAX_FUNC = 100
MAX_FILE = 1500
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = ("/test/", "/bench/")


def strip(text):
    """Comments, literals and preprocessor lines blanked; newlines kept."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if line_start and c == "#":
            # a directive, with its continuation lines (and comments in it)
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append("\n")
                    i += 2
                    continue
                if text.startswith("/*", i):
                    end = text.find("*/", i + 2)
                    end = n if end < 0 else end + 2
                    out.append("\n" * text.count("\n", i, end))
                    i = end
                    continue
                i += 1
            out.append("#")	# a marker: ends a top-level header
            continue
        line_start = False
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(" " + "\n" * text.count("\n", i, end))
            i = end
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + "\n" * text.count("\n", i, j) + c)
            i = j + 1
            continue
        if c == "\n":
            line_start = True
        out.append(c)
        i += 1
    return "".join(out)


ATTRS = re.compile(r"(\s*(__attribute__\s*\(\(.*?\)\)|__[a-z_]+__|[A-Z_][A-Z0-9_]*))*\s*$", re.S)
NAME = re.compile(r"([A-Za-z_]\w*)\s*\($")


def is_function(header):
    """The function's name if @header (what leads to a '{') is a definition's."""
    h = header.strip()
    if not h or re.match(r"(typedef\s+)?(struct|union|enum)\b[^(]*$", h):
        return None
    depth, close, eq = 0, -1, False
    for k, c in enumerate(h):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                close = k
        elif c == "=" and depth == 0:
            eq = True
    if eq or close < 0 or not ATTRS.fullmatch(h[close + 1:]):
        return None
    # the parameter list is the last top-level (...) before the attributes;
    # the name is the identifier before the first top-level '('
    depth = 0
    for k, c in enumerate(h):
        if c == "(" and depth == 0:
            m = NAME.search(h[:k + 1])
            if m and m.group(1) not in ("__attribute__", "sizeof"):
                return m.group(1)
        depth += c == "("
        depth -= c == ")"
    return None


def functions(text):
    """(name, first line, last line) of each function defined in @text."""
    s = strip(text)
    found = []
    depth, header, line, start, name = 0, [], 1, 0, None
    for c in s:
        if c == "\n":
            line += 1
        if depth == 0:
            if c in ";}#":
                header = []
            elif c == "{":
                name = is_function("".join(header))
                start = line
                header = []
                depth = 1
            else:
                header.append(c)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and name:
                found.append((name, start, line))
    return found


def production_files():
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "criu", "compel"],
                         capture_output=True, text=True, check=True).stdout
    for path in out.split():
        if path.endswith((".c", ".h")) and not any(d in "/" + path for d in SKIP_DIRS):
            yield path


def check(paths):
    long_funcs, long_files = [], []
    for path in paths:
        with open(os.path.join(ROOT, path), errors="replace") as f:
            text = f.read()
        nlines = text.count("\n")
        if nlines > MAX_FILE:
            long_files.append("%s (%d lines)" % (path, nlines))
        for name, first, last in functions(text):
            if last - first + 1 > MAX_FUNC:
                long_funcs.append("%s:%d %s (%d lines)" % (path, first, name, last - first + 1))
    ok = True
    for what, bad, limit in (("function", long_funcs, MAX_FUNC), ("file", long_files, MAX_FILE)):
        if bad:
            ok = False
            print("FAIL size: no %s over %d lines: %s" % (what, limit, "; ".join(bad)))
        else:
            print("PASS size: no %s over %d lines" % (what, limit))
    return ok


SELF_TESTS = [
    # (name, source, expected [(name, first, last)])
    ("plain", "int f(void)\n{\n\treturn 0;\n}\n", [("f", 2, 4)]),
    ("k&r brace on the line", "static int g(int a) {\n\treturn a;\n}\n", [("g", 1, 3)]),
    ("initializer is no function",
     "static const struct t x[] = {\n\t{ 1, 2 },\n};\nint h(void)\n{\n}\n", [("h", 5, 6)]),
    ("struct body is no function", "struct s {\n\tint (*fn)(int);\n};\n", []),
    ("braces in strings and comments",
     "void k(void)\n{\n\tputs(\"}\"); /* } */\n\tchar c = '}';\n\t// }\n}\n", [("k", 2, 6)]),
    ("attributes after the parameters",
     "void __attribute__((noreturn)) die(const char *m) __attribute__((cold))\n{\n\tfor (;;);\n}\n",
     [("die", 2, 4)]),
    ("preprocessor lines end a header",
     "#define X(a) { a }\n#if 1\nint m(void)\n{\n#ifdef Y\n\ty();\n#endif\n\treturn 1;\n}\n#endif\n",
     [("m", 4, 9)]),
    ("macro continuation lines",
     "#define LONG(a) \\\n\tdo { \\\n\t} while (0)\nint n(void)\n{\n}\n", [("n", 5, 6)]),
    ("nested blocks and a function pointer parameter",
     "static int p(int (*cb)(void *), void *a)\n{\n\tif (a) {\n\t\treturn cb(a);\n\t}\n\treturn 0;\n}\n",
     [("p", 2, 7)]),
    ("enum and union bodies", "enum e { A, B };\nunion u { int a; };\ntypedef struct { int x; } T;\n", []),
    ("an inline asm string with braces",
     "static inline long q(void)\n{\n\t__asm__(\"{ nop }\");\n\treturn 0;\n}\n", [("q", 2, 5)]),
    # one line over the limit: brace to brace, 101 lines
    ("a function of 101 lines", "int big(void)\n{\n" + "\tx();\n" * 99 + "}\n",
     [("big", 2, 2 + MAX_FUNC)]),
]


def self_test():
    ok = True
    for name, src, want in SELF_TESTS:
        got = functions(src)
        over = [f for f, first, last in got if last - first + 1 > MAX_FUNC]
        if got == want and over == [f for f, _, _ in want if f == "big"]:
            print("PASS size parser: %s" % name)
        else:
            ok = False
            print("FAIL size parser: %s: got %s, want %s" % (name, got, want))
    return ok


def main(argv):
    ok = True
    if argv and argv[0] == "--self-test":
        ok = self_test()
        argv = argv[1:]
    ok = check(argv or list(production_files())) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
