#!/usr/bin/env python3
"""Autobahn TestSuite conformance run for `wsc`, or with --device for the firmware on the
Cortex-M board under QEMU, using the `kosoku` runner.

kosoku (PyPI) runs the Autobahn TestSuite's own case files natively:

  server role (wsc is the server under test):
      wsc serve --listen 127.0.0.1:PORT
      kosoku -m fuzzingclient ws://127.0.0.1:PORT -o OUTDIR [-i GLOB].. [-x GLOB]..
  client role (wsc is the client under test):
      kosoku -m fuzzingserver 127.0.0.1:0 -o OUTDIR [-i GLOB].. [-x GLOB]..
          (prints "fuzzingserver listening on ws://HOST:PORT" on stderr)
      wsc autobahn-client ws://HOST:PORT --agent wsc
          (getCaseCount, runCase?case=N&agent=wsc for N=1..count, updateReports?agent=wsc;
           kosoku writes its reports and exits after updateReports)

kosoku writes OUTDIR/index.json ({agent: {case_id: {behavior, behaviorClose,
remoteCloseCode, duration, reportfile}}}) plus one JSON + HTML file per case and
OUTDIR/index.html. Its own exit code is 1 whenever any case is not
OK/NON-STRICT/INFORMATIONAL, so this script ignores it and judges index.json itself.

Per case, one verdict is derived the way the Autobahn master report colours it:
  behavior UNIMPLEMENTED                          -> UNIMPLEMENTED
  behavior not OK/NON-STRICT/INFORMATIONAL        -> FAILED (incl. kosoku's ERROR)
  behaviorClose FAILED/UNCLEAN/unknown            -> FAILED
  behaviorClose WRONG CODE / FAILED BY CLIENT     -> at best NON-STRICT
  otherwise                                       -> behavior
The run fails if any case, in any section (12 and 13, permessage-deflate, included),
is FAILED, NON-STRICT or UNIMPLEMENTED, or if a case is missing, or if kosoku or wsc
could not run. INFORMATIONAL cases are the ones whose behaviour RFC 6455 leaves open.

With --split, wsc runs every case through a connection split into a reader half and a
writer half (`wsc serve --split`, `wsc autobahn-client --split`).

--device puts the firmware (tests/firmware on the mps2-an386 board, scripts/qemu-firmware)
in wsc's place: `scripts/qemu-firmware serve PORT` as the server under test, and
`scripts/qemu-firmware autobahn-client PORT` as the client (it reaches the fuzzingserver
at 10.0.2.2, QEMU's address for the host). The full run on the device, both roles:

    .venv/bin/python tests/peers/autobahn.py --device --role both
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    QEMU_FIRMWARE,
    REPO_ROOT,
    Child,
    PeerFailure,
    build_device_firmware,
    check_executable,
    log,
    run_main,
    start_device_serve,
    start_wsc_serve,
)

VERDICTS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
GATED_VERDICTS = ("FAILED", "NON-STRICT", "UNIMPLEMENTED")  # none of these, in any section


def find_kosoku(explicit: str | None) -> str:
    if explicit:
        return check_executable(explicit, "kosoku")
    beside = Path(sys.executable).parent / "kosoku"
    if beside.exists():
        return str(beside)
    found = shutil.which("kosoku")
    if found:
        return found
    raise PeerFailure(
        "kosoku not found (looked beside the Python interpreter and on PATH); "
        "install it with `.venv/bin/pip install kosoku==0.1.0` and run this script with .venv/bin/python"
    )


def selection_args(cases: list[str], exclude: list[str]) -> list[str]:
    out: list[str] = []
    for c in cases:
        out += ["-i", c]
    for x in exclude:
        out += ["-x", x]
    return out


def split_globs(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return out


def case_sort_key(case_id: str) -> list[int]:
    return [int(p) for p in case_id.split(".")]


def verdict(behavior: str, close: str) -> str:
    if behavior == "UNIMPLEMENTED":
        return "UNIMPLEMENTED"
    if behavior not in ("OK", "NON-STRICT", "INFORMATIONAL"):
        return "FAILED"
    if close in ("OK", "INFORMATIONAL"):
        return behavior
    if close in ("WRONG CODE", "FAILED BY CLIENT"):
        return "NON-STRICT" if behavior == "OK" else behavior
    return "FAILED"  # FAILED, UNCLEAN, anything unknown


class RoleResult:
    def __init__(self, role: str) -> None:
        self.role = role
        self.cases: dict[str, dict] = {}  # case_id -> index entry (+ verdict, agent)
        self.problems: list[str] = []  # reasons the role failed besides case verdicts
        self.expected_count: int | None = None
        self.seconds = 0.0
        self.outdir: Path | None = None

    def counts(self) -> Counter:
        return Counter(c["verdict"] for c in self.cases.values())

    def gated_failures(self) -> list[str]:
        return [cid for cid, c in self.cases.items() if c["verdict"] in GATED_VERDICTS]

    def non_ok(self) -> list[tuple[str, dict]]:
        return sorted(
            ((cid, c) for cid, c in self.cases.items() if c["verdict"] != "OK"),
            key=lambda kv: case_sort_key(kv[0]),
        )

    @property
    def failed(self) -> bool:
        return bool(self.problems or self.gated_failures())


def load_index(outdir: Path, res: RoleResult, expect_agent: str | None) -> None:
    index_path = outdir / "index.json"
    if not index_path.exists():
        raise PeerFailure(f"kosoku wrote no {index_path}")
    try:
        index = json.loads(index_path.read_text())
    except ValueError as e:
        raise PeerFailure(f"{index_path} is not valid JSON: {e}") from e
    if not isinstance(index, dict) or not index:
        raise PeerFailure(f"{index_path} holds no results")
    if expect_agent is not None and expect_agent not in index:
        res.problems.append(
            f"no results for agent {expect_agent!r} (agents reported: {sorted(index)}); "
            "wsc must pass --agent through to runCase/updateReports"
        )
    for agent, cases in index.items():
        for cid, entry in cases.items():
            entry = dict(entry)
            entry["agent"] = agent
            entry["verdict"] = verdict(str(entry.get("behavior")), str(entry.get("behaviorClose")))
            if cid in res.cases:
                res.problems.append(f"case {cid} reported twice (agents {res.cases[cid]['agent']!r} and {agent!r})")
            res.cases[cid] = entry


def run_server_role(args, kosoku: str, outdir: Path) -> RoleResult:
    res = RoleResult("server")
    res.outdir = outdir
    log(f"== autobahn server role: kosoku fuzzingclient -> {args.target} (reports in {outdir})")
    started = time.monotonic()
    if args.device:
        wsc, addr = start_device_serve()
    else:
        wsc, addr = start_wsc_serve(args.wsc, extra=["--split"] if args.split else [])
    with wsc:
        argv = [
            kosoku, "-m", "fuzzingclient", f"ws://{addr}", "-o", str(outdir),
            "-p", str(args.parallelism),
        ] + selection_args(args.cases, args.exclude)
        log("$ " + " ".join(argv))
        with Child(argv, name="kosoku", echo_stdout=False, echo_stderr=False, cwd=str(outdir.parent)) as k:
            rc = k.wait(args.timeout)
            k.join_output()
            if rc is None:
                k.kill()
                raise PeerFailure(
                    f"kosoku fuzzingclient did not finish within {args.timeout:.0f}s "
                    f"(is {args.target} hanging?); kosoku stderr:\n    {k.stderr_tail()}"
                )
            if rc not in (0, 1):
                raise PeerFailure(
                    f"kosoku fuzzingclient exited with code {rc}; stderr:\n    {k.stderr_tail()}"
                )
            for line in k.stdout_lines[-3:]:
                log(f"[kosoku] {line}")
        if not wsc.alive():
            res.problems.append(
                f"{args.target} exited during the run (code {wsc.proc.returncode}); stderr:\n    {wsc.stderr_tail()}"
            )
    res.seconds = time.monotonic() - started
    load_index(outdir, res, None)
    errors = [cid for cid, c in res.cases.items() if c.get("behavior") == "ERROR"]
    if errors and len(errors) == len(res.cases):
        res.problems.append(f"every case ended in ERROR (kosoku could not connect to {args.target} at {addr})")
    return res


def run_client_role(args, kosoku: str, outdir: Path) -> RoleResult:
    from websockets.sync.client import connect  # the venv's websockets

    res = RoleResult("client")
    res.outdir = outdir
    client = "the device's Autobahn client" if args.device else "wsc autobahn-client"
    log(f"== autobahn client role: {client} -> kosoku fuzzingserver (reports in {outdir})")
    started = time.monotonic()
    argv = [kosoku, "-m", "fuzzingserver", "127.0.0.1:0", "-o", str(outdir)] + selection_args(
        args.cases, args.exclude
    )
    log("$ " + " ".join(argv))
    with Child(argv, name="kosoku", echo_stdout=False, echo_stderr=False, cwd=str(outdir.parent)) as k:
        m = k.wait_line(r"fuzzingserver listening on ws://(?P<host>[\d.]+):(?P<port>\d+)", 30, "stderr")
        url = f"ws://{m.group('host')}:{m.group('port')}"
        # Ask for the case count ourselves: kosoku does not notice cases a
        # client never ran, so completeness is checked against this.
        try:
            with connect(url + "/getCaseCount", open_timeout=10, close_timeout=5) as ws:
                res.expected_count = int(ws.recv(timeout=10))
        except Exception as e:  # noqa: BLE001
            raise PeerFailure(f"could not read {url}/getCaseCount from kosoku: {e!r}") from e
        log(f"kosoku fuzzingserver at {url} serves {res.expected_count} cases")
        if args.device:
            port = m.group("port")
            wargv = [str(QEMU_FIRMWARE), "--no-build", "autobahn-client", port, "--agent", args.agent]
        else:
            wargv = [check_executable(args.wsc, "wsc binary"), "autobahn-client", url, "--agent", args.agent]
            if args.split:
                wargv.append("--split")
        log("$ " + " ".join(wargv))
        with Child(wargv, name=client, echo_stdout=args.verbose, echo_stderr=True) as w:
            wrc = w.wait(args.timeout)
            if wrc is None:
                w.kill()
                res.problems.append(f"{client} did not finish within {args.timeout:.0f}s")
            elif wrc != 0:
                tail = "\n    ".join(w.stdout_lines[-20:]) if args.device else w.stderr_tail()
                res.problems.append(f"{client} exited with code {wrc}; output:\n    {tail}")
        # After updateReports kosoku writes the reports and exits by itself.
        grace = 120 if not res.problems else 20
        rc = k.wait(grace)
        k.join_output()
        if rc is None:
            k.kill()
            raise PeerFailure(
                f"kosoku fuzzingserver did not finish within {grace}s after {client} exited "
                f"(did it call {url}/updateReports?agent={args.agent}?)"
                + ("\n  " + "\n  ".join(res.problems) if res.problems else "")
            )
        if rc not in (0, 1):
            raise PeerFailure(f"kosoku fuzzingserver exited with code {rc}; stderr:\n    {k.stderr_tail()}")
        for line in k.stdout_lines[-3:]:
            log(f"[kosoku] {line}")
    res.seconds = time.monotonic() - started
    load_index(outdir, res, args.agent)
    if res.expected_count is not None and len(res.cases) != res.expected_count:
        res.problems.append(
            f"{client} ran {len(res.cases)} of the {res.expected_count} cases kosoku served"
        )
    return res


def render(results: list[RoleResult], args) -> str:
    lines: list[str] = []
    lines.append(f"# Autobahn TestSuite results for {args.subject} (kosoku)")
    lines.append("")
    sel = ", ".join(args.cases) if args.cases else "all cases"
    if args.exclude:
        sel += " excluding " + ", ".join(args.exclude)
    lines.append(f"Selection: {sel}. Gate: no FAILED, NON-STRICT or UNIMPLEMENTED case.")
    lines.append("")
    lines.append("| role | " + " | ".join(VERDICTS) + " | total | time | result |")
    lines.append("|---" * (len(VERDICTS) + 4) + "|")
    for r in results:
        c = r.counts()
        lines.append(
            f"| {r.role} | "
            + " | ".join(str(c.get(v, 0)) for v in VERDICTS)
            + f" | {len(r.cases)} | {r.seconds:.1f}s | {'FAIL' if r.failed else 'pass'} |"
        )
    for r in results:
        lines.append("")
        lines.append(f"## {r.role} role: non-OK cases")
        lines.append("")
        if r.outdir:
            lines.append(f"Reports: `{r.outdir}/index.html`")
            lines.append("")
        for p in r.problems:
            lines.append(f"- **problem:** {p}")
        non_ok = r.non_ok()
        if not non_ok:
            lines.append("None." if not r.problems else "No non-OK case results.")
            continue
        lines.append("| case | verdict | behavior | behaviorClose | remote close code |")
        lines.append("|---|---|---|---|---|")
        for cid, c in non_ok:
            lines.append(
                f"| {cid} | {c['verdict']} | {c.get('behavior')} | {c.get('behaviorClose')} "
                f"| {c.get('remoteCloseCode')} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", choices=["server", "client", "both"], default="both")
    ap.add_argument("--wsc", help="path to the wsc binary (the subject, unless --device)")
    ap.add_argument("--device", action="store_true",
                    help="test the firmware on the Cortex-M board under QEMU (scripts/qemu-firmware) instead of wsc")
    ap.add_argument("--cases", action="append", help="case ids/globs to run, comma-separated or repeated (default: all)")
    ap.add_argument("--exclude", action="append", help="case ids/globs to exclude, e.g. '12.*,13.*'")
    ap.add_argument("--kosoku", help="path to the kosoku executable (default: beside this Python)")
    ap.add_argument("--outdir", default=str(REPO_ROOT / "target" / "autobahn"), help="reports go to OUTDIR/{server,client}")
    ap.add_argument("--summary-out", help="write the markdown summary to this file")
    ap.add_argument("--timeout", type=float, default=900, help="seconds allowed per role (default 900)")
    ap.add_argument("--parallelism", type=int, default=1, help="kosoku fuzzingclient parallelism (default 1)")
    ap.add_argument("--agent", default="wsc", help="agent name passed to wsc autobahn-client")
    ap.add_argument("--verbose", action="store_true", help="echo wsc autobahn-client's stdout")
    ap.add_argument(
        "--split",
        action="store_true",
        help="run wsc serve --split and wsc autobahn-client --split (the split reader and writer halves)",
    )
    args = ap.parse_args()
    args.cases = split_globs(args.cases)
    args.exclude = split_globs(args.exclude)
    if args.device == bool(args.wsc):
        ap.error("give either --wsc PATH or --device")
    if args.device and args.split:
        ap.error("--split is for wsc")
    args.subject = "the firmware on the Cortex-M board (QEMU mps2-an386)" if args.device else "wsc"
    args.target = "the device's echo server" if args.device else "wsc serve"
    if args.device and args.agent == "wsc":
        args.agent = "firmware"

    kosoku = find_kosoku(args.kosoku)
    if args.device:
        build_device_firmware()
    else:
        check_executable(args.wsc, "wsc binary")
    roles = ["server", "client"] if args.role == "both" else [args.role]
    results: list[RoleResult] = []
    for role in roles:
        outdir = Path(args.outdir).resolve() / role
        shutil.rmtree(outdir, ignore_errors=True)
        outdir.mkdir(parents=True)
        try:
            r = (run_server_role if role == "server" else run_client_role)(args, kosoku, outdir)
        except PeerFailure as e:
            r = RoleResult(role)
            r.outdir = outdir
            r.problems.append(str(e))
        results.append(r)

    summary = render(results, args)
    print()
    print(summary, flush=True)
    if args.summary_out:
        Path(args.summary_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.summary_out).write_text(summary)
        log(f"summary written to {args.summary_out}")

    bad = False
    for r in results:
        for p in r.problems:
            print(f"FAIL: autobahn {r.role} role: {p}", file=sys.stderr, flush=True)
            bad = True
        gf = r.gated_failures()
        if gf:
            print(
                f"FAIL: autobahn {r.role} role: {len(gf)} case(s) FAILED, NON-STRICT or UNIMPLEMENTED: "
                + ", ".join(sorted(gf, key=case_sort_key)),
                file=sys.stderr,
                flush=True,
            )
            bad = True
    if not bad:
        log("autobahn: no FAILED, NON-STRICT or UNIMPLEMENTED case for role(s) " + ", ".join(roles))
    return 1 if bad else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    run_main(main)
