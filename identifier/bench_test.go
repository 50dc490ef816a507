package identifier

import (
	"math/rand/v2"
	"testing"
	"time"
)

func BenchmarkValidateCitizenID(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = GenerateCitizenID(r, "", time.Time{}, 0)
	}
	now := refNow()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := ValidateCitizenIDAt(ids[i%len(ids)], now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkValidateUSCC(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	codes := make([]string, 1024)
	for i := range codes {
		codes[i] = GenerateUSCC(r, "")
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := ValidateUSCC(codes[i%len(codes)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
