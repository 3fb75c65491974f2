#!/usr/bin/python3
"""Architecture by path: no x86 specifics outside arch/ folders.

Run by `make check` and, as the suite "check-arch", by test/run.py (so by
`make test`). Prints one line per case, PASS/FAIL as every suite does:

  arch-patterns   the patterns below find what they must and nothing in
                  comments (a self-test on fixed snippets)
  arch-sources    no pattern matches the production sources outside arch/
                  (each finding printed as file:line: what: text)
  include-dirs    every -I of the Makefiles names a folder that exists

What is searched: *.c, *.h and *.S under criu/, compel/src, compel/include,
compel/plugins and include/, except any path with an arch/ component.
Tests (test/, compel/test/) are not searched: a test of x86 registers is
x86 by nature, and a port brings its own (Documentation/porting.md).

Comments are removed first (a comment may say "syscall", "rip" or
"xsave"); string literals are kept, because an asm template and an arch
name live in strings. The patterns are in PATTERNS, one line each with the
reason; ALLOW (scripts/check-arch.allow) lists whole files still waiting
to be moved, each with why. Usage: scripts/check-arch.py [-v]
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCH = "x86"
TREES = ["criu", "compel/src", "compel/include", "compel/plugins", "include"]
EXTS = (".c", ".h", ".S")
ALLOW = os.path.join(ROOT, "scripts/check-arch.allow")

# (name, regex): what is x86-specific in C, searched in comment-free code.
PATTERNS = [
    ("arch macro", r"\b__(x86_64|i386|amd64)__\b"),
    ("ptrace register set", r"\buser_(regs|fpregs)_struct\b"),
    ("x86 register", r"\b(orig_)?r(ax|bx|cx|dx|si|di|bp|sp|ip)\b|\beflags\b"),
    ("xsave state", r"(?i)xsave|xstate|fxsave|xgetbv|xcomp|\bxcr0\b|xfeature"),
    ("x86 arch_prctl", r"\b(SYS_|__NR_)?arch_prctl\b|\bARCH_(SET|GET)_(FS|GS|CPUID)\b|\bARCH_GET_UNTAG_MASK\b"),
    ("x86 regset or cpuid", r"\bNT_X86_\w+|\bcpuid\b|<cpuid\.h>"),
    ("x86 name", r"\w*X86\w*|\"x86_64\""),
    ("signal frame layout", r"\bsigcontext\b|\bfpstate\b|\brt_sigframe\b|\buc_mcontext\b"),
    # An asm statement with instructions in it; barrier()'s empty one is fine.
    ("inline asm", r"\b(__asm__|asm)\b(\s+(volatile|__volatile__|goto))*\s*\(\s*\"(?!\")"),
]


def strip_comments(text):
    """Comments become blanks (newlines kept, so line numbers hold)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def findings(text):
    """(line, pattern name, line text) for every match in @text."""
    code = strip_comments(text)
    lines = text.split("\n")
    found = []
    for name, rx in PATTERNS:
        for m in re.finditer(rx, code):
            ln = code.count("\n", 0, m.start())
            found.append((ln + 1, name, lines[ln].strip()))
    return sorted(set(found))


def sources():
    for tree in TREES:
        for path in sorted(glob.glob(os.path.join(ROOT, tree, "**/*"), recursive=True)):
            rel = os.path.relpath(path, ROOT)
            if rel.endswith(EXTS) and "arch" not in rel.split(os.sep) and os.path.isfile(path):
                yield rel


def allowed():
    names = set()
    if os.path.exists(ALLOW):
        with open(ALLOW) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    names.add(line.split()[0])
    return names


SELF_TEST = [
    ("/* a syscall insn, rip, xsave */ int a;", 0),
    ("// rax and __x86_64__\nint a;", 0),
    ('barrier(); __asm__ __volatile__("" ::: "memory");', 0),
    ('read_proc_line(tid, "syscall", buf);', 0),
    ('__asm__ __volatile__("syscall" : "=a"(r));', 1),
    ('asm volatile(\n\t"int $0x80");', 1),
    ("r.rip = 0;", 1),
    ("struct user_regs_struct r;", 1),
    ("#ifdef __x86_64__", 1),
    ("size_t n = kdat.xsave_size;", 1),
    ("syscall(SYS_arch_prctl, 0x1002, fs);", 1),
    ('inv.arch = "x86_64";', 1),
    ('const char *s = "/* not a comment */ rax";', 1),
]


def self_test():
    bad = [(src, want) for src, want in SELF_TEST if bool(findings(src)) != bool(want)]
    for src, want in bad:
        print("  %r: expected %s" % (src, "a finding" if want else "none"))
    return not bad


def check_sources(verbose):
    allow, hits = allowed(), 0
    for rel in sources():
        with open(os.path.join(ROOT, rel), errors="replace") as f:
            found = findings(f.read())
        if rel in allow:
            if verbose and found:
                print("  allowed %s: %d" % (rel, len(found)))
            continue
        for ln, name, text in found:
            print("  %s:%d: %s: %s" % (rel, ln, name, text))
        hits += len(found)
    stale = [a for a in allow if not os.path.exists(os.path.join(ROOT, a))]
    for a in stale:
        print("  %s: in check-arch.allow but not there" % a)
    return hits, len(stale)


def include_dirs():
    """-I folders of every Makefile that do not exist, as 'Makefile: dir'."""
    missing = []
    for mk in ["Makefile"] + sorted(glob.glob(os.path.join(ROOT, "*/Makefile"))):
        mk = os.path.relpath(os.path.join(ROOT, mk), ROOT)
        base = os.path.dirname(os.path.join(ROOT, mk))
        with open(os.path.join(ROOT, mk)) as f:
            text = f.read().replace("$(ARCH)", ARCH)
        for d in sorted(set(re.findall(r"-I(\S+)", text))):
            if "$" not in d and not os.path.isdir(os.path.join(base, d)):
                missing.append("%s: -I%s" % (mk, d))
    return missing


def main():
    verbose = "-v" in sys.argv[1:]
    failed = 0
    if self_test():
        print("PASS arch-patterns")
    else:
        print("FAIL arch-patterns: the patterns are wrong")
        failed += 1
    hits, stale = check_sources(verbose)
    if hits or stale:
        print("FAIL arch-sources: %d x86 specifics outside arch/ (%d stale allow rows)" % (hits, stale))
        failed += 1
    else:
        print("PASS arch-sources")
    missing = include_dirs()
    for m in missing:
        print("  " + m)
    if missing:
        print("FAIL include-dirs: %d -I folders do not exist" % len(missing))
        failed += 1
    else:
        print("PASS include-dirs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
