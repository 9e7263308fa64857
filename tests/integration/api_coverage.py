#!/usr/bin/env python3
"""Every function the public headers declare is called by some test.

Lists the functions declared in include/eddy.h and include/eddy_test.h
(prototypes and static inline helpers) and looks for a call to each, name
followed by "(", in the C sources under tests/ with their comments removed.
Fails naming the functions no test calls: a public function nothing runs
is a function nothing checks."""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
HEADERS = ["include/eddy.h", "include/eddy_test.h"]
SOURCES = (".c", ".h", ".cc", ".cpp")


def strip_comments(text):
    # Strings kept (a call can't hide in one that matters here), comments out.
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def declared(path):
    text = strip_comments(open(path, encoding="utf-8").read())
    names = set()
    # A declaration or inline definition at the start of a line: return type,
    # then the name, then "(" (typedefs of function types are left out).
    for m in re.finditer(r"^(?!typedef)(?:static\s+inline\s+)?[A-Za-z_][\w \t]*?[\s\*]"
                         r"(eddy_\w+)\s*\(", text, flags=re.M):
        names.add(m.group(1))
    return names


def main():
    names = set()
    for h in HEADERS:
        if os.path.exists(os.path.join(ROOT, h)):
            names |= declared(os.path.join(ROOT, h))
    if len(names) < 50:
        print(f"api_coverage: only {len(names)} functions found in {HEADERS}: the parser "
              "no longer reads the headers")
        return 1
    calls = set()
    tests = os.path.join(ROOT, "tests")
    for d, _, files in os.walk(tests):
        for f in files:
            if f.endswith(SOURCES):
                text = strip_comments(open(os.path.join(d, f), encoding="utf-8",
                                           errors="replace").read())
                calls.update(re.findall(r"\b(eddy_\w+)\s*\(", text))
    missing = sorted(names - calls)
    if missing:
        print(f"api_coverage: {len(missing)} of {len(names)} public functions are called by no "
              "test under tests/:")
        for n in missing:
            print(f"  {n}")
        return 1
    print(f"api_coverage: all {len(names)} public functions are called by tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
