package hsproject

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrNotEmpty means the output folder holds files and overwriting was not
// asked for.
var ErrNotEmpty = errors.New("folder is not empty")

// Write writes the project's files under dir, creating it. A folder that
// already holds anything is refused unless overwrite is set: then the
// project's own files are replaced and everything else is left as it was
// (a .git folder, components added by hand). It returns the other
// -hsmeta.json files found beside the ones written, which HubSpot would read
// as components too.
func (p *Project) Write(dir string, overwrite bool) (others []string, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", dir, err)
	case len(entries) > 0 && !overwrite:
		return nil, fmt.Errorf("%s: %w (use --force to replace the project files in it, or choose another --out)", dir, ErrNotEmpty)
	}
	for _, f := range p.Files {
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(f.Path)), f.Data); err != nil {
			return nil, err
		}
	}
	return p.strayComponents(dir)
}

// writeFile replaces path in one step (write a temporary file, rename), so
// an interrupted run leaves the old file or the new one, never half of one.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hsproject-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// strayComponents lists -hsmeta.json files in the folders the project
// writes to that are not the project's own.
func (p *Project) strayComponents(dir string) ([]string, error) {
	var own, stray []string
	for _, f := range p.Files {
		own = append(own, f.Path)
	}
	for _, sub := range []string{"src/app", "src/app/webhooks"} {
		entries, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(sub)))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			rel := sub + "/" + e.Name()
			if !e.IsDir() && strings.HasSuffix(e.Name(), "-hsmeta.json") && !slices.Contains(own, rel) {
				stray = append(stray, rel)
			}
		}
	}
	return stray, nil
}
