package config

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder fills a Config from the document's nodes. Values that are present
// are recorded in set (by dotted key, with their line) so validate can tell
// "absent, take the default" from "given" and point at the line.
type decoder struct {
	r   nodeReader
	c   *Config
	set map[string]int // dotted key → line of its value
	top int            // line of the document

	tokenFile     string
	metricsListen *string
	res           []resourceNodes
}

// resourceNodes are the raw pieces of one resource entry.
type resourceNodes struct {
	key  string // resources[i]
	line int
	r    Resource
	mode string
	// present options whose defaults depend on others
	interval, overlap, reconcile, chunkRows, live bool
	columnLines, encodingLines                    map[string]int
}

func (d *decoder) mark(key string, n *yaml.Node) {
	if d.set == nil {
		d.set = make(map[string]int)
	}
	if n = deref(n); n != nil {
		d.set[key] = n.Line
	}
}

// line returns the line of a key's value, or of the closest enclosing key.
func (d *decoder) line(key string) int {
	for k := key; k != ""; {
		if l, ok := d.set[k]; ok {
			return l
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return d.top
}

func (d *decoder) strInto(dst *string) func(string, *yaml.Node) {
	return func(key string, v *yaml.Node) {
		if s, ok := d.r.str(key, v); ok {
			*dst = s
			d.mark(key, v)
		}
	}
}

func (d *decoder) durationInto(dst *time.Duration, present *bool) func(string, *yaml.Node) {
	return func(key string, v *yaml.Node) {
		if x, ok := d.r.duration(key, v); ok {
			*dst = x
			d.mark(key, v)
			if present != nil {
				*present = true
			}
		}
	}
}

func (d *decoder) intInto(dst *int, present *bool) func(string, *yaml.Node) {
	return func(key string, v *yaml.Node) {
		if x, ok := d.r.integer(key, v); ok {
			*dst = x
			d.mark(key, v)
			if present != nil {
				*present = true
			}
		}
	}
}

func (d *decoder) root(n *yaml.Node) {
	c := d.c
	if n = deref(n); n != nil {
		d.top = n.Line
	}
	d.r.fields(n, "", map[string]func(string, *yaml.Node){
		"dept":     d.strInto(&c.Dept),
		"agent_id": d.strInto(&c.AgentID),
		"hub": func(key string, v *yaml.Node) {
			d.mark(key, v)
			d.r.fields(v, key, map[string]func(string, *yaml.Node){
				"url":                d.strInto(&c.Hub.URL),
				"token":              d.strInto(&c.Hub.Token),
				"token_file":         d.strInto(&d.tokenFile),
				"heartbeat_interval": d.durationInto(&c.Hub.HeartbeatInterval, nil),
			})
		},
		"kafka": func(key string, v *yaml.Node) {
			d.mark(key, v)
			d.r.fields(v, key, map[string]func(string, *yaml.Node){
				"brokers": func(key string, v *yaml.Node) {
					if l, ok := d.r.strings(key, v); ok {
						c.Kafka.Brokers = l
						d.mark(key, v)
					}
				},
				"topic":         d.strInto(&c.Kafka.Topic),
				"write_timeout": d.durationInto(&c.Kafka.WriteTimeout, nil),
			})
		},
		"state_dir": d.strInto(&c.StateDir),
		"metrics_listen": func(key string, v *yaml.Node) {
			s, ok := d.r.str(key, v)
			if !ok && isNull(v) {
				s, ok = "", true
			}
			if ok {
				d.metricsListen = &s
				d.mark(key, v)
			}
		},
		"queue_chunks": d.intInto(&c.QueueChunks, nil),
		"resources": func(key string, v *yaml.Node) {
			d.mark(key, v)
			v = deref(v)
			if isNull(v) {
				return
			}
			if v.Kind != yaml.SequenceNode {
				d.r.ps.add(v.Line, key, "want a list of resources, got %s", describe(v))
				return
			}
			for i, item := range v.Content {
				d.resource(fmt.Sprintf("%s[%d]", key, i), item)
			}
		},
	})
}

func (d *decoder) resource(key string, n *yaml.Node) {
	n = deref(n)
	rn := resourceNodes{key: key, line: n.Line}
	r := &rn.r
	r.Line = n.Line
	d.mark(key, n)
	d.r.fields(n, key, map[string]func(string, *yaml.Node){
		"code":           d.strInto(&r.Code),
		"connector":      d.strInto(&r.Connector),
		"connector_path": d.strInto(&r.ConnectorPath),
		"dsn":            d.strInto(&r.DSN),
		"table":          d.strInto(&r.Table),
		"columns": func(key string, v *yaml.Node) {
			if m, lines, ok := d.r.stringMap(key, v); ok {
				r.Columns, rn.columnLines = m, lines
				d.mark(key, v)
			}
		},
		"encodings": func(key string, v *yaml.Node) {
			if m, lines, ok := d.r.stringMap(key, v); ok {
				r.Encodings, rn.encodingLines = m, lines
				d.mark(key, v)
			}
		},
		"primary_key": func(key string, v *yaml.Node) {
			if l, ok := d.r.strings(key, v); ok {
				r.PrimaryKey = l
				d.mark(key, v)
			}
		},
		"watermark":          d.strInto(&r.Watermark),
		"mode":               d.strInto(&rn.mode),
		"interval":           d.durationInto(&r.Interval, &rn.interval),
		"overlap":            d.durationInto(&r.Overlap, &rn.overlap),
		"reconcile_interval": d.durationInto(&r.ReconcileInterval, &rn.reconcile),
		"chunk_rows":         d.intInto(&r.ChunkRows, &rn.chunkRows),
		"batch_rows":         d.intInto(&r.BatchRows, nil),
		"live": func(key string, v *yaml.Node) {
			if b, ok := d.r.boolean(key, v); ok {
				r.Live, rn.live = b, true
				d.mark(key, v)
			}
		},
	})
	d.res = append(d.res, rn)
}
