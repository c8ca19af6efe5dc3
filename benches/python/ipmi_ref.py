"""Reference: pyghmi's RMCP+ packet path, encode and decode, integrity + AES.

A pyghmi `Session` is put in the state it reaches after a log-in (session keys
K1/K2 derived from a fixed SIK, integrity and confidentiality on, no socket) and
driven through its own methods: `_send_ipmi_net_payload` builds, encrypts and
signs a Get Chassis Status request (the transmit step is replaced by a no-op),
and `_handle_ipmi2_packet` checks, decrypts and parses a reply built here as a
BMC would (the reply's construction is not timed). Suite 3 is HMAC-SHA1-96 +
AES-CBC-128, suite 17 HMAC-SHA256-128 + AES-CBC-128.
"""

import hashlib
import hmac
import os
import struct

from common import Report

SID_BMC = 0x0A0B0C0D  # the BMC's session id (what the client sends)
SID_LOCAL = 2017673555  # pyghmi's local session id (what the BMC sends back)


def checksum(data):
    return (-sum(data)) & 0xFF


def make_session(suite):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: F401
    from pyghmi.ipmi.private import session as s

    hashlib_, hashlen = (hashlib.sha1, 12) if suite == 3 else (hashlib.sha256, 16)
    sess = object.__new__(s.Session)
    sess.maxtimeout = 3
    sess.logontries = 5
    sess._initsession()
    sess.servermode = False
    sess.request_entry = []
    sess.pendingpayloads = __import__("collections").deque()
    sess._customkeepalives = None
    sess.currhashlib = hashlib_
    sess.currhashlen = hashlen
    sik = hmac.new(b"bench kg", b"bench session", hashlib_).digest()
    sess.k1 = hmac.new(sik, b"\x01" * 20, hashlib_).digest()
    sess.k2 = hmac.new(sik, b"\x02" * 20, hashlib_).digest()
    sess.aeskey = sess.k2[:16]
    sess.sessionid = SID_BMC
    sess.integrityalgo = 1 if suite == 3 else 3
    sess.confalgo = "aes"
    sess.authtype = 6
    sess.ipmiversion = 2.0
    sess.sequencenumber = 1
    sess.sessioncontext = "ESTABLISHED"
    sess._xmit_packet = lambda *a, **k: None
    got = []
    sess.ipmicallback = got.append
    return s, sess, got


def bmc_reply(sess, seqlun, netfn, cmd, data):
    """An encrypted, signed reply as a BMC would send it to `sess`."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    head = bytes([0x81, ((netfn + 1) << 2)])
    body = bytes([0x20, seqlun << 2, cmd, 0x00]) + bytes(data)
    payload = head + bytes([checksum(head)]) + body + bytes([checksum(body)])
    padlen = (16 - (len(payload) + 1) % 16) % 16
    plain = payload + bytes(range(1, padlen + 1)) + bytes([padlen])
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(sess.aeskey), modes.CBC(iv)).encryptor()
    ct = iv + enc.update(plain) + enc.finalize()
    msg = bytearray(b"\x06\x00\xff\x07\x06\xc0")
    msg += struct.pack("<II", SID_LOCAL, 7) + struct.pack("<H", len(ct)) + ct
    pad = (4 - (len(msg) - 2) % 4) % 4
    msg += b"\xff" * pad + bytes([pad, 0x07])
    msg += hmac.new(sess.k1, bytes(msg[4:]), sess.currhashlib).digest()[: sess.currhashlen]
    return bytearray(msg)


def main():
    report = Report()
    try:
        import pyghmi  # noqa: F401
        import cryptography  # noqa: F401
    except ImportError:
        report.miss("pyghmi (install with .venv/bin/pip install pyghmi)")
        report.emit()
        return
    for suite in (3, 17):
        mod, sess, got = make_session(suite)
        reply = bmc_reply(sess, 0, 0x00, 0x01, [0x41, 0x00, 0x00, 0x00])

        def op(sess=sess, reply=reply):
            sess.seqlun = 0
            sess._send_ipmi_net_payload(netfn=0x00, command=0x01, data=(), retry=False)
            # decode consumes the packet (del payload[...]): give it a fresh copy
            sess._handle_ipmi2_packet(bytearray(reply))

        got.clear()
        op()
        if not got or got[-1].get("code") != 0 or bytes(got[-1]["data"]) != b"\x41\x00\x00\x00":
            report.miss(f"pyghmi suite {suite} packet path did not decode the reply ({got!r})")
            continue
        assert len(sess.netpacket) > 40
        report.time(f"ipmi/suite{suite}/get_chassis_status encode+decode", op)
    report.emit()


if __name__ == "__main__":
    main()
