package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// nodeReader turns YAML nodes into values, recording a problem (with the
// node's line and the key's dotted path) for everything it cannot use.
type nodeReader struct {
	ps *problems
}

// deref follows aliases (bounded, so a cycle cannot loop).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports an absent or explicitly empty value (`key:` or `key: null`).
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// fields walks a mapping: each key must be one of handlers, at most once.
// Keys not listed are problems naming the known ones.
func (r *nodeReader) fields(n *yaml.Node, path string, handlers map[string]func(key string, v *yaml.Node)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		r.ps.add(n.Line, path, "want a mapping of keys, got %s", describe(n))
		return
	}
	known := make([]string, 0, len(handlers))
	for k := range handlers {
		known = append(known, k)
	}
	slices.Sort(known)
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := deref(n.Content[i]), n.Content[i+1]
		if kn == nil || kn.Kind != yaml.ScalarNode {
			r.ps.add(n.Content[i].Line, path, "keys must be plain names")
			continue
		}
		key := join(path, kn.Value)
		h, ok := handlers[kn.Value]
		if !ok {
			r.ps.add(kn.Line, key, "unknown key (known: %s)", strings.Join(known, ", "))
			continue
		}
		if line, dup := seen[kn.Value]; dup {
			r.ps.add(kn.Line, key, "set twice (first on line %d)", line)
			continue
		}
		seen[kn.Value] = kn.Line
		h(key, vn)
	}
}

// str reads a scalar as text; ok is false for null and for problems.
func (r *nodeReader) str(key string, n *yaml.Node) (string, bool) {
	n = deref(n)
	if isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		r.ps.add(n.Line, key, "want a single value, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// duration reads a Go duration such as 10s, 1m30s or 0.
func (r *nodeReader) duration(key string, n *yaml.Node) (time.Duration, bool) {
	s, ok := r.str(key, n)
	if !ok {
		return 0, false
	}
	if s == "0" {
		return 0, true
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		r.ps.add(deref(n).Line, key, "%q is not a duration (write e.g. 500ms, 10s, 1m, 2h)", s)
		return 0, false
	}
	if d < 0 {
		r.ps.add(deref(n).Line, key, "%s is negative", s)
		return 0, false
	}
	return d, true
}

// boolean reads true or false (YAML 1.2: not yes/no).
func (r *nodeReader) boolean(key string, n *yaml.Node) (bool, bool) {
	n = deref(n)
	if isNull(n) {
		return false, false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		r.ps.add(n.Line, key, "want true or false, got %s", describe(n))
		return false, false
	}
	return b, true
}

// integer reads a whole number.
func (r *nodeReader) integer(key string, n *yaml.Node) (int, bool) {
	s, ok := r.str(key, n)
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil {
		r.ps.add(deref(n).Line, key, "%q is not a whole number", s)
		return 0, false
	}
	return v, true
}

// strings reads a sequence of scalars; a single scalar is a list of one.
func (r *nodeReader) strings(key string, n *yaml.Node) ([]string, bool) {
	n = deref(n)
	if isNull(n) {
		return nil, false
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}, true
	}
	if n.Kind != yaml.SequenceNode {
		r.ps.add(n.Line, key, "want a list, got %s", describe(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	good := true
	for i, c := range n.Content {
		s, ok := r.str(fmt.Sprintf("%s[%d]", key, i), c)
		if !ok {
			if isNull(c) {
				r.ps.add(n.Line, fmt.Sprintf("%s[%d]", key, i), "empty item")
			}
			good = false
			continue
		}
		out = append(out, s)
	}
	return out, good
}

// stringMap reads a mapping of scalar keys to scalar values, in file order.
func (r *nodeReader) stringMap(key string, n *yaml.Node) (map[string]string, map[string]int, bool) {
	n = deref(n)
	if isNull(n) {
		return nil, nil, false
	}
	if n.Kind != yaml.MappingNode {
		r.ps.add(n.Line, key, "want a mapping (field: value), got %s", describe(n))
		return nil, nil, false
	}
	out := make(map[string]string, len(n.Content)/2)
	lines := make(map[string]int, len(n.Content)/2)
	good := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn := deref(n.Content[i])
		if kn == nil || kn.Kind != yaml.ScalarNode || kn.Value == "" {
			r.ps.add(n.Content[i].Line, key, "keys must be plain names")
			good = false
			continue
		}
		k := join(key, kn.Value)
		if _, dup := out[kn.Value]; dup {
			r.ps.add(kn.Line, k, "set twice")
			good = false
			continue
		}
		v, ok := r.str(k, n.Content[i+1])
		if !ok {
			if isNull(n.Content[i+1]) {
				r.ps.add(kn.Line, k, "empty value")
			}
			good = false
			continue
		}
		out[kn.Value] = v
		lines[kn.Value] = kn.Line
	}
	return out, lines, good
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describe names a node's kind for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}
