package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const holidayFile = "../deploy/calendar/cn-public-holidays.yaml"

func load(t testing.TB) *Calendar {
	t.Helper()
	c, err := Load(holidayFile)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func date(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestIsWorkday(t *testing.T) {
	c := load(t)
	tests := []struct {
		date    string
		work    bool
		covered bool
		holiday string
		makeUp  bool
	}{
		// 元旦 2026 (Thu-Sat) and its make-up Sunday.
		{"2025-12-31", true, true, "", false},
		{"2026-01-01", false, true, "元旦", false},
		{"2026-01-02", false, true, "元旦", false},
		{"2026-01-03", false, true, "元旦", false},
		{"2026-01-04", true, true, "", true},
		{"2026-01-05", true, true, "", false},
		// Spring Festival 2026: 02-15..23 off, 02-14 and 02-28 (Saturdays) worked.
		{"2026-02-13", true, true, "", false},
		{"2026-02-14", true, true, "", true},
		{"2026-02-15", false, true, "春节", false},
		{"2026-02-16", false, true, "春节", false},
		{"2026-02-20", false, true, "春节", false},
		{"2026-02-23", false, true, "春节", false},
		{"2026-02-24", true, true, "", false},
		{"2026-02-28", true, true, "", true},
		{"2026-03-01", false, true, "", false},
		{"2026-02-07", false, true, "", false},
		// National Day 2025 (with 中秋节): 10-01..08 off, 09-28 (Sun) and 10-11 (Sat) worked.
		{"2025-09-27", false, true, "", false},
		{"2025-09-28", true, true, "", true},
		{"2025-09-30", true, true, "", false},
		{"2025-10-01", false, true, "国庆节、中秋节", false},
		{"2025-10-08", false, true, "国庆节、中秋节", false},
		{"2025-10-09", true, true, "", false},
		{"2025-10-11", true, true, "", true},
		{"2025-10-12", false, true, "", false},
		// National Day 2026: 10-01..07 off, 09-20 (Sun) and 10-10 (Sat) worked.
		{"2026-09-20", true, true, "", true},
		{"2026-09-25", false, true, "中秋节", false},
		{"2026-10-01", false, true, "国庆节", false},
		{"2026-10-07", false, true, "国庆节", false},
		{"2026-10-08", true, true, "", false},
		{"2026-10-10", true, true, "", true},
		{"2026-10-11", false, true, "", false},
		// Years not in the file: weekends only, and said so.
		{"2024-12-31", true, false, "", false},
		{"2027-01-01", true, false, "", false},
		{"2027-01-02", false, false, "", false},
		{"2027-02-10", true, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			d := date(t, tt.date)
			work, covered := c.IsWorkday(d)
			if work != tt.work || covered != tt.covered {
				t.Errorf("IsWorkday(%s) = %v, %v; want %v, %v", tt.date, work, covered, tt.work, tt.covered)
			}
			info := c.Day(d.Add(13 * time.Hour))
			if info.Workday != tt.work || info.Covered != tt.covered || info.Holiday != tt.holiday || info.MakeUp != tt.makeUp {
				t.Errorf("Day(%s) = %+v; want workday %v covered %v holiday %q makeUp %v", tt.date, info, tt.work, tt.covered, tt.holiday, tt.makeUp)
			}
			if !info.Date.Equal(d) {
				t.Errorf("Day(%s).Date = %v", tt.date, info.Date)
			}
		})
	}
}

func TestAddWorkdays(t *testing.T) {
	c := load(t)
	tests := []struct {
		start      string
		n          int
		want       string
		notCovered []int
	}{
		{"2026-02-13", 0, "2026-02-13", nil},
		{"2026-02-15", 0, "2026-02-15", nil},
		// Spring Festival 2026: the Saturday before is worked, then 9 days off.
		{"2026-02-12", 1, "2026-02-13", nil},
		{"2026-02-13", 1, "2026-02-14", nil},
		{"2026-02-13", 2, "2026-02-24", nil},
		{"2026-02-13", 3, "2026-02-25", nil},
		{"2026-02-14", 1, "2026-02-24", nil},
		{"2026-02-15", 2, "2026-02-25", nil},
		{"2026-02-20", 5, "2026-02-28", nil},
		{"2026-02-27", 1, "2026-02-28", nil},
		{"2026-02-27", 2, "2026-03-02", nil},
		// National Day 2025.
		{"2025-09-26", 1, "2025-09-28", nil},
		{"2025-09-28", 2, "2025-09-30", nil},
		{"2025-09-30", 1, "2025-10-09", nil},
		{"2025-09-30", 2, "2025-10-10", nil},
		{"2025-09-30", 3, "2025-10-11", nil},
		{"2025-09-30", 4, "2025-10-13", nil},
		{"2025-10-01", 5, "2025-10-14", nil},
		// National Day 2026 (中秋节 the week before).
		{"2026-09-18", 1, "2026-09-20", nil},
		{"2026-09-24", 1, "2026-09-28", nil},
		{"2026-09-30", 1, "2026-10-08", nil},
		{"2026-09-30", 3, "2026-10-10", nil},
		{"2026-09-30", 4, "2026-10-12", nil},
		// 元旦 2026 across the year end.
		{"2025-12-31", 1, "2026-01-04", nil},
		{"2025-12-31", 2, "2026-01-05", nil},
		// Into a year the file does not cover.
		{"2026-12-31", 1, "2027-01-01", []int{2027}},
		{"2026-12-30", 1, "2026-12-31", nil},
		{"2027-01-01", 1, "2027-01-04", []int{2027}},
		{"2024-12-30", 3, "2025-01-03", []int{2024}}, // 12-31, (元旦), 01-02, 01-03
	}
	for _, tt := range tests {
		t.Run(tt.start, func(t *testing.T) {
			start := date(t, tt.start).Add(17*time.Hour + 45*time.Minute)
			got, err := c.AddWorkdays(start, tt.n)
			if got.Format(time.DateOnly) != tt.want || got.Hour() != 0 {
				t.Errorf("AddWorkdays(%s, %d) = %v; want %s", tt.start, tt.n, got, tt.want)
			}
			checkCovered(t, err, tt.notCovered)
			if tt.n > 0 {
				if work, _ := c.IsWorkday(got); !work {
					t.Errorf("AddWorkdays(%s, %d) = %s is not a working day", tt.start, tt.n, tt.want)
				}
			}
			back, err := c.WorkdaysBetween(start, got)
			if back != tt.n {
				t.Errorf("WorkdaysBetween(%s, %s) = %d; want %d", tt.start, tt.want, back, tt.n)
			}
			checkCovered(t, err, tt.notCovered)
			rev, _ := c.WorkdaysBetween(got, start)
			if rev != -tt.n {
				t.Errorf("WorkdaysBetween(%s, %s) = %d; want %d", tt.want, tt.start, rev, -tt.n)
			}
		})
	}
}

func checkCovered(t *testing.T, err error, want []int) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	var nc *NotCoveredError
	if !errors.Is(err, ErrNotCovered) || !errors.As(err, &nc) {
		t.Fatalf("error = %v; want a NotCoveredError for %v", err, want)
	}
	if len(nc.Years) != len(want) || nc.Years[0] != want[0] {
		t.Errorf("NotCoveredError.Years = %v; want %v", nc.Years, want)
	}
	if !strings.Contains(err.Error(), holidayFile) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestLocation(t *testing.T) {
	c := load(t)
	cst := time.FixedZone("CST", 8*3600)
	// 2026-02-14 01:00 in Beijing is still Friday 2026-02-13 in UTC.
	instant := time.Date(2026, 2, 14, 1, 0, 0, 0, cst)
	beijing, err := c.AddWorkdays(instant, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 2, 24, 0, 0, 0, 0, cst); !beijing.Equal(want) || beijing.Location() != cst {
		t.Errorf("in Beijing: got %v; want %v", beijing, want)
	}
	utc, err := c.AddWorkdays(instant.UTC(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 2, 14, 0, 0, 0, 0, time.UTC); !utc.Equal(want) {
		t.Errorf("in UTC: got %v; want %v", utc, want)
	}
}

func TestWorkdaysBetween(t *testing.T) {
	c := load(t)
	tests := []struct {
		a, b string
		want int
	}{
		{"2026-02-13", "2026-02-13", 0},
		{"2026-02-13", "2026-02-24", 2},
		{"2026-02-24", "2026-02-13", -2},
		{"2026-02-14", "2026-02-23", 0},
		{"2026-01-31", "2026-02-28", 16},  // Feb: 2-6, 9-13, 14, 24-27, 28
		{"2025-09-30", "2025-10-31", 18},  // Oct 2025: 9, 10, 11, then three full weeks
		{"2026-09-30", "2026-10-31", 18},  // Oct 2026: 8, 9, 10, then 12-16, 19-23, 26-30
		{"2024-12-31", "2025-12-31", 248}, // 365 - 104 weekend days - 13 statutory holidays
		{"2025-12-31", "2026-12-31", 248}, // likewise: 261 weekdays - 19 off + 6 make-up
	}
	for _, tt := range tests {
		t.Run(tt.a+"_"+tt.b, func(t *testing.T) {
			got, err := c.WorkdaysBetween(date(t, tt.a), date(t, tt.b))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("WorkdaysBetween(%s, %s) = %d; want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestArithmeticErrors(t *testing.T) {
	c := load(t)
	start := date(t, "2026-02-13")
	if got, err := c.AddWorkdays(start, -1); err == nil || errors.Is(err, ErrNotCovered) || !got.IsZero() {
		t.Errorf("AddWorkdays(-1) = %v, %v; want an input error", got, err)
	}
	if got, err := c.AddWorkdays(start, MaxSpanDays); err == nil || errors.Is(err, ErrNotCovered) || !got.IsZero() {
		t.Errorf("AddWorkdays(MaxSpanDays) = %v, %v; want a span error", got, err)
	}
	if _, err := c.WorkdaysBetween(start, start.AddDate(200, 0, 0)); err == nil || errors.Is(err, ErrNotCovered) {
		t.Errorf("WorkdaysBetween over 200 years: err = %v; want a span error", err)
	}
}

// TestRoundTrip checks AddWorkdays and WorkdaysBetween against each other and
// IsWorkday day by day over the covered years and beyond.
func TestRoundTrip(t *testing.T) {
	c := load(t)
	if got := c.Years(); len(got) != 2 || got[0] != 2025 || got[1] != 2026 {
		t.Fatalf("Years() = %v", got)
	}
	for s := date(t, "2024-12-01"); s.Before(date(t, "2027-02-01")); s = s.AddDate(0, 0, 1) {
		prev := s
		for n := 1; n <= 12; n++ {
			got, _ := c.AddWorkdays(s, n)
			for d := prev.AddDate(0, 0, 1); d.Before(got); d = d.AddDate(0, 0, 1) {
				if work, _ := c.IsWorkday(d); work {
					t.Fatalf("AddWorkdays(%s, %d) = %s skips working day %s", s.Format(time.DateOnly), n, got.Format(time.DateOnly), d.Format(time.DateOnly))
				}
			}
			if work, _ := c.IsWorkday(got); !work {
				t.Fatalf("AddWorkdays(%s, %d) = %s: not a working day", s.Format(time.DateOnly), n, got.Format(time.DateOnly))
			}
			if between, _ := c.WorkdaysBetween(s, got); between != n {
				t.Fatalf("WorkdaysBetween(%s, AddWorkdays(_, %d)) = %d", s.Format(time.DateOnly), n, between)
			}
			prev = got
		}
	}
}

// TestDayNumbers checks the internal date arithmetic against package time.
func TestDayNumbers(t *testing.T) {
	for d := date(t, "1899-12-25"); d.Year() < 2101; d = d.AddDate(0, 0, 3) {
		n := dayOf(d)
		if want := day(d.Unix() / 86400); n != want {
			t.Fatalf("dayOf(%s) = %d; want %d", d.Format(time.DateOnly), n, want)
		}
		if got := n.in(time.UTC); !got.Equal(d) {
			t.Fatalf("day %d renders %v; want %v", n, got, d)
		}
		if n.weekday() != d.Weekday() || n.weekend() != (d.Weekday() == time.Saturday || d.Weekday() == time.Sunday) {
			t.Fatalf("weekday of %s = %v; want %v", d.Format(time.DateOnly), n.weekday(), d.Weekday())
		}
	}
}
