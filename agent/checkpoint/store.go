package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/tongban/tongban/agent/atomicfile"
)

// Store reads and writes the checkpoints of a state directory.
type Store struct {
	dir string
}

// Open returns the store of dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Path is the file holding a resource's checkpoint.
func (s *Store) Path(resource string) string {
	return filepath.Join(s.dir, "checkpoint-"+url.PathEscape(resource)+".json")
}

// Load returns the resource's checkpoint; ok is false when there is none
// yet. A file that cannot be read or parsed is an error naming it: the agent
// does not silently start over.
func (s *Store) Load(resource string) (cp Checkpoint, ok bool, err error) {
	path := s.Path(resource)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("checkpoint: %w", err)
	}
	if cp, err = Parse(resource, data); err != nil {
		return Checkpoint{}, false, fmt.Errorf("checkpoint %s: %w (delete the file to start the resource over)", path, err)
	}
	return cp, true, nil
}

// Parse reads a checkpoint file's content and checks it belongs to resource.
func Parse(resource string, data []byte) (Checkpoint, error) {
	var cp Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return Checkpoint{}, err
	}
	if err := cp.Validate(); err != nil {
		return Checkpoint{}, err
	}
	if cp.Resource != resource {
		return Checkpoint{}, fmt.Errorf("belongs to resource %q, not %q", cp.Resource, resource)
	}
	return cp, nil
}

// Save replaces the resource's checkpoint atomically and durably.
func (s *Store) Save(cp Checkpoint) error {
	if err := cp.Validate(); err != nil {
		return fmt.Errorf("checkpoint of %s: %w", cp.Resource, err)
	}
	if cp.UpdatedAt.IsZero() {
		cp.UpdatedAt = time.Now().UTC()
	}
	data, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint of %s: %w", cp.Resource, err)
	}
	if err := atomicfile.Write(s.Path(cp.Resource), append(data, '\n'), 0o640); err != nil {
		return fmt.Errorf("checkpoint of %s: %w", cp.Resource, err)
	}
	return nil
}
