#!/bin/sh
# Test certificates for TLS, made fresh by each test run (no private key is
# ever committed). Usage: certs.sh DIR [KEY_PASSWORD]
#
# Writes into DIR (created if missing), EC P-256 keys, valid for 30 days:
#   ca.pem, ca.key              the test CA (CN=Eddy Test CA)
#   server.pem, server.key      CN=localhost, subjectAltName DNS:localhost,
#                               IP:127.0.0.1, signed by the CA
#   server-chain.pem            server.pem followed by ca.pem
#   server-enc.key              server.key encrypted (PKCS#8, AES-256) with
#                               KEY_PASSWORD (default eddy-test-pass)
#   server-keystore.pem         server-enc.key + server.pem: Kafka's
#                               ssl.keystore.type=PEM (ssl.key.password=KEY_PASSWORD)
#   client.pem, client.key      CN=alice, signed by the CA (mutual TLS: principal
#                               User:CN=alice)
#   client-enc.key              client.key encrypted like server-enc.key
#   client-keystore.pem         client-enc.key + client.pem
#   other-ca.pem, other-ca.key  a second CA that signed nothing here: a client
#                               trusting only it must reject the server
#   rogue-client.pem/.key       CN=mallory, signed by the other CA
#   server.p12, client.p12      PKCS#12 of the above (password KEY_PASSWORD)
#                               for Java clients that want a keystore file
# Prints nothing on success; fails (non-zero) with openssl's message otherwise.
set -eu

[ $# -ge 1 ] || { echo "usage: certs.sh DIR [KEY_PASSWORD]" >&2; exit 2; }
dir=$1
pass=${2:-eddy-test-pass}
mkdir -p "$dir"
cd "$dir"

cat > openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[v3_client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
CNF

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# A serial per certificate, distinct within the run and across runs.
serial=$(( $(date +%s) * 100 ))

ca() { # name subject
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -config openssl.cnf -extensions v3_ca \
        -subj "$2" -days 30 -set_serial "$serial" -out "$1.pem"
    serial=$((serial + 1))
}

leaf() { # name subject ca extensions
    key "$1.key"
    openssl req -new -key "$1.key" -config openssl.cnf -subj "$2" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "$serial" \
        -days 30 -extfile openssl.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
    serial=$((serial + 1))
    rm -f "$1.csr"
}

ca ca "/CN=Eddy Test CA"
ca other-ca "/CN=Eddy Other CA"
leaf server "/CN=localhost" ca v3_server
leaf client "/CN=alice" ca v3_client
leaf rogue-client "/CN=mallory" other-ca v3_client

cat server.pem ca.pem > server-chain.pem
openssl pkcs8 -topk8 -in server.key -v2 aes-256-cbc -passout "pass:$pass" -out server-enc.key
openssl pkcs8 -topk8 -in client.key -v2 aes-256-cbc -passout "pass:$pass" -out client-enc.key
cat server-enc.key server.pem > server-keystore.pem
cat client-enc.key client.pem > client-keystore.pem
openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name server \
    -passout "pass:$pass" -out server.p12
openssl pkcs12 -export -in client.pem -inkey client.key -certfile ca.pem -name client \
    -passout "pass:$pass" -out client.p12
chmod 600 ./*.key ./*.p12 server-keystore.pem client-keystore.pem
