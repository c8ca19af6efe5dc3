"""Reference: ironic-staging-drivers' Intel Node Manager codec (`nm_commands`).

The sdist is downloaded at bench time into the cache directory (never committed)
and `nm_commands` is imported with `ironic.common.exception` (and `oslo_log`,
when absent) stubbed by small modules, as the issue asks. Each operation is the
request build plus, for commands with a reply, the parse of the reply as the
vendor passthru received it from ipmitool (a list of hex strings); acknowledged
commands only build the request, as `nm_vendor` did.
"""

import glob
import logging
import os
import subprocess
import sys
import tarfile
import types

from common import Report, cache_dir

PACKAGE = "ironic-staging-drivers"


def fetch(report):
    cache = os.path.join(cache_dir(), "ironic-staging-drivers")
    os.makedirs(cache, exist_ok=True)
    trees = sorted(glob.glob(os.path.join(cache, "ironic-staging-drivers-*/ironic_staging_drivers")))
    if trees:
        return os.path.dirname(trees[-1])
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--quiet", PACKAGE, "-d", cache]
    try:
        subprocess.run(pip, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=300)
    except (subprocess.SubprocessError, OSError) as e:
        report.miss(f"{PACKAGE} sdist (download failed: {e}; needs network and pip: "
                    f"{sys.executable} -m pip download --no-deps --no-binary :all: {PACKAGE} -d {cache})")
        return None
    for sdist in glob.glob(os.path.join(cache, "ironic-staging-drivers-*.tar.gz")):
        with tarfile.open(sdist) as t:
            members = [m for m in t.getmembers()
                       if "/ironic_staging_drivers/intel_nm/" in m.name
                       or m.name.endswith("/ironic_staging_drivers/common/exception.py")
                       or m.name.endswith("/ironic_staging_drivers/common/i18n.py")]
            t.extractall(cache, members=members, filter="data")
    trees = sorted(glob.glob(os.path.join(cache, "ironic-staging-drivers-*/ironic_staging_drivers")))
    return os.path.dirname(trees[-1]) if trees else None


def stub_modules():
    class IronicException(Exception):
        _msg_fmt = "An unknown exception occurred."

        def __init__(self, message=None, **kwargs):
            super().__init__(message or (self._msg_fmt % kwargs if kwargs else self._msg_fmt))

    class IPMIFailure(IronicException):
        _msg_fmt = "IPMI call failed: %(cmd)s."

    exc = types.ModuleType("ironic.common.exception")
    exc.IronicException = IronicException
    exc.IPMIFailure = IPMIFailure
    ironic = types.ModuleType("ironic")
    ironic.__path__ = []
    common = types.ModuleType("ironic.common")
    common.__path__ = []
    common.exception = exc
    ironic.common = common
    sys.modules.update({"ironic": ironic, "ironic.common": common,
                        "ironic.common.exception": exc})
    try:
        import oslo_log  # noqa: F401
    except ImportError:
        log = types.ModuleType("oslo_log.log")
        log.getLogger = logging.getLogger
        pkg = types.ModuleType("oslo_log")
        pkg.log = log
        sys.modules.update({"oslo_log": pkg, "oslo_log.log": log})
    # The package's __init__ pulls pbr metadata; an empty package avoids it.
    return


def load(root):
    stub_modules()
    pkg = types.ModuleType("ironic_staging_drivers")
    pkg.__path__ = [os.path.join(root, "ironic_staging_drivers")]
    sys.modules["ironic_staging_drivers"] = pkg
    for sub in ("common", "intel_nm"):
        m = types.ModuleType("ironic_staging_drivers." + sub)
        m.__path__ = [os.path.join(root, "ironic_staging_drivers", sub)]
        sys.modules["ironic_staging_drivers." + sub] = m
    import importlib
    return importlib.import_module("ironic_staging_drivers.intel_nm.nm_commands")


def hexlist(*body):
    """An ipmitool reply (Intel ID then `body`) as nm_vendor split it."""
    return ["%02x" % b for b in (0x57, 0x01, 0x00) + body]


def main():
    report = Report()
    root = fetch(report)
    if root is None:
        report.emit()
        return
    try:
        nm = load(root)
    except ImportError as e:
        report.miss(f"nm_commands import ({e}; install oslo.i18n: .venv/bin/pip install oslo.i18n)")
        report.emit()
        return
    report.notes.append("ironic-staging-drivers from " + root)

    version = hexlist(0x05, 0x03, 0x07, 0x01, 0x02)
    caps_q = {"domain_id": "platform", "policy_trigger": "none", "power_domain": "primary"}
    caps = hexlist(0x10, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0x80, 0)
    ctl = {"enable": True, "scope": "policy", "domain_id": "platform", "policy_id": 123}
    policy = {"domain_id": "platform", "enable": True, "policy_id": 123,
              "policy_trigger": "temperature", "action": "alert", "power_domain": "primary",
              "target_limit": 1000, "correction_time": 2000, "trigger_limit": 100,
              "reporting_period": 600}
    pref = {"domain_id": "platform", "policy_id": 123}
    pol = hexlist(0x70, 0x00, 0x00, 0x02, 0xFF, 0x00, 0x01, 0x02, 0x00, 0x01, 0x20, 0x40, 0x01)
    suspend = dict(pref, periods=[{"start": 20, "stop": 100, "days": ["monday", "tuesday"]},
                                  {"start": 30, "stop": 150, "days": ["friday", "sunday"]}])
    sus = hexlist(0x02, 0x08, 0x18, 0x03, 0x20, 0x50, 0x18)
    sq = {"scope": "global", "parameter_name": "power", "domain_id": "platform"}
    stats = hexlist(0x80, 0x00, 0x20, 0x00, 0xF0, 0x00, 0x60, 0x00, 0x00, 0x01, 0x20, 0x40,
                    0x01, 0x01, 0x00, 0x00, 0xF0)
    reset = {"scope": "policy", "domain_id": "platform", "policy_id": 111}

    ops = {
        "get_nm_version": lambda: (nm.get_version({}), nm.parse_version(version)),
        "get_nm_capabilities": lambda: (nm.get_capabilities(caps_q), nm.parse_capabilities(caps)),
        "control_nm_policy": lambda: nm.control_policies(ctl),
        "set_nm_policy": lambda: nm.set_policy(policy),
        "get_nm_policy": lambda: (nm.get_policy(pref), nm.parse_policy(pol)),
        "remove_nm_policy": lambda: nm.remove_policy(pref),
        "set_nm_policy_suspend": lambda: nm.set_policy_suspend(suspend),
        "get_nm_policy_suspend": lambda: (nm.get_policy_suspend(pref),
                                          nm.parse_policy_suspend(sus)),
        "remove_nm_policy_suspend": lambda: nm.remove_policy_suspend(pref),
        "get_nm_statistics": lambda: (nm.get_statistics(dict(sq)), nm.parse_statistics(stats)),
        "reset_nm_statistics": lambda: nm.reset_statistics(dict(reset)),
    }
    for name, fn in ops.items():
        report.time("nm/" + name, fn)
    report.emit()


if __name__ == "__main__":
    main()
