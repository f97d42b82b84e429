#!/usr/bin/env python3
"""CPU per plaintext message, A/B: two builds of smtp-bench (library) and of
the smtp binary (CLI) against Postfix's smtp-source, alternated in the same
rounds on one loopback smtp-sink (issue 20; method: docs/benchmarks.md,
"CPU per message, A/B").

    scripts/bench-cpu-ab.py --bench-a OLD/smtp-bench --bench-b NEW/smtp-bench \
        [--cli-a OLD/smtp --cli-b NEW/smtp] [--rounds 5] [--messages 5000]

Each round runs, in an order that rotates between rounds: each program
with N messages and with 1 message over one connection (smtp-bench
`session --batch 0 --runtime current|multi`, `smtp send --to-file` of N
recipients: the CLI's own runtime choice, current-thread for one
connection; smtp-source -s 1 -d). CPU is user+sys from wait4(2); the
marginal CPU per message is (CPU(N) - CPU(1)) / (N - 1). Prints per-round
values and medians, and the ratios to smtp-source of the same round.
Every message is counted by the sink; exits 1 if a count is off.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, out_path, env=None):
    """Runs cmd with stdout to a file; returns (user, sys) CPU seconds."""
    with open(out_path, "w") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        err = p.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench-cpu-ab: FAIL: {' '.join(cmd)}: {err[-500:]}")
    return ru.ru_utime, ru.ru_stime


def cpu_pair(text):
    """`--pin`'s value: two CPU numbers, "client,sink"."""
    parts = text.split(",")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected CLIENT,SINK as two CPU numbers (e.g. 0,1), not {text!r}")
    return parts


def quartiles(xs):
    """The first and third quartiles, as "q1-q3" (the spread of a median)."""
    if len(xs) < 2:
        return "-"
    q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return f"{q1:.3f}-{q3:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench-a", required=True)
    ap.add_argument("--bench-b", required=True)
    ap.add_argument("--cli-a")
    ap.add_argument("--cli-b")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--runtime", default="current", help="smtp-bench runtime: current|multi")
    ap.add_argument("--lib-only", action="store_true", help="leave the CLI out even if given")
    ap.add_argument("--pin", metavar="CLIENT,SINK", type=cpu_pair,
                    help="run every client on one CPU and the sink on another (taskset -c), "
                         "e.g. 0,1: the same placement for every program, so the kernel's "
                         "wake-up path does not change between runs")
    a = ap.parse_args()
    source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    sink_bin = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    work = tempfile.mkdtemp(prefix="smtp-cpu-ab.")
    port = free_port()
    sink_out = open(os.path.join(work, "sink.out"), "w")
    pin_client, pin_sink = [], []
    if a.pin:
        if not shutil.which("taskset"):
            sys.exit("bench-cpu-ab: --pin needs taskset (Debian package util-linux)")
        client_cpu, sink_cpu = a.pin
        pin_client, pin_sink = ["taskset", "-c", client_cpu], ["taskset", "-c", sink_cpu]
    sink = subprocess.Popen(
        pin_sink + [sink_bin, "-c", "-u", "nobody", "-h", "sink.example.test", f"127.0.0.1:{port}", "1024"],
        stdout=sink_out, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        body = os.path.join(work, "body.txt")
        line = "x" * 76 + "\n"
        with open(body, "w") as f:
            f.write((line * (a.size // len(line) + 1))[: a.size])
        lists = {}
        for n in (1, a.messages):
            lists[n] = os.path.join(work, f"list-{n}.txt")
            with open(lists[n], "w") as f:
                f.writelines(f"r{i}@example.org\n" for i in range(1, n + 1))

        def sink_count():
            with open(os.path.join(work, "sink.out"), "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - 300))
                tail = f.read().decode(errors="replace").replace("\r", "\n")
            counts = [int(x.split("mesg=")[1].split()[0]) for x in tail.split("\n") if "mesg=" in x]
            return counts[-1] if counts else 0

        programs = {}
        for name, path in (("lib_a", a.bench_a), ("lib_b", a.bench_b)):
            programs[name] = lambda n, path=path: [
                path, "session", "--port", str(port), "--messages", str(n), "--batch", "0",
                "--size", str(a.size), "--runtime", a.runtime]
        for name, path in (("cli_a", a.cli_a), ("cli_b", a.cli_b)):
            if path and not a.lib_only:
                programs[name] = lambda n, path=path: [
                    path, "send", "--host", "127.0.0.1", "--port", str(port), "--security", "none",
                    "--from", "s@example.net", "--subject", "bench", "--body-file", body,
                    "--to-file", lists[n], "--json"]
        programs["source"] = lambda n: [
            source, "-s", "1", "-d", "-m", str(n), "-l", str(a.size), "-f", "s@example.net",
            "-t", "r@example.org", f"127.0.0.1:{port}"]
        env = {"PATH": os.environ["PATH"], "HOME": work}
        names = list(programs)
        marginal = {k: [] for k in names}
        whole = {k: [] for k in names}
        user = {k: [] for k in names}
        print(f"load {os.getloadavg()}, {a.messages} x {a.size} B, {a.rounds} rounds", file=sys.stderr)
        for r in range(a.rounds):
            order = names[r % len(names):] + names[: r % len(names)]
            for name in order:
                base = sink_count()
                out = os.path.join(work, "out")
                user_n, sys_n = run(pin_client + programs[name](a.messages), out, env)
                user_1, sys_1 = run(pin_client + programs[name](1), out, env)
                cpu_n, cpu_1 = user_n + sys_n, user_1 + sys_1
                want = base + a.messages + 1
                for _ in range(40):
                    if sink_count() >= want:
                        break
                    time.sleep(0.25)
                if sink_count() != want:
                    sys.exit(f"bench-cpu-ab: FAIL: {name}: the sink counted {sink_count() - base}, "
                             f"expected {a.messages + 1}")
                marginal[name].append((cpu_n - cpu_1) * 1e6 / (a.messages - 1))
                whole[name].append(cpu_n * 1e6 / a.messages)
                user[name].append((user_n - user_1) * 1e6 / (a.messages - 1))
            print(f"round {r + 1}: " + ", ".join(f"{k} {marginal[k][-1]:.1f}" for k in names)
                  + f" µs/msg marginal (load {os.getloadavg()[0]:.1f})", file=sys.stderr)
        print(f"| program | CPU µs/msg marginal, median | of it user | whole process | ratio to "
              f"smtp-source (median of same-round ratios) | middle half of the ratios | per round |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for k in names:
            ratios = [m / s for m, s in zip(marginal[k], marginal["source"])]
            print(f"| {k} | {statistics.median(marginal[k]):.1f} | {statistics.median(user[k]):.1f} | "
                  f"{statistics.median(whole[k]):.1f} | "
                  f"{statistics.median(ratios):.3f} | {quartiles(ratios)} | "
                  + " ".join(f"{x:.1f}" for x in marginal[k]) + " |")
    finally:
        sink.kill()
        sink.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
