package mysql

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"filippo.io/edwards25519"
)

// Authentication methods of the binary log connection.
const (
	pluginNative      = "mysql_native_password"
	pluginCachingSHA2 = "caching_sha2_password"
	pluginSHA256      = "sha256_password"
	pluginClear       = "mysql_clear_password"
	pluginEd25519     = "client_ed25519" // MariaDB
)

var errUnknownPlugin = errors.New("unknown authentication method")

// authResponse is the first answer to a method's challenge (scramble).
func authResponse(plugin string, password, scramble []byte, secure bool) ([]byte, error) {
	switch plugin {
	case pluginNative:
		if len(password) == 0 {
			return nil, nil
		}
		return scrambleNative(scramble, password), nil
	case pluginCachingSHA2:
		if len(password) == 0 {
			return nil, nil
		}
		return scrambleSHA256(scramble, password), nil
	case pluginSHA256:
		switch {
		case len(password) == 0:
			return []byte{0}, nil
		case secure:
			return append(append([]byte(nil), password...), 0), nil
		}
		return []byte{1}, nil // ask for the server's public key
	case pluginClear:
		if !secure {
			return nil, errors.New("the account uses mysql_clear_password, which sends the password in clear: set SslMode to require TLS")
		}
		return append(append([]byte(nil), password...), 0), nil
	case pluginEd25519:
		return signEd25519(scramble, password), nil
	}
	return nil, fmt.Errorf("%w %q", errUnknownPlugin, plugin)
}

// scrambleNative is SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))).
func scrambleNative(scramble, password []byte) []byte {
	if len(scramble) > 20 {
		scramble = scramble[:20]
	}
	stage1 := sha1.Sum(password)
	stage2 := sha1.Sum(stage1[:])
	h := sha1.New()
	h.Write(scramble)
	h.Write(stage2[:])
	out := h.Sum(nil)
	for i := range out {
		out[i] ^= stage1[i]
	}
	return out
}

// scrambleSHA256 is SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble).
func scrambleSHA256(scramble, password []byte) []byte {
	if len(scramble) > 20 {
		scramble = scramble[:20]
	}
	m1 := sha256.Sum256(password)
	m2 := sha256.Sum256(m1[:])
	h := sha256.New()
	h.Write(m2[:])
	h.Write(scramble)
	out := h.Sum(nil)
	for i := range out {
		out[i] ^= m1[i]
	}
	return out
}

// encryptPassword encrypts password (NUL-terminated, XORed with the
// scramble) with the server's RSA public key (PEM), for full
// authentication without TLS.
func encryptPassword(password, scramble, keyPEM []byte) ([]byte, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("the server sent no usable public key for password encryption")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the server's public key: %w", err)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("the server's public key is not an RSA key")
	}
	plain := append(append([]byte(nil), password...), 0)
	if len(scramble) > 0 {
		for i := range plain {
			plain[i] ^= scramble[i%len(scramble)]
		}
	}
	return rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, plain, nil)
}

// signEd25519 is MariaDB's client_ed25519: an Ed25519 signature of the
// scramble whose secret key is derived from the password (of any length)
// where standard Ed25519 uses a 32-byte seed.
func signEd25519(scramble, password []byte) []byte {
	h := sha512.Sum512(password)
	s, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		return nil
	}
	a := (&edwards25519.Point{}).ScalarBaseMult(s).Bytes()

	nh := sha512.New()
	nh.Write(h[32:])
	nh.Write(scramble)
	r, err := edwards25519.NewScalar().SetUniformBytes(nh.Sum(nil))
	if err != nil {
		return nil
	}
	rp := (&edwards25519.Point{}).ScalarBaseMult(r).Bytes()

	kh := sha512.New()
	kh.Write(rp)
	kh.Write(a)
	kh.Write(scramble)
	k, err := edwards25519.NewScalar().SetUniformBytes(kh.Sum(nil))
	if err != nil {
		return nil
	}
	sig := edwards25519.NewScalar().MultiplyAdd(k, s, r)
	return append(rp, sig.Bytes()...)
}
