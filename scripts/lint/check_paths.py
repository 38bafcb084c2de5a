#!/usr/bin/env python3
"""check_paths.py - every repository path a file mentions exists, and no link leaves the repository.

Usage: python3 scripts/lint/check_paths.py   (from the repository root; make lint runs it)

Scans every tracked text file (and new ones not ignored) for
  - Markdown links [text](target): a relative target must exist inside the repository; a link
    to another site or outside the repository is an error (the docs travel with the code);
  - paths that start with a top-level directory of the repository (src/, include/, tests/,
    deploy/, sql/, scripts/, .github/, .ci/), in docs, comments and scripts alike: each must name
    an existing file or directory, or be a glob that matches one.
Prints "file:line: problem" for each and exits 1 when there is any.
"""
import glob
import os
import re
import subprocess
import sys

TOP = ("src", "include", "tests", "deploy", "sql", "scripts", ".github", ".ci")
PATH_RE = re.compile(r"(?<![\w/.$-])((?:%s)/[\w./*%%+-]*)" % "|".join(re.escape(t) for t in TOP))
LINK_RE = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
SKIP_DIRS = ("tests/fuzz/corpus/",)


def files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, check=True).stdout
    for name in out.decode().split("\0"):
        if name and not name.startswith(SKIP_DIRS) and os.path.isfile(name):
            yield name


def ignored(path):
    """Paths git ignores (build output, scratch dirs) need not exist."""
    return any(subprocess.run(["git", "check-ignore", "-q", p], check=False).returncode == 0
               for p in (path, path.rstrip("/") + "/"))


def exists(path):
    path = path.rstrip(".,:;")
    if path.endswith("/.*"):  # a regular expression over a directory's files
        path = path[:-3]
    path = path.replace("%", "*")  # a make pattern
    if not path or ignored(path):
        return True
    if any(c in path for c in "*?["):
        return bool(glob.glob(path)) or bool(glob.glob(path.rstrip("/")))
    return os.path.exists(path)


def main():
    problems = []
    for name in files():
        try:
            text = open(name, encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        for lineno, line in enumerate(text.split("\n"), 1):
            for m in PATH_RE.finditer(line):
                path = m.group(1).rstrip(".,:;")
                # A path the text builds at run time ($dir/...) or names inside a URL is not ours.
                if "${" in line[max(0, m.start() - 2):m.start()]:
                    continue
                if not exists(path):
                    problems.append(f"{name}:{lineno}: no such file or directory: {path}")
            if name.endswith(".md"):
                for m in LINK_RE.finditer(line):
                    target = m.group(1).split("#")[0]
                    if m.group(1).startswith("#"):
                        continue
                    if re.match(r"^[a-z]+:", target):
                        problems.append(f"{name}:{lineno}: links outside the repository: {target}")
                        continue
                    full = os.path.normpath(os.path.join(os.path.dirname(name), target))
                    if full.startswith("..") or os.path.isabs(target):
                        problems.append(f"{name}:{lineno}: links outside the repository: {target}")
                    elif not os.path.exists(full):
                        problems.append(f"{name}:{lineno}: link to a missing file: {target}")
    for p in problems:
        print(p)
    print(f"check_paths: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
