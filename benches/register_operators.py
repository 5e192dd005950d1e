#!/usr/bin/env python3
"""Registers operators with acdd over UDP with MD5 digest auth (RFC 2617,
qop=auth), one after another: REGISTER, 401, REGISTER with credentials, 200.
Used by benches/call-load.sh and benches/soak.sh (SIPp 3.6 cannot take a
digest username from an injection file).

Usage: register_operators.py HOST:PORT FILE   (FILE: lines "USER;PASSWORD;CONTACT_PORT")
Exits 1 naming the first operator that did not get 200."""

import hashlib
import re
import socket
import sys


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    target = (host, int(port))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    local = "%s:%d" % sock.getsockname()
    uri = "sip:%s" % sys.argv[1]
    count = 0
    for number, line in enumerate(open(sys.argv[2])):
        line = line.strip()
        if not line or ";" not in line:
            continue
        user, password, contact_port = line.split(";")

        def request(cseq, extra=""):
            return (
                f"REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-r{number}-{cseq}\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:{user}@{sys.argv[1]}>;tag=r{number}\r\nTo: <sip:{user}@{sys.argv[1]}>\r\n"
                f"Call-ID: reg-{number}@bench\r\nCSeq: {cseq} REGISTER\r\n"
                f"Contact: <sip:{user}@127.0.0.1:{contact_port}>\r\nExpires: 3600\r\n{extra}Content-Length: 0\r\n\r\n"
            ).encode()

        def exchange(data, cseq):
            for _ in range(5):
                sock.sendto(data, target)
                try:
                    while True:
                        reply = sock.recv(65535).decode(errors="replace")
                        if f"CSeq: {cseq} REGISTER" in reply:
                            return reply
                except socket.timeout:
                    continue
            sys.exit(f"{user}: no answer from {sys.argv[1]}")

        challenge = exchange(request(1), 1)
        fields = dict(re.findall(r'(\w+)="?([^",\r\n]*)"?', challenge.split("WWW-Authenticate:", 1)[-1].split("\r\n")[0]))
        if not challenge.startswith("SIP/2.0 401") or "nonce" not in fields:
            sys.exit(f"{user}: expected a 401 challenge, got: {challenge.splitlines()[0]}")
        realm, nonce, cnonce, nc = fields["realm"], fields["nonce"], "b%x" % number, "00000001"
        ha1 = md5(f"{user}:{realm}:{password}")
        ha2 = md5(f"REGISTER:{uri}")
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        authorization = (
            f'Authorization: Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{response}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"\r\n'
        )
        reply = exchange(request(2, authorization), 2)
        if not reply.startswith("SIP/2.0 200"):
            sys.exit(f"{user}: registration refused: {reply.splitlines()[0]}")
        count += 1
    print(count)


if __name__ == "__main__":
    main()
