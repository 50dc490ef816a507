package mysql

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

func FuzzParseTable(f *testing.F) {
	for _, s := range []string{"people", "db.people", "a.b.c", "p`; DROP TABLE x", "$x_1", "", ".", "人口", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tn, err := parseTable(s)
		if err != nil {
			return
		}
		for _, c := range s {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c == '.') {
				t.Fatalf("accepted %q with %q", s, c)
			}
		}
		q := tn.Quoted()
		if strings.Count(q, "`") != 2*(strings.Count(s, ".")+1) || tn.String() != s {
			t.Fatalf("%q quoted as %q, rendered as %q", s, q, tn.String())
		}
		if _, err := quoteColumn(s); (err == nil) != !strings.Contains(s, ".") {
			t.Fatalf("column %q: %v", s, err)
		}
	})
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"2024-01-02", "2024-01-02 03:04:05", "2024-01-02 03:04:05.123456", "2024-01-02T03:04:05.5",
		"0000-00-00", "0000-00-00 00:00:00", "2024-02-30", "2024-13-01", "9999-12-31 23:59:59.999999", "2024-1-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDateTime([]byte(s))
		if err != nil {
			return
		}
		back, err := parseDateTime([]byte(d.DateTimeText()))
		if err != nil || back != d {
			t.Fatalf("%q: rendered %q, read back %+v, %v", s, d.DateTimeText(), back, err)
		}
		if d.isZero() {
			return
		}
		want, err := time.Parse("2006-01-02 15:04:05.000000", d.DateTimeText())
		if err != nil || !want.Equal(d.Time()) {
			t.Fatalf("%q: time.Parse says %v (%v), parseDateTime %v", s, want, err, d.Time())
		}
	})
}

func FuzzParseInt64(f *testing.F) {
	for _, s := range []string{"0", "-0", "+7", "-9223372036854775808", "9223372036854775807", "9223372036854775808",
		"18446744073709551615", "99999999999999999999", "", "-", "1e3", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseInt64([]byte(s))
		want, werr := strconv.ParseInt(s, 10, 64)
		if (err == nil) != (werr == nil) || got != want && err == nil {
			t.Fatalf("%q: parseInt64 %d, %v; strconv %d, %v", s, got, err, want, werr)
		}
	})
}

// FuzzDecimalConverter: a decimal column's text converts exactly when it is
// plain (sign, digits, fraction of at most the scale's digits) and fits the
// precision, to the value decimal128 reads from the same text.
func FuzzDecimalConverter(f *testing.F) {
	for _, s := range []string{"12.3", "-0.01", "5", "12.345", ".5", "5.", "1-2", "-", "1e5", "99999999999999999999999999.9999999999"} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, scale uint8) {
		sc := int32(scale % 39)
		typ := schemas.Type{Kind: schemas.Decimal, Precision: 38, Scale: sc}
		conv, err := newConverter(typ, srcColumn{DataType: "decimal"}, "")
		if err != nil {
			t.Fatal(err)
		}
		var c wire.Cell
		if err := conv([]byte(s), &c); err != nil {
			intPart, _, _ := strings.Cut(strings.TrimLeft(s, "+-"), ".")
			digits := len(strings.TrimLeft(intPart, "0")) + int(sc)
			if checkDecimal([]byte(s), int(sc)) == nil && digits <= 38 {
				t.Fatalf("%q at scale %d (%d digits): plain text refused: %v", s, sc, digits, err)
			}
			return
		}
		if strings.ContainsAny(s, "eE") || strings.HasPrefix(strings.TrimLeft(s, "+-"), ".") {
			t.Fatalf("%q accepted at scale %d", s, sc)
		}
		want, err := decimal128.FromString(s, 38, sc)
		if err != nil || want != c.Dec {
			t.Fatalf("%q at scale %d: %s, decimal128 %s (%v)", s, sc, c.Dec.ToString(sc), want.ToString(sc), err)
		}
	})
}

