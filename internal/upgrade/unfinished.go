package upgrade

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// record is what an upgrade that stopped at conflicts leaves in
// workspace.UnfinishedUpgrade: enough to finish it (the lock file the
// finished upgrade writes) and to undo it (every file as it was before).
// It is committed with the project, so whoever resolves the conflicts,
// on any clone, can finish or undo the upgrade.
type record struct {
	From      string   `json:"from"`
	To        string   `json:"to"`
	Conflicts []string `json:"conflicts"`
	// Regenerated reports that generated files were brought up to date
	// already (no conflict was in Go sources or go.mod).
	Regenerated bool `json:"regenerated"`
	// Lock is the lock file the finished upgrade writes.
	Lock string `json:"lock"`
	// Before holds every file the upgrade changed, as it was.
	Before []saved `json:"before"`
}

// saved is one file before the upgrade.
type saved struct {
	Path    string `json:"path"`
	Existed bool   `json:"existed"`
	Content []byte `json:"content,omitempty"`
}

const recordHeader = "# An spgen upgrade stopped at conflicts. Resolve the conflict markers in the files\n" +
	"# listed under conflicts, then run `spgen upgrade --continue`; `spgen upgrade --abort`\n" +
	"# puts every file back as it was. Commit this file with the conflicted ones.\n"

// maxRecordSize bounds the record: the files of a project, twice over.
const maxRecordSize = 64 << 20

func newRecord(res *Result, lock *scaffold.Manifest, regenerated bool) ([]byte, error) {
	body, err := lock.Marshal()
	if err != nil {
		return nil, err
	}
	r := record{From: res.From, To: res.To, Conflicts: res.Conflicts(), Regenerated: regenerated, Lock: string(body)}
	for _, c := range res.Changes {
		r.Before = append(r.Before, saved{Path: c.Path, Existed: c.Old != nil, Content: c.Old})
	}
	out, err := yaml.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append([]byte(recordHeader), out...), nil
}

// readRecord reads and checks the record of an unfinished upgrade; every
// path in it must be one spgen may write.
func readRecord(w *workspace.Workspace) (*record, *scaffold.Manifest, error) {
	path := filepath.Join(w.Dir, filepath.FromSlash(workspace.UnfinishedUpgrade))
	info, err := os.Lstat(path)
	if os.IsNotExist(err) {
		return nil, nil, &spec.InputError{Msg: "no upgrade of this project is unfinished: there is nothing to continue or abort"}
	}
	if err != nil {
		return nil, nil, err
	}
	bad := func(msg string) error {
		return &spec.InputError{File: workspace.UnfinishedUpgrade, Msg: msg + "; restore it from version control, or remove it and check the project by hand"}
	}
	if !info.Mode().IsRegular() || info.Size() > maxRecordSize {
		return nil, nil, bad(fmt.Sprintf("is not a regular file of at most %d bytes", maxRecordSize))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var r record
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		return nil, nil, bad("is damaged: " + err.Error())
	}
	lock, err := scaffold.ParseManifest([]byte(r.Lock))
	if err != nil {
		return nil, nil, bad("holds a lock file that is not valid: " + err.Error())
	}
	for _, s := range r.Before {
		if err := w.CheckWritable([]workspace.Change{{Path: s.Path}}); err != nil {
			return nil, nil, bad(err.Error())
		}
	}
	for _, c := range r.Conflicts {
		if !slices.ContainsFunc(r.Before, func(s saved) bool { return s.Path == c }) {
			return nil, nil, bad("names conflict " + c + ", which the upgrade did not change")
		}
	}
	return &r, lock, nil
}

// MarkersError lists the conflict markers still in the files an
// unfinished upgrade conflicted in.
type MarkersError struct{ Places []string }

func (e *MarkersError) Error() string {
	return fmt.Sprintf("conflict markers are still in the files:\n  %s\nresolve them (keep what you need of both sides, remove the marker lines), then run spgen upgrade --continue again", strings.Join(e.Places, "\n  "))
}

// markers returns path:line of every conflict marker line in the files.
func markers(w *workspace.Workspace, paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		content, err := w.Read(p)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(content))
		sc.Buffer(nil, len(content)+1)
		for n := 1; sc.Scan(); n++ {
			if isMarker(sc.Text()) {
				out = append(out, fmt.Sprintf("%s:%d", p, n))
			}
		}
	}
	return out, nil
}

func isMarker(line string) bool {
	if line == "=======" {
		return true
	}
	for _, m := range []string{"<<<<<<< ", "||||||| ", ">>>>>>> "} {
		if strings.HasPrefix(line, m) {
			return true
		}
	}
	return false
}

// Continue finishes an upgrade that stopped at conflicts, once they are
// resolved: generated files, go.mod and go.sum follow the resolved
// sources, the project is type-checked, and then those files, the lock
// file and the removal of the record are written as one transaction.
// Interrupted or failing before that, it leaves the project as it was.
func Continue(ctx context.Context, w *workspace.Workspace, o Options) (*Result, error) {
	r, lock, err := readRecord(w)
	if err != nil {
		return nil, err
	}
	left, err := markers(w, r.Conflicts)
	if err != nil {
		return nil, err
	}
	if len(left) > 0 {
		return nil, &MarkersError{Places: left}
	}
	res := &Result{From: r.From, To: r.To}
	// The generated files the record's lock knows are the ones to keep
	// up to date or remove.
	w.Manifest = lock.Clone()
	if err := regenerateStaged(ctx, w, o, res, lock); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted before writing: %w", err)
	}
	return res, w.Apply(res.Changes, lock, workspace.StateChange{Path: workspace.UnfinishedUpgrade})
}

// Abort undoes an upgrade that stopped at conflicts: every file it changed
// gets back its content from before (whatever was done to it since), files
// it created are removed, and the record goes, in one transaction.
func Abort(w *workspace.Workspace) (*Result, error) {
	r, _, err := readRecord(w)
	if err != nil {
		return nil, err
	}
	res := &Result{From: r.To, To: r.From}
	for _, s := range r.Before {
		disk, err := w.Read(s.Path)
		if err != nil {
			return nil, err
		}
		c := workspace.Change{Path: s.Path, Old: disk}
		if s.Existed {
			c.New = s.Content
			if c.New == nil {
				c.New = []byte{}
			}
		}
		if disk == nil && !s.Existed || disk != nil && s.Existed && bytes.Equal(disk, c.New) {
			continue
		}
		res.Changes = append(res.Changes, c)
		res.Files = append(res.Files, File{Path: s.Path, Action: Restored})
	}
	return res, w.Apply(res.Changes, nil, workspace.StateChange{Path: workspace.UnfinishedUpgrade})
}
