#!/usr/bin/env bash
# Benchmarks, side by side with the tools a user would pick instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "no benchmarks yet"
