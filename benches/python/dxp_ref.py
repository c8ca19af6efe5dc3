"""Reference: a struct-based port of python-iboot's DxP framing.

Written for this project from the DxP facts in /work/shared/PROTOCOLS.md (2.5),
not from python-iboot's code: the 47-byte `<B21s21sBBH` header (command, user,
password, descriptor, 0, sequence) then the payload, built with `struct` in the
way the library frames a request, and the one-byte / per-relay replies decoded as
it reads them.
"""

import struct

from common import Report

IO = 3
CHANGE_RELAY = 1
GET_RELAYS = 4
HEADER = struct.Struct("<B21s21sBBH")


def header(user, password, descriptor, seq):
    return HEADER.pack(IO, user, password, descriptor, 0, seq)


def encode_change_relay(user, password, seq, relay, on):
    # python-iboot sends the header and the payload as one buffer built by concatenation.
    return header(user, password, CHANGE_RELAY, seq) + struct.pack("<BB", relay, 1 if on else 0)


def encode_get_relays(user, password, seq):
    return header(user, password, GET_RELAYS, seq)


def next_sequence(two_bytes):
    return (struct.unpack("<H", two_bytes)[0] + 1) & 0xFFFF


def decode_relays(data):
    return [b == 1 for b in struct.unpack("%dB" % len(data), data)]


def decode_change_relay_reply(byte):
    return not bool(byte)


def main():
    report = Report()
    frame = encode_change_relay(b"admin", b"fake", 1, 1, True)
    expected = bytes([3]) + b"admin".ljust(21, b"\0") + b"fake".ljust(21, b"\0") + bytes(
        [1, 0, 1, 0, 1, 1])
    assert frame == expected and len(frame) == 49, frame.hex()
    report.time("iboot/encode_change_relay",
                lambda: encode_change_relay(b"admin", b"fake", 0x1234, 3, True))
    report.time("iboot/encode_get_relays", lambda: encode_get_relays(b"admin", b"fake", 1))
    report.time("iboot/decode_sequence", lambda: next_sequence(b"\x33\x12"))
    relays = bytes([1, 0, 1, 0, 0, 1, 1, 0])
    report.time("iboot/decode_get_relays_8", lambda: decode_relays(relays))
    report.time("iboot/decode_change_relay_reply", lambda: decode_change_relay_reply(0))
    report.emit()


if __name__ == "__main__":
    main()
