#!/bin/bash
# make bench: benchmarks that report ratios against a baseline measured in
# the same run. Results and the commands that produced them are recorded in
# Documentation/performance.md. (compel's benchmark runs from the Makefile.)
set -u
cd "$(dirname "$0")/.."
if "./criu/criu" --help | grep -qE '^  dump .*not supported yet'; then
	echo "bench: dump/restore benchmarks arrive with dump and restore (not built yet)"
fi
