package config

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads and validates the configuration file at path. The error lists
// every problem as "file:line: key: problem" (see Problems).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	return Parse(path, data)
}

// Parse validates a configuration held in memory; file names it in errors.
func Parse(file string, data []byte) (*Config, error) {
	ps := &problems{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlErrorLine(err)
		ps.add(line, "", "not valid YAML: %s", msg)
		return nil, ps.err()
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		ps.add(0, "", "the file is empty")
		return nil, ps.err()
	}
	c := &Config{File: file}
	d := decoder{r: nodeReader{ps: ps}, c: c}
	d.root(doc.Content[0])
	if n := deref(doc.Content[0]); n != nil && n.Kind == yaml.MappingNode {
		d.validate()
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// yamlErrorLine pulls "line N" out of a yaml.v3 error.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "yaml: line ")
	if !ok {
		return 0, strings.TrimPrefix(msg, "yaml: ")
	}
	num, text, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, msg
	}
	var line int
	if _, err := fmt.Sscanf(num, "%d", &line); err != nil {
		return 0, msg
	}
	return line, strings.TrimSpace(text)
}
