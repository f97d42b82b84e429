#!/usr/bin/python3
"""Run aiosmtpd (Debian's python3-aiosmtpd) on three loopback ports for the
integration-test rig (started by start.sh).

This file is only start-up glue: the SMTP server, STARTTLS, implicit TLS and
the AUTH PLAIN / AUTH LOGIN mechanisms are aiosmtpd's own code. Messages are
stored byte for byte (as received after dot-unstuffing) in a Maildir, with
envelope headers prepended:

  X-Peer-Port: <port>        X-Peer-TLS: <TLS version or none>
  X-Peer-Auth: <user or ->   X-Envelope-From: <...>   X-Envelope-To: <...> (one per rcpt)
  X-Envelope-Mail-Options / X-Envelope-SMTPUTF8

Ports: --plain (no TLS, AUTH allowed in clear, auth optional),
       --starttls (STARTTLS required, AUTH required),
       --smtps (implicit TLS, AUTH required).
"""
import argparse
import asyncio
import logging
import mailbox
import os
import signal
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def load_users(path):
    users = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            user, _, password = line.partition(":")
            users[user.encode("utf-8")] = password.encode("utf-8")
    return users


class Authenticator:
    def __init__(self, users):
        self.users = users

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = self.users.get(auth_data.login) == auth_data.password
        return AuthResult(success=ok, handled=False,
                          auth_data=auth_data.login.decode("utf-8", "replace") if ok else None)


class MaildirHandler:
    def __init__(self, path):
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)
        self.md = mailbox.Maildir(path, create=False)

    async def handle_DATA(self, server, session, envelope):
        tls = "none"
        ssl_obj = None
        if server.transport is not None:
            ssl_obj = server.transport.get_extra_info("ssl_object")
        if ssl_obj is not None:
            tls = ssl_obj.version() or "unknown"
        sockname = server.transport.get_extra_info("sockname") if server.transport else None
        port = sockname[1] if sockname else "?"
        hdr = [
            f"X-Peer-Port: {port}",
            f"X-Peer-TLS: {tls}",
            f"X-Peer-Auth: {session.auth_data if session.authenticated else '-'}",
            f"X-Envelope-From: <{envelope.mail_from}>",
        ]
        hdr += [f"X-Envelope-To: <{r}>" for r in envelope.rcpt_tos]
        if envelope.mail_options:
            hdr.append("X-Envelope-Mail-Options: " + " ".join(envelope.mail_options))
        if envelope.smtp_utf8:
            hdr.append("X-Envelope-SMTPUTF8: yes")
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        raw = ("\r\n".join(hdr) + "\r\n").encode("utf-8") + content
        self.md.add(raw)
        return "250 2.0.0 OK: queued as aiosmtpd"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--plain", type=int, required=True)
    ap.add_argument("--starttls", type=int, required=True)
    ap.add_argument("--smtps", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--log", default=None)
    ap.add_argument("--hostname", default="aiosmtpd.example.test")
    a = ap.parse_args()

    logging.basicConfig(filename=a.log, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit("refusing to listen on a non-loopback address")

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)

    handler = MaildirHandler(a.maildir)
    auth = Authenticator(load_users(a.users))
    common = dict(hostname=a.hostname, enable_SMTPUTF8=True, authenticator=auth,
                  data_size_limit=104857600, ident="aiosmtpd (smtp test rig)")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory(**kw):
        return lambda: SMTP(handler, loop=loop, **common, **kw)

    servers = [
        loop.run_until_complete(loop.create_server(
            factory(auth_require_tls=False), a.host, a.plain)),
        loop.run_until_complete(loop.create_server(
            factory(tls_context=ctx, require_starttls=True, auth_required=True),
            a.host, a.starttls)),
        # implicit TLS: aiosmtpd does not see the TLS layer as "STARTTLS
        # done", so auth_require_tls must be off for AUTH to be offered.
        loop.run_until_complete(loop.create_server(
            factory(auth_require_tls=False, auth_required=True),
            a.host, a.smtps, ssl=ctx)),
    ]
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    logging.info("aiosmtpd peer listening on %s: plain %d, starttls %d, smtps %d",
                 a.host, a.plain, a.starttls, a.smtps)
    loop.run_until_complete(stop)
    for s in servers:
        s.close()
    loop.run_until_complete(asyncio.sleep(0))


if __name__ == "__main__":
    main()
