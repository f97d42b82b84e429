"""Verifies the first DKIM signature of a message on stdin with dkimpy.

argv[1]: the DNS TXT record to answer with (v=DKIM1; k=...; p=...), so no
DNS is involved. Exit 0 and "pass", or exit 1 and "fail: <reason>".
"""
import re
import sys

try:
    import dkim
except ImportError:
    sys.stderr.write("python3-dkim is missing: run scripts/peers/install.sh "
                     "(or apt-get install python3-dkim)\n")
    sys.exit(3)

record = sys.argv[1].encode()
# Maildir stores LF line ends; DKIM is defined over the CRLF form.
message = re.sub(rb"\r?\n", b"\r\n", sys.stdin.buffer.read())


def dnsfunc(name, timeout=5):
    return record


d = dkim.DKIM(message)
try:
    ok = d.verify(dnsfunc=dnsfunc)
except dkim.DKIMException as e:
    print("fail: %s" % e)
    sys.exit(1)
print("pass" if ok else "fail: signature mismatch")
sys.exit(0 if ok else 1)
