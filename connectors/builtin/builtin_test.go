package builtin

import (
	"strings"
	"testing"

	"github.com/tongban/tongban/connectors/mysql"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"mysql", ""},
		{"", `unknown built-in connector "" (known: mysql)`},
		{"MySQL", `unknown built-in connector "MySQL" (known: mysql)`},
		{"oracle", `unknown built-in connector "oracle" (known: mysql)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.name)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, ok := c.(*mysql.Connector); !ok {
				t.Errorf("New(%q) = %T", tt.name, c)
			}
		})
	}
	for _, n := range Names() {
		if _, err := New(n); err != nil {
			t.Errorf("listed connector %q: %v", n, err)
		}
	}
}
