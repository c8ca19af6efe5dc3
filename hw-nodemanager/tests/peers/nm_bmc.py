"""A third-party BMC for hwctl-nodemanager's peer tests: pyghmi's ipmi.bmc.Bmc (RMCP+,
cipher suite 3) on 127.0.0.1, extended with

- an SDR repository (Reserve SDR 0x0A/0x22, Get SDR 0x0A/0x23, Get SDR Repository Info
  0x0A/0x20) holding one sensor record and Intel Node Manager's OEM record
  (57 01 00 0D 01 <address> <channel << 4>), unless --no-sdr-record;
- Send Message (0x06/0x34) unwrapping: IPMB requests to the Node Manager
  (channel, address) are answered, embedded in the Send Message response;
- a small stateful Intel Node Manager (NetFn 0x2E) written from PROTOCOLS.md 2.8.

Prints "READY <port>" once listening. Stop it by killing its PID.
"""
import argparse
import socket
import struct
import sys
import time

import pyghmi.ipmi.bmc as bmc

MFG = [0x57, 0x01, 0x00]


def checksum(data):
    return (-sum(data)) & 0xFF


class NodeManager(object):
    def __init__(self):
        self.policies = {}
        self.suspend = {}
        self.global_enabled = True
        self.domain_enabled = {d: True for d in range(5)}
        self.stats = {}
        self.reads = 0

    def handle(self, cmd, data):
        if len(data) < 3 or list(data[:3]) != MFG:
            return 0xCC, []
        body = list(data[3:])
        fn = {0xCA: self.version, 0xC9: self.capabilities, 0xC0: self.control,
              0xC1: self.set_policy, 0xC2: self.get_policy,
              0xC5: self.set_suspend, 0xC6: self.get_suspend,
              0xC7: self.reset_stats, 0xC8: self.get_stats}.get(cmd)
        if fn is None:
            return 0xC1, []
        try:
            code, out = fn(body)
        except IndexError:
            return 0xC7, []
        return code, (MFG + out if code == 0 else [])

    def version(self, body):
        return 0, [0x04, 0x02, 0x03, 0x04, 0x01]   # NM 2.5, IPMI 2.0, patch 3, fw 4.1

    def capabilities(self, body):
        domain, trig = body[0] & 0x0F, body[1]
        if domain > 4:
            return 0x81, []
        out = [8] + list(struct.pack('<HHIIHH', 900, 50, 500, 300000, 1, 3600))
        return 0, out + [domain | (trig & 0x80)]

    def control(self, body):
        flags, domain, pid = body[0], body[1] & 0x0F, body[2]
        enable = bool(flags & 1)
        scope = flags & 0x06
        if scope == 0:
            self.global_enabled = enable
        elif scope == 2:
            self.domain_enabled[domain] = enable
        elif scope == 4:
            if (domain, pid) not in self.policies:
                return 0x80, []
            self.policies[(domain, pid)]['enabled'] = enable
        return 0, []

    def set_policy(self, body):
        domain, pid, flags = body[0] & 0x0F, body[1], body[2]
        if domain > 4:
            return 0x81, []
        if not flags & 0x10:
            if self.policies.pop((domain, pid), None) is None:
                return 0x80, []
            self.suspend.pop((domain, pid), None)
            return 0, []
        limit, corr, tlimit, period = struct.unpack('<HIHH', bytes(body[4:14]))
        self.policies[(domain, pid)] = {
            'enabled': bool(body[0] & 0x10), 'flags': flags & 0xEF,
            'action': body[3], 'values': (limit, corr, tlimit, period)}
        return 0, []

    def get_policy(self, body):
        key = (body[0] & 0x0F, body[1])
        p = self.policies.get(key)
        if p is None:
            return 0x80, []
        b0 = key[0] | (0x10 if p['enabled'] else 0) \
            | (0x20 if self.domain_enabled[key[0]] else 0) \
            | (0x40 if self.global_enabled else 0)
        return 0, [b0, p['flags'] | 0x10, p['action']] + \
            list(struct.pack('<HIHH', *p['values']))

    def set_suspend(self, body):
        key = (body[0] & 0x0F, body[1])
        if key not in self.policies:
            return 0x80, []
        n = body[2]
        periods = [body[3 + 3 * i:6 + 3 * i] for i in range(n)]
        if any(len(p) != 3 for p in periods):
            return 0xC7, []
        self.suspend[key] = periods
        return 0, []

    def get_suspend(self, body):
        key = (body[0] & 0x0F, body[1])
        if key not in self.policies:
            return 0x80, []
        periods = self.suspend.get(key, [])
        return 0, [len(periods)] + [b for p in periods for b in p]

    def reset_stats(self, body):
        mode, domain, pid = body[0], body[1] & 0x0F, body[2]
        self.stats = {k: v for k, v in self.stats.items()
                      if not (k[1] == domain and (mode == 0 or k[0] == mode
                                                   or (mode == 1 and k[2] == pid)))}
        return 0, []

    def get_stats(self, body):
        mode, domain, pid = body[0], body[1] & 0x0F, body[2]
        if mode >= 0x11 and (domain, pid) not in self.policies:
            return 0x80, []
        self.reads += 1
        cur = 200 + (self.reads * 7) % 50
        s = self.stats.setdefault((mode, domain, pid), [cur, cur, 0, 0, time.time()])
        s[0], s[1] = min(s[0], cur), max(s[1], cur)
        s[2] += cur
        s[3] += 1
        out = list(struct.pack('<HHHHII', cur, s[0], s[1], s[2] // s[3],
                               int(time.time()), int(time.time() - s[4])))
        return 0, out + [domain | 0x70]


