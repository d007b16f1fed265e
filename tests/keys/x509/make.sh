#!/bin/sh
# Regenerates the certificates of tests/cases/builtins_x509.yaml (then run
# tests/oracle/gen_yaml.py tests/oracle/specs/x509.py tests/cases/builtins_x509.yaml with the
# oracle's python). Valid until 2106, so that verification "now" keeps passing.
set -e
cd "$(dirname "$0")"
DAYS=29000
cat > ext.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical,permitted;DNS:example.com,permitted;URI:cluster.local,excluded;IP:10.9.0.0/255.255.0.0
certificatePolicies = 2.5.29.32.0
[leaf]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:api.example.com,DNS:*.svc.example.com,URI:spiffe://cluster.local/ns/orders/sa/orders,IP:10.1.2.3,email:ops@example.com
authorityKeyIdentifier = keyid
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.example.com
[outside]
basicConstraints = CA:FALSE
subjectAltName = DNS:api.other.org
[rich]
basicConstraints = critical,CA:TRUE,pathlen:3
keyUsage = digitalSignature,keyEncipherment,keyCertSign,cRLSign,decipherOnly
extendedKeyUsage = serverAuth,1.2.3.99,codeSigning,OCSPSigning,msSGC
subjectAltName = DNS:rich.example.com,IP:::1,IP:2001:db8::5,URI:https://user:p%40ss@rich.example.com:8443/a%20b/%7e?q=1,URI:urn:uuid:0f8fad5b,URI:spiffe:/omitted
crlDistributionPoints = URI:http://crl.example.com/ca.crl
authorityInfoAccess = OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://ca.example.com/ca.cer
certificatePolicies = 2.5.29.32.0,1.2.3.4.5
policyMappings = 1.2.3.4:1.2.3.5
policyConstraints = requireExplicitPolicy:0,inhibitPolicyMapping:2
inhibitAnyPolicy = 1
nameConstraints = permitted;DNS:.example.com,permitted;IP:10.0.0.0/255.0.0.0,excluded;email:bad.com,excluded;IP:2001:db8::/ffff:ffff::
1.2.3.4.99 = critical,ASN1:UTF8String:hello
CNF
openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days $DAYS -subj "/CN=Root" -extensions root -config ext.cnf
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout inter.key -out inter.csr -subj "/CN=Inter" -config ext.cnf
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -set_serial 2 -out inter.pem -days $DAYS -extfile ext.cnf -extensions inter
for name in leaf client outside; do
  openssl req -new -newkey ed25519 -nodes -keyout $name.key -out $name.csr -subj "/CN=$name/O=Acme" -config ext.cnf
  openssl x509 -req -in $name.csr -CA inter.pem -CAkey inter.key -set_serial 10 -out $name.pem -days $DAYS -extfile ext.cnf -extensions $name
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -sha384 -nodes -keyout rich.key -out rich.pem -days $DAYS -utf8 -extensions rich -config ext.cnf \
  -subj "/C=DE/ST=Berlin/L=Berlin/O=Zürich Ünïcode/OU=A/OU=B/CN=Rich/emailAddress=ca@example.com/serialNumber=42/postalCode=10115/street=Main St 1"
openssl req -new -key leaf.key -out request.csr -subj "/CN=request.example.com/O=Acme" -config ext.cnf \
  -addext "subjectAltName=DNS:a.example.com,IP:10.0.0.9,URI:spiffe://cluster.local/x,email:q@example.com" -addext "keyUsage=digitalSignature"
rm -f ext.cnf inter.csr client.csr outside.csr leaf.csr client.key outside.key
