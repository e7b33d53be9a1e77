#!/bin/sh
# Regenerate the JWT test keys (openssl genpkey), their public JWKs and
# the tokens signed by node (gen.mjs, node's built-in crypto only).
# The outputs are committed; rerunning changes every key and token.
set -eu
cd "$(dirname "$0")"

openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2.pem
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.pem
for c in 256 384 521; do
	openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-$c \
	    -pkeyopt ec_param_enc:named_curve -out ec$c.pem
done
openssl genpkey -quiet -algorithm ED25519 -out ed25519.pem
# The same keys in the traditional (non-PKCS#8) PEM forms.
openssl pkey -in rsa.pem -traditional -out rsa-trad.pem
openssl ec -in ec256.pem -out ec256-trad.pem 2>/dev/null

node gen.mjs