class NmBmc(bmc.Bmc):
    def __init__(self, authdata, port, nm_channel, nm_address, sdr_record):
        super(NmBmc, self).__init__(authdata, port=port, address='127.0.0.1')
        self.powerstate = 'off'
        self.bootdevice = 'default'
        self.nm = NodeManager()
        self.nm_channel = nm_channel
        self.nm_address = nm_address
        # Another vendor's OEM record first: discovery must skip it.
        other = [0x01, 0x00, 0x51, 0xC0, 0x05, 0x5A, 0x01, 0x00, 0x0D, 0x01]
        self.sdr = [other]
        if sdr_record:
            body = MFG + [0x0D, 0x01, nm_address, nm_channel << 4, 0x00]
            self.sdr.append([0x02, 0x00, 0x51, 0xC0, len(body)] + body)

    def get_power_state(self):
        return self.powerstate

    def power_on(self):
        self.powerstate = 'on'

    def power_off(self):
        self.powerstate = 'off'

    def power_shutdown(self):
        self.powerstate = 'off'

    def power_cycle(self):
        self.powerstate = 'on'

    def power_reset(self):
        self.powerstate = 'on'

    def get_boot_device(self):
        return self.bootdevice

    def set_boot_device(self, bootdevice):
        self.bootdevice = bootdevice

    def storage(self, cmd, data, session):
        if cmd == 0x20:
            return session.send_ipmi_response(
                data=[0x51, len(self.sdr), 0, 0, 0] + [0] * 8 + [0x02])
        if cmd == 0x22:
            return session.send_ipmi_response(data=[0x01, 0x00])
        if cmd == 0x23:
            rid = data[2] | (data[3] << 8)
            offset, count = data[4], data[5]
            index = 0 if rid == 0 else rid - 1
            if index >= len(self.sdr):
                return session.send_ipmi_response(code=0xCB)
            rec = self.sdr[index]
            nxt = index + 2 if index + 1 < len(self.sdr) else 0xFFFF
            chunk = rec[offset:offset + count] if count != 0xFF else rec[offset:]
            return session.send_ipmi_response(
                data=[nxt & 0xFF, nxt >> 8] + chunk)
        return session.send_ipmi_response(code=0xC1)

    def send_message(self, data, session):
        channel = data[0] & 0x0F
        msg = list(data[1:])
        # rsSA, netFn/rsLUN, chk1, rqSA, rqSeq/rqLUN, cmd, data..., chk2
        if len(msg) < 7 or checksum(msg[0:2]) != msg[2] or \
                checksum(msg[3:-1]) != msg[-1]:
            return session.send_ipmi_response(code=0xCC)
        rs_sa, netfn, rq_sa, seq, cmd = msg[0], msg[1] >> 2, msg[3], msg[4], msg[5]
        if channel != self.nm_channel or rs_sa != self.nm_address:
            return session.send_ipmi_response(code=0x82)  # NAK on write
        if netfn == 0x2E:
            code, out = self.nm.handle(cmd, msg[6:-1])
        elif netfn == 0x06 and cmd == 0x01:
            code, out = 0, [0x50, 0x01, 0x04, 0x01, 0x02, 0x00] + MFG + [0, 0, 0]
        else:
            code, out = 0xC1, []
        head = [rq_sa, ((netfn | 1) << 2) | (seq & 0x03)]
        tail = [rs_sa, seq, cmd, code] + out
        resp = head + [checksum(head)] + tail + [checksum(tail)]
        return session.send_ipmi_response(data=resp)

    def handle_raw_request(self, request, session):
        netfn, cmd, data = request['netfn'], request['command'], list(request['data'])
        try:
            if netfn == 0x0A:
                return self.storage(cmd, data, session)
            if netfn == 0x06 and cmd == 0x34:
                return self.send_message(data, session)
            if netfn == 0x2E:
                code, out = self.nm.handle(cmd, data)
                return session.send_ipmi_response(code=code, data=out)
        except IndexError:
            return session.send_ipmi_response(code=0xC7)
        return super(NmBmc, self).handle_raw_request(request, session)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--user', default='admin')
    ap.add_argument('--password', default='password')
    ap.add_argument('--nm-channel', type=lambda s: int(s, 0), default=6)
    ap.add_argument('--nm-address', type=lambda s: int(s, 0), default=0x2C)
    ap.add_argument('--no-sdr-record', action='store_true')
    args = ap.parse_args()
    port = args.port
    if port == 0:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
    server = NmBmc({args.user: args.password}, port, args.nm_channel,
                   args.nm_address, not args.no_sdr_record)
    print('READY %d' % port, flush=True)
    server.listen()


if __name__ == '__main__':
    sys.exit(main())
