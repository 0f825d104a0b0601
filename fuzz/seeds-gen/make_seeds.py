#!/usr/bin/env python3
"""Writes the committed seed corpora (fuzz/corpus/<target>/seed-*). Re-run after edits:
python3 fuzz/seeds-gen/make_seeds.py"""
import os, struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus")
CAPTURED = os.path.join(HERE, "captured")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def mask(key, payload):
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def frame(op, payload, fin=True, key=None, rsv=0, force_len=None):
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload) if force_len is None else force_len
    m = 0x80 if key else 0
    if n <= 125:
        head = bytes([b0, m | n])
    elif n <= 0xFFFF:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if key:
        return head + bytes(key) + mask(key, payload)
    return head + payload


K = (0x37, 0xFA, 0x21, 0x3D)
# RFC 6455 section 5.7 examples.
RFC = {
    "rfc5.7-unmasked-hello": b"\x81\x05\x48\x65\x6c\x6c\x6f",
    "rfc5.7-masked-hello": b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
    "rfc5.7-fragment-1": b"\x01\x03\x48\x65\x6c",
    "rfc5.7-fragment-2": b"\x80\x02\x6c\x6f",
    "rfc5.7-ping": b"\x89\x05\x48\x65\x6c\x6c\x6f",
    "rfc5.7-masked-pong": b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
    "rfc5.7-256-binary": b"\x82\x7e\x01\x00" + bytes(256),
    "rfc5.7-64k-binary-header": b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
}
EXTRA = {
    "len-2pow63": b"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00",
    "len-10gib-masked": b"\x82\xff" + struct.pack(">Q", 10 << 30) + bytes(K),
    "close-1000-masked": frame(8, b"\x03\xe8bye", key=K),
    "rsv1": frame(1, b"x", rsv=4),
    "reserved-op-3": bytes([0x83, 0]),
    "fragmented-ping": bytes([0x09, 0]),
    "ping-126": bytes([0x89, 126, 0, 126]),
}
for name, data in {**RFC, **EXTRA}.items():
    write("frame_header", name, data)

for name, data in {
    "empty": b"",
    "1000": b"\x03\xe8",
    "1000-bye": b"\x03\xe8bye",
    "1001-utf8": b"\x03\xe9" + "κόσμε".encode(),
    "4000-ok": b"\x0f\xa0ok",
    "1005-local-only": b"\x03\xed",
    "999": b"\x03\xe7",
    "one-byte": b"\x03",
    "bad-utf8": b"\x03\xe8\xff\xfe",
    "123-reason": b"\x03\xe8" + b"r" * 123,
}.items():
    write("close_payload", name, data)

RFC_REQUEST = (b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               b"Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
               b"Sec-WebSocket-Version: 13\r\n\r\n")
requests = {"rfc1.3": RFC_REQUEST}
for f in sorted(os.listdir(CAPTURED)):
    if f.endswith(".request"):
        requests[f[: -len(".request")]] = open(os.path.join(CAPTURED, f), "rb").read()
requests["chromium-then-frame"] = requests["chromium"] + RFC["rfc5.7-masked-hello"]
requests["http10"] = b"GET / HTTP/1.0\r\nHost: h\r\n\r\n"
requests["version-8"] = RFC_REQUEST.replace(b"Version: 13", b"Version: 8")
requests["post"] = RFC_REQUEST.replace(b"GET", b"POST")
# Requests without Upgrade, answered by the application: a page (even path length) and
# a refusal (odd), as the fuzz body decides; and a head cut short.
requests["page-get"] = b"GET /index.html?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
requests["page-404"] = b"GET /nope HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"
requests["partial"] = RFC_REQUEST[:100]
for name, data in requests.items():
    write("handshake_request", name, data)

# request_parser (wscodec's request parser against httparse): byte 0 = header array size
# (modulo 41), byte 1 = where the second comparison cuts the request (255: all of it).
for name, data in requests.items():
    write("request_parser", name, b"\x20\xff" + data)
for name, data in {
    "too-many-headers": b"\x02\xff" + RFC_REQUEST,
    "no-header-slots": b"\x00\xff" + b"GET / HTTP/1.1\r\n\r\n",
    "half": b"\x20\x80" + RFC_REQUEST,
    "bare-lf": b"\x20\xff\nGET / HTTP/1.1\nHost: h\nX:\t a \t\n\n",
    "obs-text": b"\x20\xffGET /\xc3\xa9 HTTP/1.1\r\nX: \x80\xff\r\nY:\r\n\r\n",
    "cr-without-lf": b"\x20\xffGET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
    "bad-name": b"\x20\xffGET / HTTP/1.1\r\nX(y): a\r\n\r\n",
    "tokens": b"\x20\xffM-SEARCH * HTTP/1.0\r\nX_Y.z~1: a\r\n\r\n",
    "long-value": b"\x20\xffGET / HTTP/1.1\r\nX: " + b"v" * 200 + b"\r\n\r\n",
}.items():
    write("request_parser", name, data)

