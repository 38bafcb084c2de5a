#!/usr/bin/env python3
"""check_deploy.py - structural checks of the deployment files that no generic linter knows.

Usage: scripts/lint/check_deploy.py [--binary BUILD/refresher]   (run from the repository root)

Checks what issue 3 asks of each way of running refresher, against the values in
refresher.yaml (refresh.max_runtime, upstream.timeout), so that a change of a default that
breaks a deadline or grace period somewhere is caught:
  - .github/workflows: schedule, inputs, concurrency, timeout, secrets, make test / make lint;
  - deploy/systemd: oneshot, hardening, secrets, exit codes, stop timeout, timer;
  - deploy/crontab: schedule, flock -n, logging;
  - deploy/k8s: Forbid, deadlines, grace period, non-root, read-only root, secrets, shards;
  - deploy/Dockerfile: stages, runtime packages (and that they provide every shared library
    the binary needs), non-root user, ENTRYPOINT;
  - deploy/man/refresher.1: every flag of --help, every key of refresher.yaml, every exit
    code and environment variable.
Prints one "FAIL: file: message" line per problem and "check_deploy: N checks, N failed";
exits 1 when any failed.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

CHECKS = 0
FAILED = 0

RUNTIME_PACKAGES = {"libcurl4", "libjson-c5", "libpq5", "libyaml-0-2", "ca-certificates"}
ENV_VARS = ["REFRESHER_CONFIG", "DATABASE_URL", "AIMHARDER_FINGERPRINT",
            "JOB_COMPLETION_INDEX", "GITHUB_STEP_SUMMARY"]
SECRETS = ["DATABASE_URL", "AIMHARDER_FINGERPRINT"]


def check(cond, where, msg):
    """Counts one check; prints the failure."""
    global CHECKS, FAILED
    CHECKS += 1
    if not cond:
        FAILED += 1
        print(f"FAIL: {where}: {msg}")
    return bool(cond)


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def dig(obj, *keys, default=None):
    """obj[k1][k2]... or default when a step is missing."""
    for k in keys:
        if isinstance(obj, dict) and k in obj:
            obj = obj[k]
        elif isinstance(obj, list) and isinstance(k, int) and -len(obj) <= k < len(obj):
            obj = obj[k]
        else:
            return default
    return obj


UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_s(text):
    """Seconds of a refresher duration (500ms, 15s, 1h30m, 0)."""
    text = str(text).strip()
    if text == "0":
        return 0.0
    parts = re.findall(r"(\d+)(ms|s|m|h|d)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"bad duration {text!r}")
    return sum(int(n) * UNITS[u] for n, u in parts)


SD_UNITS = {"us": 1e-6, "ms": 0.001, "s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60,
            "min": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600,
            "hours": 3600, "d": 86400, "day": 86400, "days": 86400}


def systemd_time_s(text):
    """Seconds of a systemd time span (60s, 20min, 1h 30min, 90)."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    parts = re.findall(r"(\d+)\s*([a-z]+)", text)
    if not parts:
        raise ValueError(f"bad time span {text!r}")
    return sum(int(n) * SD_UNITS[u] for n, u in parts)


def config_limits():
    """(max_runtime, upstream.timeout) in seconds from refresher.yaml."""
    cfg = load_yaml("refresher.yaml")
    return (duration_s(dig(cfg, "refresh", "max_runtime", default="14m")),
            duration_s(dig(cfg, "upstream", "timeout", default="15s")))


# --- GitHub Actions ------------------------------------------------------------------------

def workflow_on(wf):
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean true.
    return wf.get("on", wf.get(True))


