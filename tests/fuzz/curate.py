#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pick a small set of inputs for the in-tree corpus from what a fuzzing run
found, by the edges each covers: run.sh --merge calls it.

    curate.py CONTROL_FILE CORPUS_DIR [--max-new N] [--min-gain E]

CONTROL_FILE is the -merge_control_file of a libFuzzer -set_cover_merge=1
-use_counters=0 over an empty directory, CORPUS_DIR (the in-tree corpus of
the target) and the work corpus: for every input it lists every feature
(FT lines; without counters, about the edges) the input covers.  (A plain
-merge=1 lists only what each input adds to those before it.)
What CORPUS_DIR already covers is kept; then, greedily, the input of the
work corpus that adds the most features not covered yet is copied into
CORPUS_DIR (named by its SHA-1, as libFuzzer names them), until an input
would add fewer than E features (default 5) or N inputs were added
(default 10).  The merge itself keeps every input with any new feature
(hundreds); this keeps the few that carry most of the coverage.
"""
import argparse
import hashlib
import os
import shutil

ap = argparse.ArgumentParser()
ap.add_argument("control")
ap.add_argument("corpus")
ap.add_argument("--max-new", type=int, default=10)
ap.add_argument("--min-gain", type=int, default=5)
args = ap.parse_args()

with open(args.control) as f:
    lines = f.read().splitlines()
n = int(lines[0])
paths = lines[2:2 + n]
cov = {}
for line in lines[2 + n:]:
    if line.startswith("FT "):
        parts = line.split()
        cov[int(parts[1])] = set(parts[2:])

corpus = os.path.realpath(args.corpus)
in_tree = [i for i, p in enumerate(paths) if os.path.dirname(os.path.realpath(p)) == corpus]
candidates = [i for i in range(n) if i not in set(in_tree) and i in cov]
covered = set()
for i in in_tree:
    covered |= cov.get(i, set())
total = set(covered)
for i in candidates:
    total |= cov[i]

added = 0
while added < args.max_new and candidates:
    best = max(candidates, key=lambda i: (len(cov[i] - covered), -os.path.getsize(paths[i])))
    gain = len(cov[best] - covered)
    if gain < args.min_gain:
        break
    with open(paths[best], "rb") as f:
        data = f.read()
    dst = os.path.join(corpus, hashlib.sha1(data).hexdigest())
    shutil.copyfile(paths[best], dst)
    covered |= cov[best]
    candidates.remove(best)
    added += 1
    print(f"curate: {os.path.basename(dst)} ({len(data)} bytes): +{gain} features")
print(f"curate: {added} inputs added; the corpus covers {len(covered)} of the {len(total)} features the run reached")