RFC_RESPONSE = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n")
responses = {
    # flags bit 0: the RFC sample nonce; bits 1-2: offered protocols (2 = chat, superchat)
    "rfc1.3": b"\x05" + RFC_RESPONSE,
    "rfc1.3-no-protocol": b"\x01" + RFC_RESPONSE.replace(b"Sec-WebSocket-Protocol: chat\r\n", b""),
    "rfc1.3-then-frame": b"\x05" + RFC_RESPONSE + RFC["rfc5.7-unmasked-hello"],
    "404": b"\x00" + bytes(16) + b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    "extension": b"\x01" + RFC_RESPONSE.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
}
for f in sorted(os.listdir(CAPTURED)):
    if f.endswith(".response"):
        # captured responses answer the key in the matching .nonce file
        base = f[: -len(".response")]
        nonce = open(os.path.join(CAPTURED, base + ".nonce"), "rb").read()
        responses[base] = b"\x00" + nonce + open(os.path.join(CAPTURED, f), "rb").read()
for name, data in responses.items():
    write("handshake_response", name, data)


def feed(data):
    out = b""
    while data:
        chunk, data = data[:255], data[255:]
        out += b"\x00" + bytes([len(chunk)]) + chunk
    return out


def split_feed(data, every):
    return b"".join(b"\x00" + bytes([len(data[i:i + every])]) + data[i:i + every]
                    for i in range(0, len(data), every))


POLL = b"\x03\xff"  # poll_transmit into 255 bytes
for role, key in (("server_connection", K), ("client_connection", None)):
    f = lambda op, p, fin=True: frame(op, p, fin=fin, key=key)
    stream = (f(1, b"Hello") + f(9, b"ping") + f(1, b"Hel", False) + f(10, b"") + f(0, b"lo")
              + f(2, bytes(range(200))) + f(8, b"\x03\xe8bye"))
    for mode in (0, 1):  # reassembly, streaming
        write(role, f"rfc-stream-mode{mode}", bytes([mode, 40]) + feed(stream) + POLL + POLL)
        write(role, f"rfc-stream-split3-mode{mode}", bytes([mode, 40]) + split_feed(stream, 3) + POLL)
    sends = (b"\x01\x40\x10" + b"\x09\x40\x20" + b"\x02\x40\x05\x00" + b"\x0a\x40\x05\x01"
             + b"\x05\x10" + b"\x04\x00\x03")
    write(role, "sends-then-close", bytes([0, 40]) + sends + feed(f(8, b"\x03\xe8")) + POLL)
    write(role, "peer-close-then-reply", bytes([0, 40]) + feed(f(8, b"\x03\xe9x")) + POLL + b"\x01\x40\x05")
    write(role, "bad-utf8", bytes([0, 40]) + feed(f(1, b"\xce", False) + f(0, b"\xff")) + POLL)
    write(role, "too-big", bytes([2, 4]) + feed(f(2, bytes(100))) + POLL)
    write(role, "2pow63", bytes([0, 40]) + feed(b"\x82\x7f\x80" + bytes(7)) + POLL)
    write(role, "ping-flood", bytes([0, 40]) + feed(f(9, b"a") * 30) + POLL * 3)

# roundtrip: flags (bit0 sender server, bit1 text, bit2 streaming), fragment size, chunk
for name, data in {
    "binary-whole": b"\x00\x00\x00" + bytes(range(256)),
    "text-frag7-chunk3": b"\x02\x07\x03" + b"Hello, fragmented world",
    "server-stream-frag1": b"\x05\x01\x01" + b"abc",
    "empty-fragmented": b"\x02\x05\x00",
    "large": b"\x00\x00\x40" + bytes(1000),
}.items():
    write("roundtrip", name, data)

# differential: byte 0 bit 0 = client role (0: server)
for name, data in RFC.items():
    masked = "masked" in name
    write("differential_frames", name, (b"\x00" if masked else b"\x01") + data)
