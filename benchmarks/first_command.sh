#!/usr/bin/env bash
# Times the README's first command (venv, install, `likeness demo`) from a fresh clone, as a newcomer meets it:
# a new folder, no pip cache, no earlier demo. The command is read from the README itself, so the figure is for
# exactly what the README says. The demo prints its own phase times; this adds the install's and the total.
#
#     bash benchmarks/first_command.sh [WORKDIR]      (default: a new temporary folder; it is left for inspection)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/likeness-first.XXXXXX)}
mkdir -p "$work"
if [ -e "$work/likeness" ]; then
    echo "first_command.sh: $work/likeness exists; give a new WORKDIR" >&2
    exit 2
fi
git clone -q "$repo" "$work/likeness"
cd "$work/likeness"
# The first command in the README's first sh block: the line after its comment.
command=$(awk '/^```sh$/ {inside = 1; next} inside && /^#/ {next} inside {print; exit}' README.md)
case "$command" in
    *"likeness demo"*) ;;
    *) echo "first_command.sh: the README's first command does not run the demo: $command" >&2; exit 2 ;;
esac
install=${command%% && .venv/bin/likeness demo*}
demo=${command#"$install && "}
export PIP_NO_CACHE_DIR=1 XDG_CACHE_HOME="$work/cache"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit: $(git rev-parse --short HEAD)"
echo "command: $command"
start=$(date +%s.%N)
eval "$install"
installed=$(date +%s.%N)
eval "$demo"
done_at=$(date +%s.%N)
python3 - "$start" "$installed" "$done_at" <<'EOF'
import sys
start, installed, done = (float(v) for v in sys.argv[1:])
print(f"install (venv + pip): {installed - start:.0f} s; demo: {done - installed:.0f} s; "
      f"whole first command: {done - start:.0f} s ({(done - start) / 60:.1f} min)")
EOF
