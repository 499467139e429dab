#!/usr/bin/env bash
# Writes the DAHDI seed corpora (fuzz/corpus/dahdi_sysfs, fuzz/corpus/dahdi_proc)
# from trees the test fixture writer builds, in the input format of
# fuzz/src/tree.rs. Run it again when the writer changes; the output is
# checked in.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p telbox-tests --bin dahdi-fixture
fixture=$PWD/target/debug/dahdi-fixture
sysfs=$PWD/fuzz/corpus/dahdi_sysfs
proc=$PWD/fuzz/corpus/dahdi_proc
mkdir -p "$sysfs" "$proc"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One tree as entries: files with their text, empty directories, links with
# their root-relative targets.
entries() (
    cd "$1"
    find sys proc -mindepth 1 | LC_ALL=C sort | while read -r p; do
        if [ -L "$p" ]; then
            printf '==> %s -> %s\n' "$p" \
                "$(realpath -m -s --relative-to=. "$(dirname "$p")/$(readlink "$p")")"
        elif [ -d "$p" ]; then
            [ -z "$(ls -A "$p")" ] && printf '==> %s/\n' "$p"
        else
            printf '==> %s\n' "$p"
            cat "$p"
        fi
    done
)

seed() {
    local name=$1
    shift
    rm -rf "$work/root"
    "$fixture" --root "$work/root" "$@" >/dev/null
    entries "$work/root" >"$sysfs/$name.txt"
    for f in "$work/root"/proc/dahdi/*; do
        [ -f "$f" ] && cp "$f" "$proc/$name-$(basename "$f").txt"
    done
    true
}

seed te205p te205p
seed te435-t1-red te435:t1,red
seed b410p-te-nt b410p:te,te,nt,nt
seed tdm410p tdm410p:fxs*2,fxo*1,empty*1
seed te420-at --plain-spantype te420:at=5:100,yellow
seed te205p-unassigned te205p:unassigned
seed tc400 tc400
seed te420-unbound te420:unbound
