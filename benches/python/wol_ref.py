"""Reference: PyPI `wakeonlan` building a magic packet from a MAC string.

`create_magic_packet` parses the MAC (separators stripped, hex decoded) and builds
the 102-byte packet; that is what a user calls before sending, so the Rust side of
the ratio also parses the MAC string.
"""

from common import Report

MAC = "52:54:00:cf:2d:31"


def main():
    report = Report()
    try:
        from wakeonlan import create_magic_packet
    except ImportError:
        report.miss("wakeonlan (install with .venv/bin/pip install -r .ci/bench-requirements.txt)")
        report.emit()
        return
    packet = create_magic_packet(MAC)
    assert packet == b"\xff" * 6 + bytes.fromhex("525400cf2d31") * 16, packet
    report.time("wol/parse_mac+magic_packet", lambda: create_magic_packet(MAC))
    report.emit()


if __name__ == "__main__":
    main()
