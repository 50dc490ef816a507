package wire

import (
	"hash/fnv"
	"strings"
)

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
	h := fnv.New32a()
	h.Write([]byte(subjectKey))
	return int(h.Sum32() % uint32(n))
}
