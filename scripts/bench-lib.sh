# Shell functions shared by scripts/bench.sh and scripts/bench-fds.sh
# (sourced, not run).

# microseconds, without a fork (bash 5)
now_us() {
	echo "${EPOCHREALTIME/./}"
}

# kill_victim PID PATTERN: kill PID only if its comm still matches the
# extended regex PATTERN (pids get reused); our (disowned) child is reaped
# by the shell while we wait for it to go (up to 1 s)
kill_victim() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	if grep -qsE "$2" "/proc/$pid/comm"; then
		kill -KILL "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			[ -e "/proc/$pid" ] || break
			sleep 0.02
		done
	fi
	return 0
}

# wait_gone PID TRIES: wait up to TRIES * 10 ms until /proc/PID is gone (the
# shell reaps its disowned child on SIGCHLD); fails if it is still there
wait_gone() {
	local i
	for ((i = 0; i < $2; i++)); do
		[ -e "/proc/$1" ] || return 0
		sleep 0.01
	done
	return 1
}

# wait_exited PID: wait up to 30 s until PID has exited (gone, or a zombie
# its parent has not reaped yet); fails if it is still running
wait_exited() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ -d "/proc/$1" ] && ! grep -qs '^State:.Z' "/proc/$1/status" || return 0
		sleep 0.05
	done
	! [ -d "/proc/$1" ] || grep -qs '^State:.Z' "/proc/$1/status"
}
