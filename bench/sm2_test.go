package bench

import (
	"crypto/rand"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// SM2 with SM3 and the default user id, as seals and licence signatures
// use (GB/T 32918, GM/T 0009): the raw rates a verification API is compared
// with.
func BenchmarkSM2Sign(b *testing.B) {
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("1.2.156.3005.2.11100000000013338W.11230600MA1BX0RF3N.0001.001.X")
	for b.Loop() {
		if _, err := sm2.SignASN1(rand.Reader, key, msg, sm2.DefaultSM2SignerOpts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSM2Verify(b *testing.B) {
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("1.2.156.3005.2.11100000000013338W.11230600MA1BX0RF3N.0001.001.X")
	sig, err := sm2.SignASN1(rand.Reader, key, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !sm2.VerifyASN1WithSM2(&key.PublicKey, nil, msg, sig) {
			b.Fatal("signature does not verify")
		}
	}
}

// TestSM2RoundTrip checks what the benchmarks measure: a signature
// verifies, and a changed message does not.
func TestSM2RoundTrip(t *testing.T) {
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("电子证照 e-licence")
	sig, err := sm2.SignASN1(rand.Reader, key, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		t.Fatal(err)
	}
	if !sm2.VerifyASN1WithSM2(&key.PublicKey, nil, msg, sig) {
		t.Fatal("a fresh signature does not verify")
	}
	if sm2.VerifyASN1WithSM2(&key.PublicKey, nil, []byte("电子证照 E-licence"), sig) {
		t.Fatal("a signature verifies a changed message")
	}
}
