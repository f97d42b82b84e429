# shellcheck shell=bash
# Test PKI for the rig, made with openssl into $TLS (sourced by start.sh):
#   ca.pem/.key            test CA (PEERS_CA_CERT)
#   server.*               localhost, mail.example.test, aiosmtpd.example.test, 127.0.0.1, ::1
#   wrong-host.*           test CA, but only for wrong.example.test
#   expired.*              test CA, right names, valid 2020-01-01..02 only
#   selfsigned.*           right names, not from the test CA
#   client.*               client certificate (clientAuth) from the test CA, for the mTLS port
#   client-untrusted.*     self-signed client certificate the mTLS port must refuse
# Every *-chain.pem is leaf + CA, the form servers send. Keys are unencrypted
# and world-readable on purpose: they protect nothing but this rig.

make_certs() {
  local t="$TLS"
  rm -rf "$t"; mkdir -p "$t"; chmod 755 "$t"
  local ext="$t/ext.cnf"
  cat > "$ext" <<'EOF'
[srv_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, DNS:mail.example.test, DNS:aiosmtpd.example.test, IP:127.0.0.1, IP:::1
[wrong_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example.test
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:client.example.test, email:tester@example.test
[self_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:mail.example.test, IP:127.0.0.1, IP:::1
[self_client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.example.test
EOF
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -subj "/O=smtp test rig/CN=smtp test rig CA" \
    -keyout "$t/ca.key" -out "$t/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  sign() { # name cn ext days
    openssl req -new -newkey rsa:2048 -nodes -subj "/O=smtp test rig/CN=$2" \
      -keyout "$t/$1.key" -out "$t/$1.csr" 2>/dev/null
    openssl x509 -req -in "$t/$1.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
      -CAcreateserial -sha256 -days "$4" -extfile "$ext" -extensions "$3" \
      -out "$t/$1.pem" 2>/dev/null
    cat "$t/$1.pem" "$t/ca.pem" > "$t/$1-chain.pem"
  }
  sign server localhost srv_ext 3650
  sign wrong-host wrong.example.test wrong_ext 3650
  sign client client.example.test client_ext 3650
  # `openssl x509 -req` (OpenSSL 3.0) cannot set a start date in the past;
  # `openssl ca` can, so the expired cert goes through a throw-away CA db.
  mkdir -p "$t/ca-db/new"; : > "$t/ca-db/index.txt"; echo 1000 > "$t/ca-db/serial"
  cat > "$t/ca-db/ca.cnf" <<EOF
[ ca ]
default_ca = tca
[ tca ]
dir = $t/ca-db
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
[ pol ]
organizationName = optional
commonName = supplied
EOF
  openssl req -new -newkey rsa:2048 -nodes -subj "/O=smtp test rig/CN=localhost" \
    -keyout "$t/expired.key" -out "$t/expired.csr" 2>/dev/null
  openssl ca -batch -config "$t/ca-db/ca.cnf" -cert "$t/ca.pem" -keyfile "$t/ca.key" \
    -startdate 20200101000000Z -enddate 20200102000000Z \
    -extfile "$ext" -extensions srv_ext -notext \
    -in "$t/expired.csr" -out "$t/expired.pem" 2>/dev/null
  cat "$t/expired.pem" "$t/ca.pem" > "$t/expired-chain.pem"
  selfsigned() { # name cn ext
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -subj "/O=smtp test rig untrusted/CN=$2" -keyout "$t/$1.key" -out "$t/$1.pem" \
      -extensions "$3" -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n'; cat "$ext") 2>/dev/null
    cp "$t/$1.pem" "$t/$1-chain.pem"
  }
  selfsigned selfsigned localhost self_ext
  selfsigned client-untrusted client.example.test self_client_ext
  rm -f "$t"/*.csr "$t"/*.srl
  chmod 644 "$t"/*.pem "$t"/*.key
  chmod 600 "$t/ca.key"
  say "made a test CA and certificates in $t"
}

certs_usable() {
  local f
  for f in ca server wrong-host expired selfsigned client client-untrusted; do
    [ -s "$TLS/$f.pem" ] && [ -s "$TLS/$f.key" ] || return 1
  done
  openssl x509 -checkend 86400 -noout -in "$TLS/server.pem" >/dev/null 2>&1 &&
    openssl x509 -checkend 86400 -noout -in "$TLS/client.pem" >/dev/null 2>&1
}
