package datagen

import "math/bits"

// permutation is a keyed bijection of [0, n): a balanced Feistel network on
// the smallest even number of bits covering n, with cycle walking to stay
// inside the domain. It turns row numbers into scattered but distinct points
// of an identifier space, so identifiers are unique by construction.
type permutation struct {
	n    uint64
	half uint   // bits per Feistel half
	mask uint64 // (1 << half) - 1
	key  uint64
}

func newPermutation(n, key uint64) permutation {
	b := uint(bits.Len64(n - 1))
	if b < 2 {
		b = 2
	}
	b += b & 1
	return permutation{n: n, half: b / 2, mask: 1<<(b/2) - 1, key: key}
}

// at returns the image of x, which must be < n.
func (p permutation) at(x uint64) uint64 {
	for {
		x = p.feistel(x)
		if x < p.n {
			return x
		}
	}
}

func (p permutation) feistel(x uint64) uint64 {
	l, r := x>>p.half, x&p.mask
	for round := uint64(0); round < 4; round++ {
		l, r = r, l^(mix64(p.key^(round*0x9e3779b97f4a7c15)^r)&p.mask)
	}
	return l<<p.half | r
}

// mix64 is the SplitMix64 finaliser: a fast, well-spread 64-bit hash.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// streamKey derives the key of one named random stream from the seed.
func streamKey(seed int64, stream uint64) uint64 {
	return mix64(mix64(uint64(seed)) ^ stream)
}