def check_refresh_workflow(path, max_runtime):
    wf = load_yaml(path)
    on = workflow_on(wf) or {}
    crons = [s.get("cron") for s in on.get("schedule") or []]
    check(crons == ["*/15 * * * *"], path, f"schedule must be every 15 minutes, is {crons}")
    inputs = dig(on, "workflow_dispatch", "inputs", default={}) or {}
    for name in ("dry_run", "email", "limit"):
        check(name in inputs, path, f"workflow_dispatch input {name} missing")
    check(dig(inputs, "dry_run", "type") == "boolean", path, "input dry_run must be a boolean")
    conc = wf.get("concurrency") or {}
    check(isinstance(conc, dict) and conc.get("group"), path, "a concurrency group is needed")
    check(isinstance(conc, dict) and conc.get("cancel-in-progress") is False, path,
          "concurrency.cancel-in-progress must be false (never cancel a run mid-write)")
    jobs = wf.get("jobs") or {}
    check(len(jobs) >= 1, path, "no job")
    found_run = False
    for name, job in jobs.items():
        tmo = job.get("timeout-minutes")
        check(isinstance(tmo, (int, float)) and tmo * 60 > max_runtime, path,
              f"job {name}: timeout-minutes ({tmo}) must exceed refresh.max_runtime "
              f"({max_runtime:.0f}s)")
        for step in job.get("steps") or []:
            if step.get("uses") not in ("./deploy/github",):
                continue
            found_run = True
            check(dig(step, "with", "config") == "refresher.yaml", path,
                  "the action must run with config: refresher.yaml")
            env = step.get("env") or {}
            for var in SECRETS:
                check(re.fullmatch(r"\$\{\{\s*secrets\.%s\s*\}\}" % var, str(env.get(var, ""))),
                      path, f"step env {var} must come from secrets.{var}")
    check(found_run, path, "no step uses the action ./deploy/github")
    check_no_inline_inputs(path, wf)