for name, data in {
    "server-stream": b"\x00" + frame(1, b"Hel", False, key=K) + frame(9, b"p", key=K) + frame(0, b"lo", key=K) + frame(8, b"\x03\xe8", key=K),
    "client-stream": b"\x01" + frame(2, b"abc") + frame(10, b"") + frame(8, b""),
    "2pow63": b"\x00" + EXTRA["len-2pow63"],
    "bad-close-code": b"\x01" + frame(8, b"\x03\xed"),
    "bad-utf8-fragment": b"\x01" + frame(1, b"\xff", False),
    "rsv": b"\x01" + EXTRA["rsv1"],
    "unmasked-to-server": b"\x00" + RFC["rfc5.7-unmasked-hello"],
}.items():
    write("differential_frames", name, data)

# permessage-deflate: negotiation. Byte 0 is this end (window bits in the low nibble, 0x10
# streaming, 0x20 no compressor), then Sec-WebSocket-Extensions lines split at "\n".
NEGOTIATION = {
    "chrome": "permessage-deflate; client_max_window_bits",
    "firefox": "permessage-deflate",
    "python": "permessage-deflate; client_max_window_bits",
    "autobahn-13.7": "permessage-deflate; client_no_context_takeover; client_max_window_bits; "
    "server_no_context_takeover; server_max_window_bits=9, permessage-deflate; "
    "client_no_context_takeover; client_max_window_bits; server_no_context_takeover, "
    "permessage-deflate; client_no_context_takeover; client_max_window_bits",
    "two-lines": "x-webkit-deflate-frame\npermessage-deflate; server_max_window_bits=10",
    "quoted": 'foo; a="x, y; z", permessage-deflate; client_max_window_bits="1\\2"',
    "bad-then-good": "permessage-deflate; x=1, permessage-deflate; server_no_context_takeover",
    "values": "permessage-deflate; server_max_window_bits=08; client_max_window_bits=16",
    "duplicate": "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
    "syntax": "permessage-deflate;; =",
    "unterminated": 'permessage-deflate; a="x',
    "answer-all": "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
    "server_max_window_bits=15; client_max_window_bits=8",
    "answer-twice": "permessage-deflate, permessage-deflate",
    "answer-no-value": "permessage-deflate; client_max_window_bits",
}
for name, header in NEGOTIATION.items():
    for mode in (0x0F, 0x1C, 0x00, 0x38):
        write("deflate_negotiation", f"{name}-{mode:02x}", bytes([mode]) + header.encode())


# permessage-deflate: hostile compressed messages. Byte 0: bit 0 streaming, bit 1 context
# takeover, bits 2-3 window (256 B, 4 KiB, 32 KiB, none); byte 1: limit (bits 0-5, KiB x4)
# and read size (bits 6-7); then messages `len_hi len_lo flags payload` (flags: 1 two
# frames, 2 text, 4 no RSV1, 8 a ping between the frames).
import zlib


