"""Reference: an OCS power-status sweep as Ironic's msftocs driver made it.

Each operation is one `requests.get(<base>/GetBladeState?bladeId=N,
auth=HTTPBasicAuth(user, password))` (no session: a new connection per call, as
the driver's client did), `raise_for_status()`, then ElementTree parse and the
`completionCode` / `bladeState` reads; `--concurrency` worker threads share the
operations. The password comes from $HW_BENCH_PASSWORD. Prints one JSON line.
"""

import argparse
import json
import os
import posixpath
import sys
import threading
import time
from xml.etree import ElementTree

NS = "{http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--blades", type=int, required=True)
    ap.add_argument("--ops", type=int, required=True)
    ap.add_argument("--concurrency", type=int, required=True)
    args = ap.parse_args()
    try:
        import requests
        from requests.auth import HTTPBasicAuth
    except ImportError:
        print(json.dumps({"missing": "requests (install with .venv/bin/pip install requests)"}))
        return
    auth = HTTPBasicAuth(args.user, os.environ.get("HW_BENCH_PASSWORD", ""))
    lock = threading.Lock()
    state = {"next": 0, "failed": 0}

    def worker():
        while True:
            with lock:
                k = state["next"]
                state["next"] += 1
            if k >= args.ops:
                return
            url = posixpath.join(args.base_url, "GetBladeState?bladeId=%d" % (k % args.blades + 1))
            try:
                r = requests.get(url, auth=auth, timeout=30)
                r.raise_for_status()
                root = ElementTree.fromstring(r.text)
                code = root.find(".//" + NS + "completionCode")
                if code is None or code.text != "Success":
                    raise ValueError("completion code")
                root.find(".//" + NS + "bladeState").text
            except Exception:  # noqa: BLE001 - counted, like a failed node
                with lock:
                    state["failed"] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(max(1, args.concurrency))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - start
    print(json.dumps({"ops": args.ops, "failed": state["failed"], "seconds": secs,
                      "ops_per_s": args.ops / secs}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
