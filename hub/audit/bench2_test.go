package audit

import "testing"

// BenchmarkHash measures the SM3 hash of one audit entry (canonical
// encoding, then SM3 over the previous hash and it): the per-entry work of
// the chain in Append and Verify, without the store.
func BenchmarkHash(b *testing.B) {
	e := sampleEntry(1).record()
	e.Seq = 42
	e.PrevHash = GenesisHash()
	b.ReportAllocs()
	b.SetBytes(int64(len(Encode(e))))
	for b.Loop() {
		if h := Hash(e); len(h) != HashLen {
			b.Fatalf("hash of %d bytes", len(h))
		}
	}
}