func FuzzTextDecoder(f *testing.F) {
	for _, b := range [][]byte{gbkBytes(f, "李四·测试"), gb18030Bytes(f, "𠀀😀"), {0xd5, 0xfd, 0xc4, 0x20}, {0x84, 0x31, 0xa4, 0x37}, {0xff}, {0x80}, []byte("ascii")} {
		f.Add(b, true)
		f.Add(b, false)
	}
	f.Fuzz(func(t *testing.T, raw []byte, gb18030 bool) {
		name := "gbk"
		if gb18030 {
			name = "gb18030"
		}
		d, err := newTextDecoder(name)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.decode(raw)
		s := string(out)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid "+name+" bytes") {
				t.Fatalf("error %q does not name the encoding", err)
			}
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("% x decoded to invalid UTF-8", raw)
		}
		// Every character came from a valid code: it encodes again and
		// decodes to itself (0x80 is cp936's euro sign, whose GB18030 code
		// is another, so the bytes need not be the same).
		back, err := d.enc.NewEncoder().String(s)
		if err != nil {
			t.Fatalf("% x decoded to %q, which does not encode back: %v", raw, s, err)
		}
		if again, err := d.decode([]byte(back)); err != nil || string(again) != s {
			t.Fatalf("% x decoded to %q, re-encoded % x decodes to %q (%v)", raw, s, back, again, err)
		}
	})
}

// oneRowText puts v in a one-row batch with wire.Builder and reads it back
// with wire.Text: the rendering the hub and the agent use.
func oneRowText(t *testing.T, typ schemas.Type, v any) (string, bool) {
	s := schemas.Schema{Fields: []schemas.Field{{Name: "k", Type: typ, Nullable: true}}}
	b := wire.NewBuilder(nil, s)
	defer b.Release()
	if err := b.Append([]any{v}, 1); err != nil {
		return "", false
	}
	rec := b.NewRecord()
	defer rec.Release()
	return wire.Text(rec.Column(0), 0), true
}

// FuzzKeyText converts a column's text as MySQL sends it for every type,
// renders the key text, and checks that keyParam reads the text back to a
// parameter of the same value. (wire's FuzzCells checks that the key text is
// wire.Text of the value once in a batch.)
func FuzzKeyText(f *testing.F) {
	f.Add(int64(-5), 0.1, "张三", []byte{0, 0xff}, "12.3", "2024-01-02 03:04:05.000001", true)
	f.Add(int64(math.MinInt64), math.Inf(1), "", []byte{}, "-0.00", "0000-00-00", false)
	f.Add(int64(0), -1e300, "a\x1fb", []byte("x"), "99999999999999999999999999.9999999999", "9999-12-31", false)
	f.Fuzz(func(t *testing.T, n int64, fl float64, s string, b []byte, dec, dt string, flag bool) {
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "?")
		}
		bit := "0"
		if flag {
			bit = "1"
		}
		values := []struct {
			typ, dataType, raw string
			mustConvert        bool
		}{
			{"int64", "bigint", strconv.FormatInt(n, 10), true},
			{"float64", "double", strconv.FormatFloat(fl, 'g', -1, 64), !math.IsInf(fl, 0) && !math.IsNaN(fl)},
			{"string", "varchar", s, true},
			{"bytes", "varbinary", string(b), true},
			{"bool", "tinyint", bit, true},
			{"decimal(38,10)", "decimal", dec, false},
			{"date", "date", dt, false},
			{"timestamp", "datetime", dt, false},
		}
		for _, tv := range values {
			typ, err := schemas.ParseType(tv.typ)
			if err != nil {
				t.Fatal(err)
			}
			conv, err := newConverter(typ, srcColumn{DataType: tv.dataType}, "")
			if err != nil {
				t.Fatal(err)
			}
			var c wire.Cell
			if err := conv([]byte(tv.raw), &c); err != nil || c.Null {
				if tv.mustConvert {
					t.Fatalf("%s %q: %v", typ, tv.raw, err)
				}
				continue
			}
			got := cellText(typ, &c)
			if math.IsNaN(fl) && typ.Kind == schemas.Float64 {
				continue
			}
			param, err := keyParam(typ, got)
			if err != nil {
				t.Fatalf("%s key text %q does not read back: %v", typ, got, err)
			}
			if typ.Kind == schemas.Bool {
				param = param.(int64) != 0
			}
			again, ok := oneRowText(t, typ, param)
			if !ok || again != got {
				t.Fatalf("%s %q: key text %q → parameter %#v → %q", typ, tv.raw, got, param, again)
			}
		}
	})
}
