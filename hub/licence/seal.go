package licence

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/hub/store"
)

// SealAlgorithm names how seals are made, for the public-key endpoint.
const SealAlgorithm = "SM2 signature over the SM3 digest of the canonical content, with SM3 and the default user id 1234567812345678 (GB/T 32918.2, GM/T 0009)"

// Seals: each issuing department has one SM2 key pair, made on its first
// issue and kept by the store (table licence_seals). The seal of a version
// is the SM2 signature (ASN.1 DER) of the 32-byte SM3 digest of the
// version's canonical content, the message hashed again with the Z value of
// the default user id, as sm2.SignASN1 with DefaultSM2SignerOpts does.
//
// Production keeps seal keys in a cipher machine (密码机, GM/T 0018
// interface) and signs there: the private key never leaves it and the store
// keeps the public key only. keyring is the seam: its sign method is the one
// call a cipher machine would serve.

// keyring caches the parsed seal keys of the departments.
type keyring struct {
	st Store

	mu   sync.Mutex
	priv map[string]*sm2.PrivateKey  // dept -> key
	pub  map[string]*ecdsa.PublicKey // hex -> key, bounded by maxPublicKeys
}

const maxPublicKeys = 4096

func newKeyring(st Store) *keyring {
	return &keyring{st: st, priv: map[string]*sm2.PrivateKey{}, pub: map[string]*ecdsa.PublicKey{}}
}

// privateKey returns dept's seal key, making and recording one on first use.
func (k *keyring) privateKey(ctx context.Context, dept string, rnd randReader) (*sm2.PrivateKey, error) {
	k.mu.Lock()
	key, ok := k.priv[dept]
	k.mu.Unlock()
	if ok {
		return key, nil
	}
	rec, err := k.st.LicenceSealOf(ctx, dept)
	if errors.Is(err, store.ErrNotFound) {
		fresh, gerr := sm2.GenerateKey(rnd)
		if gerr != nil {
			return nil, fmt.Errorf("licence: make the seal key of %s: %w", dept, gerr)
		}
		pub, perr := publicBytes(&fresh.PublicKey)
		if perr != nil {
			return nil, perr
		}
		rec, err = k.st.AddLicenceSeal(ctx, store.LicenceSeal{Dept: dept, PublicKey: hex.EncodeToString(pub),
			PrivateKey: hex.EncodeToString(fresh.D.FillBytes(make([]byte, 32)))})
	}
	if err != nil {
		return nil, fmt.Errorf("licence: seal key of %s: %w", dept, err)
	}
	raw, err := hex.DecodeString(rec.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("licence: stored seal key of %s: %w", dept, err)
	}
	key, err = sm2.NewPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("licence: stored seal key of %s: %w", dept, err)
	}
	k.mu.Lock()
	k.priv[dept] = key
	k.mu.Unlock()
	return key, nil
}

// publicKey parses a stored public key (hex, uncompressed point).
func (k *keyring) publicKey(h string) (*ecdsa.PublicKey, error) {
	k.mu.Lock()
	key, ok := k.pub[h]
	k.mu.Unlock()
	if ok {
		return key, nil
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("seal public key: %w", err)
	}
	key, err = sm2.NewPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("seal public key: %w", err)
	}
	k.mu.Lock()
	if len(k.pub) >= maxPublicKeys {
		clear(k.pub)
	}
	k.pub[h] = key
	k.mu.Unlock()
	return key, nil
}

// sign seals digest (the raw 32 bytes) with dept's key; the signature is hex DER.
func (k *keyring) sign(ctx context.Context, dept string, digest []byte, rnd randReader) (string, error) {
	key, err := k.privateKey(ctx, dept, rnd)
	if err != nil {
		return "", err
	}
	sig, err := sm2.SignASN1(rnd, key, digest, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return "", fmt.Errorf("licence: seal with the key of %s: %w", dept, err)
	}
	return hex.EncodeToString(sig), nil
}

// publicBytes is the uncompressed point of pub (0x04 || X || Y).
func publicBytes(pub *ecdsa.PublicKey) ([]byte, error) {
	k, err := sm2.PublicKeyToECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("licence: seal public key: %w", err)
	}
	return k.Bytes(), nil
}

// sigCache remembers successful SM2 verifications, keyed by public key,
// digest and signature, so a repeated verification of an unchanged version
// skips the curve arithmetic. The digest in the key is always recomputed
// from the stored content by the caller, so a changed row misses. Bounded:
// when full, the oldest entry goes (FIFO).
type sigCache struct {
	mu    sync.Mutex
	max   int
	m     map[string]struct{}
	order []string // ring of keys in insertion order
	next  int
}

func newSigCache(n int) *sigCache {
	return &sigCache{max: n, m: make(map[string]struct{}, n)}
}

func cacheKey(pub, digest, sig string) string { return pub + "|" + digest + "|" + sig }

func (c *sigCache) has(key string) bool {
	if c.max <= 0 {
		return false
	}
	c.mu.Lock()
	_, ok := c.m[key]
	c.mu.Unlock()
	return ok
}

func (c *sigCache) add(key string) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return
	}
	if len(c.order) < c.max {
		c.order = append(c.order, key)
	} else {
		delete(c.m, c.order[c.next])
		c.order[c.next] = key
		c.next = (c.next + 1) % c.max
	}
	c.m[key] = struct{}{}
}

func (c *sigCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// checkSeal reports whether sigHex is pubHex's SM2 seal on digestHex, and
// whether the answer came from the cache.
func (s *Service) checkSeal(pubHex, digestHex, sigHex string) (ok, cached bool) {
	key := cacheKey(pubHex, digestHex, sigHex)
	if s.cache.has(key) {
		return true, true
	}
	pub, err := s.keys.publicKey(pubHex)
	if err != nil {
		return false, false
	}
	digest, err := hex.DecodeString(digestHex)
	if err != nil {
		return false, false
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil {
		return false, false
	}
	if !sm2.VerifyASN1WithSM2(pub, nil, digest, sig) {
		return false, false
	}
	s.cache.add(key)
	return true, false
}
