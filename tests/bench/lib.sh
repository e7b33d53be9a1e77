# tests/bench/lib.sh -- shell helpers shared by the benchmarks
# (tests/bench/run, tests/bench/run-wrap).  Sourced, never run.
#
# The caller sets BENCH_NAME (the prefix of its messages) and, before
# calling stop_pid, RUN (its run directory).

BENCH_NAME=${BENCH_NAME:-bench}

die() {
	echo "$BENCH_NAME: $*" >&2
	exit 1
}

# Die unless each named variable holds a positive integer.
need_positive() {
	local v

	for v in "$@"; do
		[[ ${!v} =~ ^[1-9][0-9]*$ ]] ||
		    die "$v must be a positive integer (got '${!v}')"
	done
}

# Die unless each program is installed.
need_programs() {
	local p

	for p in "$@"; do
		command -v "$p" >/dev/null || die "$p is not installed"
	done
}

# Kill one process we started, by its pid, if it still is the one we
# started (its command line names the run directory $RUN).
stop_pid() {
	local pid=$1

	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$RUN" ||
	    return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null && return
	# No python: a random high port that does not answer.
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# 64 hex digits from /dev/urandom (an authgate.conf secret).
random_secret() {
	od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

# Escape a value for the replacement side of sed s|||.
sed_esc() {
	printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

# Print the requests/s of a wrk output file; fail if it saw errors.
wrk_rps() {
	local out=$1 bad

	bad=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$out")
	[[ -z $bad ]] || { echo "$BENCH_NAME: $bad non-2xx responses in $out" >&2
	    return 1; }
	if grep -q 'Socket errors' "$out"; then
		echo "$BENCH_NAME: socket errors: $(grep 'Socket errors' "$out")" >&2
		return 1
	fi
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$out"
}

# Requests a wrk run completed ("N requests in 10.00s, ...").
wrk_count() {
	sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$1"
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { if (NR % 2) print v[(NR + 1) / 2];
		  else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# a / b with three decimals (0 when b is 0).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b > 0) ? a / b : 0 }'
}

# CPU time (clock ticks, user + system) a process has used so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# CPU time (clock ticks, user + system) of the children a process has
# waited for: what its short-lived children (CGI programs) used.
child_cpu_ticks() {
	awk '{ print $16 + $17 }' "/proc/$1/stat"
}

# Microseconds of CPU per request: ticks spent over requests done.
us_per_req() {
	awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.1f\n", (n > 0) ? t * 1e6 / hz / n : 0 }'
}

# kB to MB, one decimal.
mb() {
	awk -v k="${1:-0}" 'BEGIN { printf "%.1f\n", k / 1024 }'
}

# true when value >= goal, else false (JSON booleans).
at_least() {
	awk -v v="$1" -v g="$2" 'BEGIN { print (v >= g) ? "true" : "false" }'
}

verdict() {
	[[ $1 = true ]] && echo ok || echo MISSED
}

# The arguments joined with commas (a JSON array's inside).
join() {
	local IFS=,
	echo "$*"
}
