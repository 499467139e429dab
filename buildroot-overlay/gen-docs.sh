#!/bin/sh
# gen-docs.sh BIN_DIR OUT_DIR
#
# Writes the man pages and the bash and zsh completions of appliance, hwmgr,
# sysconfd and telbox-wizard, made by each binary from its own clap definition, under
# OUT_DIR in the layout of /usr/share: man/man1, man/man8,
# bash-completion/completions, zsh/site-functions. OUT_DIR is emptied first.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: gen-docs.sh BIN_DIR OUT_DIR" >&2
	exit 2
fi
bin_dir=$1
out_dir=$2

rm -rf "$out_dir"
mkdir -p "$out_dir"
for b in appliance hwmgr sysconfd telbox-wizard; do
	TELBOX_GEN_DOCS=$out_dir "$bin_dir/$b" >/dev/null
done
