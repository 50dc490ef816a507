package mysql

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// textEncoding returns the encoding named by Column.Encoding.
func textEncoding(name string) (encoding.Encoding, error) {
	switch strings.ToLower(name) {
	case "gbk", "gb2312", "cp936":
		return simplifiedchinese.GBK, nil
	case "gb18030":
		return simplifiedchinese.GB18030, nil
	}
	return nil, fmt.Errorf("encoding %q: want gbk, gb2312 or gb18030", name)
}

// textDecoder turns the raw bytes of a column whose declared charset is wrong
// into UTF-8, refusing bytes that are not valid in the real encoding instead
// of passing on replacement characters.
type textDecoder struct {
	name string
	enc  encoding.Encoding
	dec  *encoding.Decoder
}

func newTextDecoder(name string) (*textDecoder, error) {
	enc, err := textEncoding(name)
	if err != nil {
		return nil, err
	}
	return &textDecoder{name: strings.ToLower(name), enc: enc, dec: enc.NewDecoder()}, nil
}

// decode converts one value. Pure ASCII needs no conversion: raw itself is
// returned.
func (d *textDecoder) decode(raw []byte) ([]byte, error) {
	ascii := true
	for _, c := range raw {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return raw, nil
	}
	out, err := d.dec.Bytes(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid %s bytes %s: %w", d.name, hexBytes(raw), err)
	}
	// The decoder writes U+FFFD for bytes it cannot read. Such a value is
	// accepted only if it encodes back to the same bytes (GB18030 does have
	// a code for U+FFFD).
	if bytes.ContainsRune(out, utf8.RuneError) {
		back, err := d.enc.NewEncoder().Bytes(out)
		if err != nil || !bytes.Equal(back, raw) {
			return nil, fmt.Errorf("invalid %s bytes %s", d.name, hexBytes(raw))
		}
	}
	return out, nil
}

// hexBytes renders bytes for an error message, shortened.
func hexBytes(b []byte) string {
	const max = 32
	if len(b) > max {
		return fmt.Sprintf("% x …", b[:max])
	}
	return fmt.Sprintf("% x", b)
}