def check_no_inline_inputs(path, wf):
    """User-supplied inputs must reach run: scripts through env:, not ${{ }} (injection)."""
    for name, job in (wf.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            run = step.get("run", "")
            check(not re.search(r"\$\{\{\s*(inputs|github\.event)\.", run), path,
                  f"job {name}: a run: script pastes ${{{{ inputs/github.event }}}} in")


def check_action(path):
    """deploy/github/action.yml: a composite action whose build is cached, inputs via env."""
    act = load_yaml(path)
    runs = act.get("runs") or {}
    check(runs.get("using") == "composite", path, "a composite action expected")
    steps = runs.get("steps") or []
    check(any(str(s.get("uses", "")).startswith("actions/cache@") for s in steps), path,
          "the build must be cached (actions/cache)")
    for step in steps:
        run = step.get("run", "")
        check(not re.search(r"\$\{\{\s*inputs\.", run), path,
              "a run: script pastes ${{ inputs }} in (pass them through env:)")
        if "run" in step:
            check(step.get("shell") == "bash", path, "composite run steps need shell: bash")


def check_ci_workflow(path):
    wf = load_yaml(path)
    on = workflow_on(wf) or {}
    check("push" in on and "pull_request" in on, path, "must run on push and pull_request")
    runs = [s.get("run", "") for j in (wf.get("jobs") or {}).values()
            for s in j.get("steps") or []]
    check(any(re.search(r"\bmake test\b", r) for r in runs), path, "no step runs make test")
    check(any(re.search(r"\bmake lint\b", r) for r in runs), path, "no step runs make lint")
    check_no_inline_inputs(path, wf)


def workflow_scripts(path):
    """The run: scripts of a workflow, ${{ }} replaced by a plain word, for shellcheck."""
    wf = load_yaml(path)
    for name, job in (wf.get("jobs") or {}).items():
        for i, step in enumerate(job.get("steps") or []):
            if "run" in step:
                body = re.sub(r"\$\{\{.*?\}\}", "GHA_EXPRESSION", step["run"])
                yield f"{path} job {name} step {i + 1}", body


def shellcheck_workflows(paths):
    for path in paths:
        for where, body in workflow_scripts(path):
            script = "#!/bin/bash\nset -e\n" + body
            proc = subprocess.run(["shellcheck", "-s", "bash", "-"], input=script, text=True,
                                  capture_output=True, check=False)
            check(proc.returncode == 0, where, "shellcheck:\n" + proc.stdout.strip())


# --- systemd -------------------------------------------------------------------------------

def parse_unit(path):
    """{section: {key: [values...]}} of a unit file (keys may repeat)."""
    sections, cur = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                cur = sections.setdefault(line[1:-1], {})
                continue
            key, _, value = line.partition("=")
            cur.setdefault(key.strip(), []).append(value.strip())
    return sections


def check_systemd(service, timer, max_runtime, upstream_timeout):
    svc = parse_unit(service).get("Service", {})

    def last(key):
        return (svc.get(key) or [""])[-1]

    want = {"Type": "oneshot", "DynamicUser": "yes", "ProtectSystem": "strict",
            "NoNewPrivileges": "yes", "KillSignal": "SIGTERM", "PrivateTmp": "yes",
            "ProtectHome": "yes", "PrivateDevices": "yes"}
    for key, value in want.items():
        check(last(key) == value, service, f"{key}={value} expected, found {last(key)!r}")
    check(svc.get("EnvironmentFile") or svc.get("LoadCredential"), service,
          "secrets need EnvironmentFile= or LoadCredential=")
    success = " ".join(svc.get("SuccessExitStatus", [])).split()
    check("4" in success, service, "SuccessExitStatus= must include 4 (stopped by SIGTERM)")
    stop = systemd_time_s(last("TimeoutStopSec") or "90s")
    check(stop > upstream_timeout, service,
          f"TimeoutStopSec ({stop:.0f}s) must exceed upstream.timeout ({upstream_timeout:.0f}s)")
    start = last("TimeoutStartSec")
    check(start and systemd_time_s(start) > max_runtime, service,
          f"TimeoutStartSec ({start}) must exceed refresh.max_runtime ({max_runtime:.0f}s)")
    families = " ".join(svc.get("RestrictAddressFamilies", [])).split()
    for fam in ("AF_INET", "AF_INET6", "AF_UNIX"):
        check(fam in families, service, f"RestrictAddressFamilies= must keep {fam} (HTTPS, "
              "PostgreSQL)")
    check(last("PrivateNetwork") != "yes", service, "PrivateNetwork=yes cuts off the network")
    check("any" not in " ".join(svc.get("IPAddressDeny", [])), service,
          "IPAddressDeny=any cuts off the network")
    check(re.fullmatch(r"/\S+/refresher( .*)?", last("ExecStart")), service,
          "ExecStart= must run the refresher binary by absolute path")

    tmr = parse_unit(timer)
    t = tmr.get("Timer", {})
    check(t.get("OnCalendar") == ["*:00/15"], timer, "OnCalendar=*:00/15 expected")
    check(t.get("Persistent") == ["true"], timer, "Persistent=true expected")
    delay = systemd_time_s((t.get("RandomizedDelaySec") or ["0"])[-1])
    check(0 < delay <= 120, timer, "RandomizedDelaySec= must be small (0 < delay <= 2min)")
    check("timers.target" in tmr.get("Install", {}).get("WantedBy", []), timer,
          "WantedBy=timers.target expected")


# --- cron ----------------------------------------------------------------------------------

def crontab_jobs(path):
    """(schedule, user, command) of each job line of a cron.d file."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", line):
                continue
            fields = line.split(None, 6)
            yield " ".join(fields[:5]), fields[5], fields[6]


def crontab_shell(path):
    """The shell cron runs the jobs with: the file's SHELL=, else /bin/sh."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^SHELL=(\S+)", line)
            if m:
                return m.group(1)
    return "/bin/sh"


def check_crontab(path):
    jobs = list(crontab_jobs(path))
    dialect = "bash" if crontab_shell(path).endswith("bash") else "sh"
    check(len(jobs) == 1, path, f"one job line expected, found {len(jobs)}")
    for sched, user, cmd in jobs:
        check(sched == "*/15 * * * *", path, f"schedule must be */15 * * * *, is {sched}")
        check(user != "root", path, "the job must not run as root")
        check(re.search(r"\bflock -n\b", cmd), path, "the command must take flock -n")
        check(re.search(r"\|\s*logger\b|>>\s*\S+", cmd), path,
              "output must go to logger or a log file")
        check("%" not in cmd, path, "% is a newline in a crontab command")
        check("exit code" in cmd, path, "the command must log refresher's exit code")
        proc = subprocess.run(["shellcheck", "-s", dialect, "-"], input=cmd + "\n", text=True,
                              capture_output=True, check=False)
        check(proc.returncode == 0, path, "shellcheck of the command:\n" + proc.stdout.strip())


# --- Kubernetes ----------------------------------------------------------------------------

def check_pod(path, pod, upstream_timeout):
    grace = pod.get("terminationGracePeriodSeconds")
    check(isinstance(grace, int) and grace > upstream_timeout, path,
          f"terminationGracePeriodSeconds ({grace}) must exceed upstream.timeout "
          f"({upstream_timeout:.0f}s)")
    check(pod.get("restartPolicy") in ("Never", "OnFailure"), path,
          "restartPolicy must be Never or OnFailure")
    psc = pod.get("securityContext") or {}
    check(psc.get("runAsNonRoot") is True, path, "pod securityContext.runAsNonRoot: true")
    check(psc.get("runAsUser", 1) != 0, path, "pod securityContext.runAsUser must not be 0")
    containers = pod.get("containers") or []
    check(len(containers) == 1, path, "one container expected")
    for c in containers:
        sc = c.get("securityContext") or {}
        check(sc.get("readOnlyRootFilesystem") is True, path,
              "container securityContext.readOnlyRootFilesystem: true")
        check(sc.get("allowPrivilegeEscalation") is False, path,
              "container securityContext.allowPrivilegeEscalation: false")
        check("ALL" in (dig(sc, "capabilities", "drop") or []), path, "capabilities.drop: [ALL]")
        env = {e.get("name"): e for e in c.get("env") or []}
        for var in SECRETS:
            check(dig(env, var, "valueFrom", "secretKeyRef", "name"), path,
                  f"env {var} must come from a Secret (secretKeyRef)")
        mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
        vols = {v.get("name"): v for v in pod.get("volumes") or []}
        check(dig(vols, mounts.get("/etc/refresher"), "configMap", "name") == "refresher-config",
              path, "the config must be the ConfigMap refresher-config, mounted at /etc/refresher")
    return containers


def check_cronjob(path, doc, max_runtime, upstream_timeout):
    spec = doc.get("spec") or {}
    check(doc.get("kind") == "CronJob", path, "a CronJob expected")
    check(spec.get("schedule") == "*/15 * * * *", path, "schedule must be */15 * * * *")
    check(spec.get("concurrencyPolicy") == "Forbid", path, "concurrencyPolicy: Forbid expected")
    check(isinstance(spec.get("startingDeadlineSeconds"), int), path,
          "startingDeadlineSeconds expected")
    job = dig(spec, "jobTemplate", "spec", default={})
    ads = job.get("activeDeadlineSeconds")
    check(isinstance(ads, int) and ads > max_runtime + upstream_timeout, path,
          f"activeDeadlineSeconds ({ads}) must exceed refresh.max_runtime + upstream.timeout")
    return job, check_pod(path, dig(job, "template", "spec", default={}), upstream_timeout)


def check_k8s(cron_path, indexed_path, max_runtime, upstream_timeout):
    docs = [d for d in yaml.safe_load_all(open(cron_path, encoding="utf-8")) if d]
    check(len(docs) == 1, cron_path, "one document expected")
    job, _ = check_cronjob(cron_path, docs[0], max_runtime, upstream_timeout)
    check(job.get("completionMode") in (None, "NonIndexed"), cron_path, "not an Indexed Job")

    docs = [d for d in yaml.safe_load_all(open(indexed_path, encoding="utf-8")) if d]
    check(len(docs) == 1, indexed_path, "one document expected")
    job, containers = check_cronjob(indexed_path, docs[0], max_runtime, upstream_timeout)
    check(job.get("completionMode") == "Indexed", indexed_path, "completionMode: Indexed")
    n = job.get("completions")
    check(isinstance(n, int) and n >= 2, indexed_path, "completions: N (N >= 2) expected")
    check(job.get("parallelism") == n, indexed_path, "parallelism must equal completions")
    for c in containers:
        args = [str(a) for a in (c.get("args") or [])]
        shards = args[args.index("--shard-count") + 1] if "--shard-count" in args[:-1] else None
        check(shards == str(n), indexed_path,
              f"--shard-count ({shards}) must equal completions ({n})")


# --- Dockerfile ----------------------------------------------------------------------------

def dockerfile_stages(path):
    """[(from_line, [instructions...])] with continuation lines joined."""
    stages, lines, cur = [], [], ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            s = raw.rstrip("\n")
            if not cur and (not s.strip() or s.lstrip().startswith("#")):
                continue
            if s.endswith("\\"):
                cur += s[:-1] + " "
                continue
            lines.append((cur + s).strip())
            cur = ""
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append((line, []))
        elif stages:
            stages[-1][1].append(line)
    return stages


def apt_installed(instrs):
    """Package names given to apt-get install in RUN instructions."""
    pkgs = set()
    for ins in instrs:
        if not ins.upper().startswith("RUN "):
            continue
        for cmd in re.split(r"&&|;", ins[4:]):
            words = shlex.split(cmd)
            if "apt-get" in words and "install" in words:
                after = words[words.index("install") + 1:]
                pkgs |= {w for w in after if not w.startswith("-")}
    return pkgs


def needed_packages(binary):
    """{soname: Debian package} of the DT_NEEDED libraries of binary (objdump, ldconfig, dpkg)."""
    out = subprocess.run(["objdump", "-p", binary], capture_output=True, text=True,
                         check=True).stdout
    needed = re.findall(r"^\s*NEEDED\s+(\S+)", out, re.M)
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                           check=True).stdout
    result = {}
    for so in needed:
        m = re.search(r"^\s*%s \(libc6,x86-64[^)]*\) => (\S+)" % re.escape(so), cache, re.M) or \
            re.search(r"^\s*%s \([^)]*\) => (\S+)" % re.escape(so), cache, re.M)
        pkg = None
        if m:
            lib = m.group(1)
            for cand in (lib, os.path.realpath(lib), "/usr" + lib, lib.replace("/usr/", "/", 1)):
                proc = subprocess.run(["dpkg", "-S", cand], capture_output=True, text=True,
                                      check=False)
                if proc.returncode == 0:
                    pkg = proc.stdout.split(":")[0].strip()
                    break
        result[so] = pkg
    return result


