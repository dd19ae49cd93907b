# Helpers shared by scripts/bench.sh and scripts/bench-store.sh (sourced; each script defines
# its own `log`).

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:PORT accepts connections; exits if the process dies or time runs out.
wait_for_port() {  # port pid name
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || { log "$3 exited at start"; exit 1; }
        sleep 0.1
    done
    log "$3 does not listen on 127.0.0.1:$1"
    exit 1
}

# utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat; the command
# name in field 2 may hold spaces, so count from the closing parenthesis).
cpu_ticks() {
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
