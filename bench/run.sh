#!/bin/sh
# make bench: fml beside mlmmj (Debian) in the same run, on the same
# loopback sink (Postfix smtp-sink).  Prints the tables and writes
# bench/RESULTS.md.  Method: bench/README.md.  Everything it makes is under
# bench/work/ (gitignored) and is removed at the start of the next run.
#
# Knobs (environment): BENCH_N=20 BENCH_N_COLD=5 BENCH_N_DELIVER=10
# BENCH_N_BIG=3 BENCH_TPUT=1000 BENCH_SAMPLE=200 BENCH_MEMBERS=10000
# BENCH_FULL=1 (adds one mlmmj run in its default per-recipient mode to all
# members: about 7 minutes on a 2-CPU VM).
# (d) delivery: BENCH_DELIVERY="1000 10000 100000" (list sizes; empty = skip),
# BENCH_DELIVERY_RUNS=3; BENCH_ONLY=delivery runs only (d) and writes
# bench/work/run/delivery.md instead of bench/RESULTS.md.
# (e) digests: BENCH_DIGEST=0 skips it; BENCH_DIGEST_MEMBERS=10000
# BENCH_DIGEST_ARTICLES=1000 BENCH_DIGEST_RUNS=3 BENCH_DIGEST_SAMPLE=200 (mlmmj
# digesters measured; the full count is extrapolated); BENCH_ONLY=digest runs
# only (e) and writes bench/work/run/digest.md.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$ROOT/bench/work/run
PY=/usr/bin/python3

if [ "$(id -u)" != 0 ]; then
	echo "bench: run as root (fml drops to the list owner; mlmmj is run as it)" >&2
	exit 1
fi
for f in fml/fml /usr/bin/mlmmj-receive /usr/bin/mlmmj-process /usr/bin/mlmmj-send \
	/usr/bin/mlmmj-make-ml /usr/bin/mlmmj-maintd /usr/sbin/smtp-sink /usr/sbin/smtp-source /usr/bin/time \
	/usr/bin/strace; do
	[ -x "$f" ] || { echo "bench: $f missing (make deps all)" >&2; exit 1; }
done

# RESULTS.md names the commit its binaries were built from: with uncommitted
# changes to anything but RESULTS.md there is no such commit, so the run
# stops (BENCH_DIRTY=1 runs anyway and writes bench/work/run/RESULTS.md only).
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
if [ -n "$(git status --porcelain --untracked-files=no -- . ':!bench/RESULTS.md' 2>/dev/null)" ]; then
	if [ "${BENCH_DIRTY:-0}" != 1 ]; then
		echo "bench: the work tree has uncommitted changes; commit them first, so that" >&2
		echo "bench: bench/RESULTS.md names the commit it measured (or BENCH_DIRTY=1)" >&2
		exit 1
	fi
	COMMIT="$COMMIT+dirty"
fi
echo "bench: commit $COMMIT, fml/fml sha256 $(sha256sum fml/fml | cut -c1-16)"
export BENCH_COMMIT=$COMMIT

rm -rf "$ROOT/bench/work"
mkdir -p "$WORK"
chmod 755 "$ROOT/bench/work" "$WORK"

# A snapshot of the programs: others may rebuild fml/ while the bench runs.
# fml finds etc/ and spool-skel/ beside the directory of its binary.
TREE=$WORK/tree
mkdir -p "$TREE/fml"
cp fml/fml "$TREE/fml/fml"
[ ! -x fml/fmlproc ] || cp fml/fmlproc "$TREE/fml/fmlproc" # fml hands command mail and archive units to it
[ ! -x fml/fmlqueue ] || cp fml/fmlqueue "$TREE/fml/fmlqueue"
[ ! -x fml/makefml ] || cp fml/makefml "$TREE/fml/makefml"
[ ! -x fml/fmldigest ] || cp fml/fmldigest "$TREE/fml/fmldigest"
ln -s "$ROOT/etc" "$TREE/etc"
ln -s "$ROOT/spool-skel" "$TREE/spool-skel"
chmod -R a+rX "$TREE"

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {
	i=0
	until $PY -c "import socket; socket.create_connection(('127.0.0.1', $1), 1).close()" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] || { echo "bench: smtp-sink on port $1 did not start" >&2; exit 1; }
		sleep 0.1
	done
}

# (a)-(c): a loopback sink that only counts (-c: counters on stdout)
PORT=$(free_port)
SINKLOG=$WORK/smtp-sink.out
/usr/sbin/smtp-sink -c -u nobody "127.0.0.1:$PORT" 1000 >"$SINKLOG" 2>&1 &
SINK=$!
SINK2=
DUMP=
trap 'kill $SINK $SINK2 2>/dev/null || :; [ -z "$DUMP" ] || rm -rf "$DUMP"' EXIT INT TERM
wait_port "$PORT"

# (d) delivery: one sink for fml, mlmmj and smtp-source alike, which also
# dumps every transaction (-d) so each run's recipients can be counted
# exactly; the dumps go to tmpfs, so the sink does not wait on the disk.
PORT2=$(free_port)
SINKLOG2=$WORK/smtp-sink-delivery.out
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	DUMP=$(mktemp -d /dev/shm/fml-bench.XXXXXX)
else
	DUMP=$(mktemp -d "$WORK/dump.XXXXXX")
fi
chown nobody "$DUMP"
/usr/sbin/smtp-sink -c -d "$DUMP/%H%M%S." -u nobody "127.0.0.1:$PORT2" 1000 >"$SINKLOG2" 2>&1 &
SINK2=$!
wait_port "$PORT2"

$PY "$ROOT/bench/bench.py" "$ROOT" "$WORK" "$PORT" "$SINKLOG" "$TREE" "$PORT2" "$SINKLOG2" "$DUMP"
