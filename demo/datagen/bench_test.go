package datagen

import "testing"

// BenchmarkRows measures generation per table (one op = one row).
func BenchmarkRows(b *testing.B) {
	for _, table := range allTables() {
		b.Run(table, func(b *testing.B) {
			cfg := Config{Seed: 1, Population: b.N, LegalPersons: b.N, CivilAffairs: b.N}
			b.ReportAllocs()
			b.ResetTimer()
			if err := Rows(cfg, table, func([]any) error { return nil }); err != nil {
				b.Fatal(err)
			}
		})
	}
}