def check_dockerfile(path, binary):
    stages = dockerfile_stages(path)
    check(len(stages) >= 2, path, "a multi-stage build expected (build, runtime)")
    if len(stages) < 2:
        return
    for from_line, _ in stages:
        check(re.match(r"FROM debian:12-slim\b", from_line, re.I), path,
              f"stages must be FROM debian:12-slim: {from_line}")
    build_instrs = stages[0][1]
    build_pkgs = apt_installed(build_instrs)
    for pkg in ("libcurl4-openssl-dev", "libjson-c-dev", "libpq-dev", "libyaml-dev"):
        check(pkg in build_pkgs, path, f"build stage must install {pkg}")
    check(any(re.match(r"RUN .*\bmake\b", i) for i in build_instrs), path,
          "build stage must build with make")
    final = stages[-1][1]
    pkgs = apt_installed(final)
    check(pkgs == RUNTIME_PACKAGES, path,
          f"runtime stage must install exactly {sorted(RUNTIME_PACKAGES)}, has {sorted(pkgs)}")
    check(not any(p.endswith("-dev") for p in pkgs), path, "no -dev package in the runtime stage")
    users = [i.split(None, 1)[1] for i in final if i.upper().startswith("USER ")]
    check(users and users[-1].split(":")[0] not in ("root", "0"), path,
          "the runtime stage must end as a non-root USER")
    ep = [i.split(None, 1)[1] for i in final if i.upper().startswith("ENTRYPOINT ")]
    ok = False
    if ep:
        try:
            ep_argv = json.loads(ep[-1])
            ok = isinstance(ep_argv, list) and ep_argv[0].endswith("/refresher")
        except (ValueError, IndexError):
            ok = False
    check(ok, path, "ENTRYPOINT must be the binary, in exec form ([\"/.../refresher\"])")
    if binary:
        for so, pkg in needed_packages(binary).items():
            check(pkg in pkgs or pkg == "libc6", path,
                  f"{binary} needs {so} from {pkg or 'an unknown package'}, which the runtime "
                  "stage does not install")