def deflated(data, level=6, wbits=-15, strip=True):
    c = zlib.compressobj(level, zlib.DEFLATED, wbits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if strip else out


def msg(payload, flags=0):
    return struct.pack(">H", len(payload)) + bytes([flags]) + payload


HELLO = bytes.fromhex("f248cdc9c90700")
BITS_BAD_DISTANCE = bytes.fromhex("4a04620000")  # fixed Huffman: "a", then a match 4 back
zeros = deflated(bytes(1 << 20), 9)
INFLATE = {
    "rfc-hello": msg(HELLO, 2) + msg(bytes.fromhex("f200110000"), 2),
    "rfc-fragmented": msg(HELLO, 3 | 8),
    "rfc-stored": msg(bytes.fromhex("000500faff48656c6c6f00"), 2),
    "rfc-bfinal": msg(bytes.fromhex("f348cdc9c9070000"), 2),
    "rfc-two-blocks": msg(bytes.fromhex("f248050000ffffcac9c90700"), 2),
    "json": msg(deflated(b'{"sensor": 1, "value": 21.5}, ' * 200), 2) * 2,
    "binary-uncompressed-between": msg(deflated(bytes(range(256)) * 8)) + msg(b"plain", 4) + msg(deflated(b"x" * 300), 1),
    "bomb": msg(zeros[:4000]),
    "bomb-fragmented": msg(zeros[:4000], 1),
    "truncated": msg(deflated(b"Hello, Hello, Hello, Hello")[:-3], 2),
    "no-empty-block": msg(bytes.fromhex("000500faff48656c6c6f")),
    "bad-distance": msg(BITS_BAD_DISTANCE),
    "bad-block-type": msg(b"\x07\x00"),
    "bad-stored-length": msg(b"\x00\x05\x00\x00\x00hello"),
    "after-final-block": msg(bytes.fromhex("f348cdc9c90700") + b"junk"),
    "bad-utf8": msg(deflated(b"a\xffb"), 2),
    "cut-utf8": msg(deflated("€".encode()[:2]), 2),
    "empty": msg(b"\x00", 2) + msg(b"", 2),
}
for name, script in INFLATE.items():
    for mode, limit in ((0x00, 0x01), (0x03, 0x45), (0x06, 0x8f), (0x0a, 0xc3), (0x0d, 0x00)):
        write("deflate_inflate", f"{name}-{mode:02x}", bytes([mode, limit]) + script)


# inflate_differential: the script of deflate_inflate, but byte 0 bits 2-3 pick a window of
# 32 KiB, 40,000 B, 64 KiB or none, and bit 4 the client role. Hand-made DEFLATE data (the
# issue's cases: references before the start of the stream, reserved codes, bad stored
# lengths), written bit by bit as RFC 1951 section 3.1.1 orders them. The Autobahn
# section 12 and 13 seeds are written by capture_autobahn.py.
class Bits:
    def __init__(self):
        self.bits = []

    def field(self, value, n):  # least significant bit first
        self.bits += [(value >> i) & 1 for i in range(n)]
        return self

    def code(self, value, n):  # Huffman codes: most significant bit first
        self.bits += [(value >> i) & 1 for i in reversed(range(n))]
        return self

    def fixed(self, final=0):
        return self.field(final, 1).field(1, 2)

    def lit(self, data):
        for b in data:
            assert b < 144
            self.code(0x30 + b, 8)
        return self

    def match(self, length, dist):
        if length == 258:
            self.code(0xC5, 8)  # symbol 285
        else:
            assert 3 <= length <= 10
            self.code(length - 2, 7)  # symbols 257-264
        d = dist - 1
        if d < 4:
            return self.code(d, 5)
        top = d.bit_length() - 1
        extra = top - 1
        return self.code(2 * top + ((d >> extra) & 1), 5).field(d & ((1 << extra) - 1), extra)

    def end_sync(self):
        """End of block, then the start of a sync flush's empty stored block."""
        self.code(0, 7).field(0, 3)
        return self.bytes()

    def bytes(self):
        bits = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(sum(bits[i + j] << j for j in range(8)) for i in range(0, len(bits), 8))


def B():
    return Bits()


wrap = B().fixed().lit(b"a")
for _ in range(130):
    wrap.match(258, 1)
HOSTILE = {
    "match-first": msg(B().fixed().match(3, 1).end_sync()),
    "a-then-3-at-2": msg(B().fixed().lit(b"a").match(3, 2).end_sync()),
    "ab-then-3-at-2": msg(B().fixed().lit(b"ab").match(3, 2).end_sync(), 2),
    "ab-then-10-at-32768": msg(B().fixed().lit(b"ab").match(10, 32768).end_sync()),
    "context-back-2": msg(B().fixed().lit(b"ab").end_sync()) + msg(B().fixed().match(3, 2).end_sync()),
    "context-back-3": msg(B().fixed().lit(b"ab").end_sync()) + msg(B().fixed().match(3, 3).end_sync()),
    "final-then-back": msg(B().fixed(1).lit(b"abc").code(0, 7).bytes() + B().fixed().match(3, 3).end_sync()),
    "wrap-then-32768": msg(wrap.match(3, 32768).end_sync()),
    "reserved-block-type": msg(b"\x07\x00"),
    "stored-nlen-mismatch": msg(b"\x00\x05\x00\x00\x00hello"),
    "fixed-symbol-286": msg(B().fixed().lit(b"a").code(0xC6, 8).end_sync()),
    "fixed-distance-30": msg(B().fixed().lit(b"a").code(1, 7).code(30, 5).end_sync()),
    # A dynamic block whose code length code gives four symbols one bit each.
    "over-subscribed": msg(B().field(0, 1).field(2, 2).field(0, 5).field(0, 5).field(0, 4)
                           .field(1, 3).field(1, 3).field(1, 3).field(1, 3).bytes() + b"\0\0"),
    "rfc-hello-twice": msg(HELLO, 2) + msg(bytes.fromhex("f200110000"), 2),
    "rfc-bfinal": msg(bytes.fromhex("f348cdc9c9070000"), 2),
    "empty": msg(b"\x00", 2) + msg(b"", 2),
    "uncompressed-between": msg(deflated(b"abcabc" * 50)) + msg(b"plain", 4 | 2) + msg(deflated(b"abc" * 9), 1 | 8),
}
# Reassembly or streaming, context or not, each window, both roles.
for name, script in HOSTILE.items():
    for mode in (0x00, 0x02, 0x0C, 0x05, 0x0B, 0x12, 0x17):
        write("inflate_differential", f"{name}-{mode:02x}", bytes([mode, 0x3F]) + script)
