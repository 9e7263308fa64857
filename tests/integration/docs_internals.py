#!/usr/bin/env python3
"""docs/internals.md against the tree, so that the map cannot silently rot.

Checks, for every span in backticks:
  - a path (has a '/' or a source/doc extension): the file or directory exists;
  - a function, `name()`: a definition or declaration of it starts a line of a
    .c or .h file (or a function-like #define);
  - a C identifier with an underscore (a type, a constant, a node kind): it
    occurs as a word in the sources or the build files.
And the table under "## Dependency direction": every source module is in it,
and no module #includes a header of a module its row does not allow.
And every relative link of README.md, docs/*.md and the module READMEs leads
to a file of the repository (nothing outside it), and README.md links every
page of docs/ and every module README.

    docs_internals.py SOURCE_DIR
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../.."))
DOC = os.path.join(ROOT, "docs", "internals.md")
SOURCE_DIRS = ["common", "wire", "broker", "client", "dsl", "state", "streams", "cli", "include",
               "examples", "bench", "tests"]
PATH_EXT = (".c", ".h", ".md", ".sh", ".py", ".txt", ".cmake", ".in", ".pc")

errors = []


def fail(msg):
    errors.append(msg)


def sources(exts=(".c", ".h")):
    for d in SOURCE_DIRS:
        for dirpath, dirnames, files in os.walk(os.path.join(ROOT, d)):
            dirnames[:] = [x for x in dirnames if x not in ("kafka", "node_modules")]
            for f in files:
                if f.endswith(exts):
                    yield os.path.join(dirpath, f)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


if not os.path.isfile(DOC):
    print(f"FAIL: {DOC} does not exist", file=sys.stderr)
    sys.exit(1)
doc = read(DOC)
code = {p: read(p) for p in sources()}
build_files = [os.path.join(ROOT, "CMakeLists.txt"), os.path.join(ROOT, "tests", "CMakeLists.txt"),
               os.path.join(ROOT, "Makefile")]
cmake_dir = os.path.join(ROOT, "cmake")
if os.path.isdir(cmake_dir):
    build_files += [os.path.join(cmake_dir, f) for f in os.listdir(cmake_dir)]
words_text = "\n".join(code.values()) + "\n".join(read(p) for p in build_files if os.path.isfile(p))

spans = re.findall(r"`([^`\n]+)`", doc)
paths = functions = identifiers = 0
for s in sorted(set(spans)):
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\(\)", s)
    if m:
        name = m.group(1)
        functions += 1
        decl = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_ \t*]*[ \t*])?" + re.escape(name) + r"\(|^#define[ \t]+"
                          + re.escape(name) + r"\(", re.M)
        if not any(decl.search(t) for t in code.values()):
            fail(f"function {name}() is named but defined nowhere in the tree")
        continue
    if " " in s or "<" in s or "*" in s:
        continue
    if "/" in s or s.endswith(PATH_EXT):
        paths += 1
        if not os.path.exists(os.path.join(ROOT, s.rstrip("/"))):
            fail(f"path {s} does not exist")
        continue
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]*[A-Za-z0-9]", s):
        identifiers += 1
        if not re.search(r"\b" + re.escape(s) + r"\b", words_text):
            fail(f"identifier {s} occurs nowhere in the sources")

# ---- the dependency table
sec = re.search(r"^## Dependency direction\n(.*?)(?=^## )", doc, re.M | re.S)
allowed = {}
if not sec:
    fail('no "## Dependency direction" section')
else:
    for line in sec.group(1).splitlines():
        m = re.match(r"\|\s*`([a-z/]+/)`\s*\|(.*)\|\s*$", line)
        if m:
            allowed[m.group(1)] = set(re.findall(r"`([a-z/]+/)`", m.group(2)))
    if not allowed:
        fail("the dependency table has no rows")
modules = sorted(allowed, key=len, reverse=True)  # broker/log/ before broker/


def module_of(rel):
    for mod in modules:
        if rel.startswith(mod):
            return mod
    return None


# Every directory of library or CLI sources is a module of the table.
for d in ["common", "wire", "broker", "client", "dsl", "state", "streams", "cli", "include"]:
    for dirpath, _, files in os.walk(os.path.join(ROOT, d)):
        if any(f.endswith((".c", ".h")) for f in files):
            rel = os.path.relpath(dirpath, ROOT) + "/"
            if allowed and rel not in allowed:
                fail(f"module {rel} has sources but no row in the dependency table")

edges = 0
for path, text in code.items():
    rel = os.path.relpath(path, ROOT)
    mod = module_of(rel)
    if mod is None or os.path.dirname(rel) + "/" != mod:
        continue  # examples, bench, tests; or a directory without its own row
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if not m or "/" not in m.group(1):
            continue
        target = module_of(m.group(1))
        if target is None:
            fail(f'{rel}:{n}: #include "{m.group(1)}" is in no module of the dependency table')
            continue
        edges += 1
        if target != mod and target not in allowed[mod]:
            fail(f'{rel}:{n}: #include "{m.group(1)}": {mod} may not include {target} '
                 f"(docs/internals.md, Dependency direction)")

# ---- links of the README, the docs and the module READMEs
links = 0
for dirpath, dirnames, files in os.walk(ROOT):
    dirnames[:] = [x for x in dirnames if not x.startswith((".", "build")) and x not in ("node_modules", "kafka")]
    for f in files:
        if not f.endswith(".md"):
            continue
        path = os.path.join(dirpath, f)
        for m in re.finditer(r"\]\(([^)\s]+)\)", read(path)):
            target = m.group(1)
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            links += 1
            full = os.path.normpath(os.path.join(dirpath, target.split("#")[0]))
            if os.path.relpath(full, ROOT).startswith("..") or not os.path.exists(full):
                fail(f"{os.path.relpath(path, ROOT)}: link {target} leads to no file of the repository")

readme = read(os.path.join(ROOT, "README.md"))
linked = {os.path.normpath(t.split("#")[0]) for t in re.findall(r"\]\(([^)\s]+)\)", readme)}
wanted = ["docs/" + f for f in os.listdir(os.path.join(ROOT, "docs")) if f.endswith(".md")]
for d in SOURCE_DIRS + ["broker/log"]:
    if os.path.isfile(os.path.join(ROOT, d, "README.md")):
        wanted.append(d + "/README.md")
for w in sorted(wanted):
    if w not in linked:
        fail(f"README.md does not link {w}")

for e in errors:
    print("FAIL:", e, file=sys.stderr)
print(f"docs/internals.md: {paths} paths, {functions} functions, {identifiers} identifiers, "
      f"{len(allowed)} modules, {edges} cross-module includes, {links} links checked; {len(errors)} problem(s)")
sys.exit(1 if errors else 0)
