package wire

import "strings"

// KeySeparator joins the parts of a composite record key.
const KeySeparator = "\x1f"

// RecordKey renders a primary key as one string: the parts joined by U+001F.
func RecordKey(parts []string) string { return strings.Join(parts, KeySeparator) }

// SplitKey is the inverse of RecordKey.
func SplitKey(key string) []string { return strings.Split(key, KeySeparator) }

// Partition is the partition a subject key lands on: FNV-1a 32 mod n.
func Partition(subjectKey string, n int) int {
	if n <= 1 {
		return 0
	}
	return partition(subjectKey, n)
}

// PartitionBytes is Partition of a key held as bytes.
func PartitionBytes(subjectKey []byte, n int) int {
	if n <= 1 {
		return 0
	}
	return partition(subjectKey, n)
}

// partition is FNV-1a 32 (hash/fnv's New32a) of k, mod n, without allocating.
func partition[T string | []byte](k T, n int) int {
	const (
		offset32 = 2166136261
		prime32  = 16777619
	)
	h := uint32(offset32)
	for i := 0; i < len(k); i++ {
		h ^= uint32(k[i])
		h *= prime32
	}
	return int(h % uint32(n))
}