# --- man page ------------------------------------------------------------------------------

def config_keys(cfg, prefix=""):
    """Dotted keys of refresher.yaml; database.columns' and upstream.form's children too."""
    keys = []
    for k, v in cfg.items():
        full = f"{prefix}{k}"
        if isinstance(v, dict) and full != "upstream.form":
            keys += config_keys(v, full + ".")
        else:
            keys.append(full)
    return keys


def check_man(path, binary):
    text = open(path, encoding="utf-8").read()
    plain = re.sub(r"\\f[BIRP]", "", text.replace("\\-", "-"))
    for key in config_keys(load_yaml("refresher.yaml")):
        check(re.search(r"^\.B %s$" % re.escape(key), plain, re.M), path,
              f"config key {key} is not described (.B {key})")
    if binary:
        helptext = subprocess.run([binary, "--help"], capture_output=True, text=True,
                                  check=False).stdout
        flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])\b", helptext))
        for flag in sorted(flags):
            check(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(flag), plain), path,
                  f"flag {flag} of --help is not in the man page")
    section = plain.split(".SH EXIT STATUS", 1)[-1].split(".SH ", 1)[0]
    for code in range(5):
        check(re.search(r"^\.B %d$" % code, section, re.M), path, f"exit code {code} missing")
    env = plain.split(".SH ENVIRONMENT", 1)[-1].split(".SH ", 1)[0]
    for var in ENV_VARS:
        check(re.search(r"^\.B %s$" % var, env, re.M), path, f"environment {var} missing")
    for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT",
                "FILES", "EXAMPLES"):
        check(f".SH {sec}\n" in plain, path, f"section {sec} missing")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", help="the built refresher (for --help and its libraries)")
    args = ap.parse_args()
    max_runtime, upstream_timeout = config_limits()
    check_refresh_workflow(".github/workflows/refresh.yml", max_runtime)
    check_ci_workflow(".github/workflows/ci.yml")
    check_action("deploy/github/action.yml")
    shellcheck_workflows([".github/workflows/refresh.yml", ".github/workflows/ci.yml"])
    check_systemd("deploy/systemd/refresher.service", "deploy/systemd/refresher.timer",
                  max_runtime, upstream_timeout)
    check_crontab("deploy/crontab")
    check_k8s("deploy/k8s/cronjob.yaml", "deploy/k8s/indexed-job.yaml", max_runtime,
              upstream_timeout)
    check_dockerfile("deploy/Dockerfile", args.binary)
    check_man("deploy/man/refresher.1", args.binary)
    print(f"check_deploy: {CHECKS} checks, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
