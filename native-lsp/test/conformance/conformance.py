#!/usr/bin/env python3
"""Runs third-party programs' own socket test suites (CPython's, from Debian's
libpython3.X-testsuite) without the Linux layer and under it, and requires the same results:
the same tests pass, fail, error and are skipped.

  conformance.py --preload LIB --channel-tool TOOL [--set quick|full] [--work DIR]

Two comparisons:
  recording   plain against the layer with a channel recording everything;
  emulating   inside a network namespace of its own whose ephemeral ports are the 16 the channel
              emulates disconnect data on, plain against the layer: every connection the suites
              make (both ends in the suites' own processes, all under the layer) is framed.
              Needs root (unshare --net); skipped with the reason otherwise.

A test whose outcome differs is run again alone, in both modes, twice: one that then agrees in
any run is reported as flaky, not as a difference. Exit 0 when nothing differs, 1 otherwise, 2
when the suites could not be run at all.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

# The system's Python, whose test suite (libpython3.X-testsuite) is installed beside it.
PYTHON = "/usr/bin/python3"
# Each entry: a regrtest test name, glob patterns of its cases to leave out (with why), and
# whether it makes TCP connections (then the layer must have recorded some).
SUITES = {
    "quick": [
        ("test_socket", ["*VSOCK*"], True),  # vsock needs a device containers lack: it hangs
        ("test_asyncio.test_sock_lowlevel", [], True),
        ("test_asyncio.test_streams", [], True),
    ],
    "full": [
        ("test_socket", ["*VSOCK*"], True),
        ("test_selectors", [], False),  # poll, epoll and select over socketpairs
        ("test_socketserver", [], True),  # run with -u network: its servers are on localhost
        ("test_asyncio", [], True),
        ("test_ssl", [], True),
        ("test_ftplib", [], True),
        ("test_urllib2_localnet", [], True),
        ("test_httplib", [], True),
    ],
}
# Suites that regrtest runs only with its 'network' resource, though they use loopback alone
# (others with that resource reach out to the internet, which this machine has not).
NETWORK_SUITES = {"test_socketserver"}
EMULATED_PORTS = list(range(40000, 40016))  # TD_FILTER_MAX ports
RUN_TIMEOUT_S = 1800


def outcomes_of(junit_file):
    """{test id: 'pass' | 'fail' | 'error' | 'skip'} from regrtest's JUnit XML."""
    results = {}
    if not os.path.exists(junit_file):
        return results
    for case in ElementTree.parse(junit_file).iter("testcase"):
        name = "%s.%s" % (case.get("classname", ""), case.get("name", ""))
        outcome = "pass"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "fail", "error": "error", "skipped": "skip"}[child.tag]
        results[name] = outcome
    return results


