package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tongban/tongban/agent/atomicfile"
	"github.com/tongban/tongban/agent/hubclient"
)

// definitionsFile caches, in the state directory, the catalog definitions
// the hub sent at the last registration, so the agent can start while the
// hub is down.
const definitionsFile = "definitions.json"

type definitionCache struct {
	SavedAt     time.Time              `json:"saved_at"`
	Hub         string                 `json:"hub"`
	Definitions []hubclient.Definition `json:"definitions"`
}

func saveDefinitions(dir, hub string, defs []hubclient.Definition) error {
	data, err := json.MarshalIndent(definitionCache{SavedAt: time.Now().UTC(), Hub: hub, Definitions: defs}, "", "  ")
	if err != nil {
		return fmt.Errorf("cache catalog definitions: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, definitionsFile), append(data, '\n'), 0o640); err != nil {
		return fmt.Errorf("cache catalog definitions: %w", err)
	}
	return nil
}

// loadDefinitions returns the cached definitions of every code, or ok false
// when the cache is missing or lacks one of them.
func loadDefinitions(dir string, codes []string) (defs []hubclient.Definition, savedAt time.Time, ok bool, err error) {
	path := filepath.Join(dir, definitionsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{}, false, nil
	}
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("catalog definitions cache: %w", err)
	}
	var c definitionCache
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, time.Time{}, false, fmt.Errorf("catalog definitions cache %s: %w", path, err)
	}
	byCode := make(map[string]hubclient.Definition, len(c.Definitions))
	for _, d := range c.Definitions {
		if err := d.Check(); err != nil {
			return nil, time.Time{}, false, fmt.Errorf("catalog definitions cache %s: %w", path, err)
		}
		byCode[d.Resource.Code] = d
	}
	for _, code := range codes {
		d, found := byCode[code]
		if !found {
			return nil, time.Time{}, false, nil
		}
		defs = append(defs, d)
	}
	return defs, c.SavedAt, true, nil
}