class Runner:
    def __init__(self, args):
        self.preload = os.path.abspath(args.preload)
        self.tool = os.path.abspath(args.channel_tool)
        self.work = args.work
        self.count = 0

    def channel(self, ports):
        self.count += 1
        path = os.path.join(self.work, "channel-%d" % self.count)
        subprocess.run([self.tool, "create", path] + [str(p) for p in ports], check=True)
        return path

    def command(self, suite, ignores, matches, junit, netns):
        regrtest = [PYTHON, "-m", "test", "--junit-xml", junit, suite]
        if suite in NETWORK_SUITES:
            regrtest += ["-u", "network"]
        for pattern in ignores:
            regrtest += ["-i", pattern]
        for pattern in matches:
            regrtest += ["-m", pattern]
        if not netns:
            return regrtest
        low, high = EMULATED_PORTS[0], EMULATED_PORTS[-1]
        # With so few ports, sockets in TIME_WAIT would soon hold them all: the namespace keeps
        # none (tcp_max_tw_buckets=0), so a closed connection's port is free again at once.
        script = ('ip link set lo up && sysctl -q -w net.ipv4.ip_local_port_range="%d %d" '
                  'net.ipv4.tcp_max_tw_buckets=0 net.ipv4.tcp_tw_reuse=1 && exec "$@"'
                  % (low, high))
        return ["unshare", "--net", "--", "sh", "-c", script, "sh"] + regrtest

    def run(self, suite, ignores, channel, netns, matches=()):
        """Runs one suite; returns its outcomes. channel None: without the layer."""
        self.count += 1
        junit = os.path.join(self.work, "results-%d.xml" % self.count)
        log = os.path.join(self.work, "log-%d.txt" % self.count)
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        if channel is not None:
            env["LD_PRELOAD"] = self.preload
            env["TEARDOWN_CHANNEL"] = channel
        with open(log, "w") as out:
            try:
                subprocess.run(self.command(suite, ignores, matches, junit, netns), env=env,
                               stdout=out, stderr=subprocess.STDOUT, cwd=self.work,
                               timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                out.write("\nconformance: timed out after %d s\n" % RUN_TIMEOUT_S)
        results = outcomes_of(junit)
        if not results:
            print("conformance: %s produced no results; see %s" % (suite, log))
        return results


def differing(plain, layered):
    return sorted(name for name in set(plain) | set(layered)
                  if plain.get(name) != layered.get(name))


def compare(runner, mode, ports, netns):
    """Runs every suite both ways; returns the number of tests that really differ."""
    real_differences = 0
    for suite, ignores, makes_connections in runner.suites:
        plain = runner.run(suite, ignores, None, netns)
        channel = runner.channel(ports)
        layered = runner.run(suite, ignores, channel, netns)
        if not plain or not layered:
            real_differences += 1
            continue
        report = subprocess.run([runner.tool, "report", channel] + [str(p) for p in ports],
                                capture_output=True, text=True).stdout.strip()
        counts = dict(zip(report.split()[0::2], report.split()[1::2]))
        tally = {}
        for outcome in plain.values():
            tally[outcome] = tally.get(outcome, 0) + 1
        print("conformance: %-9s %-34s %5d tests (%s); layer: %s" % (
            mode, suite, len(plain), ", ".join("%d %s" % (n, o) for o, n in sorted(tally.items())),
            report))
        if makes_connections and int(counts.get("closes", "0")) == 0:
            print("conformance: %s %s: the layer recorded no connection" % (mode, suite))
            real_differences += 1
        elif makes_connections and netns and int(counts.get("closes-on-ports", "0")) == 0:
            print("conformance: %s %s: no connection on an emulated port" % (mode, suite))
            real_differences += 1
        for name in differing(plain, layered):
            seen_plain = {plain.get(name)}
            seen_layered = {layered.get(name)}
            case = name.rsplit(".", 1)[-1]
            for _ in range(2):
                seen_plain.add(runner.run(suite, ignores, None, netns, [case]).get(name))
                seen_layered.add(runner.run(suite, ignores, runner.channel(ports), netns,
                                            [case]).get(name))
            if seen_plain & seen_layered:
                print("conformance: %s flaky, not a difference: %s (plain %s, layer %s)" % (
                    mode, name, sorted(map(str, seen_plain)), sorted(map(str, seen_layered))))
            else:
                print("conformance: %s DIFFERS: %s (plain %s, layer %s)" % (
                    mode, name, sorted(map(str, seen_plain)), sorted(map(str, seen_layered))))
                real_differences += 1
    return real_differences


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preload", required=True, help="libteardown_preload.so")
    parser.add_argument("--channel-tool", required=True, help="the channel_tool program")
    parser.add_argument("--set", choices=sorted(SUITES), default="quick")
    parser.add_argument("--work", help="where runs keep their logs (default: a new temporary one)")
    args = parser.parse_args()
    version = None
    if os.access(PYTHON, os.X_OK):
        version = subprocess.run(
            [PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False).stdout.strip()
    if not version or not os.path.isdir("/usr/lib/python%s/test/test_asyncio" % version):
        print("conformance: %s and its test suite are needed: apt-get install "
              "libpython%s-testsuite" % (PYTHON, version or "3"))
        return 2
    keep = args.work is not None
    args.work = args.work or tempfile.mkdtemp(prefix="teardown-conformance-")
    os.makedirs(args.work, exist_ok=True)
    runner = Runner(args)
    runner.suites = SUITES[args.set]
    differences = compare(runner, "recording", [], False)
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
        differences += compare(runner, "emulating", EMULATED_PORTS, True)
    else:
        print("conformance: emulating comparison skipped: it needs root, unshare and ip "
              "(a network namespace whose ephemeral ports are the emulated ones)")
    print("conformance: %s" % ("no difference" if differences == 0 else
                               "%d difference(s); logs in %s" % (differences, args.work)))
    if differences == 0 and not keep:
        shutil.rmtree(args.work, ignore_errors=True)
    return 0 if differences == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
