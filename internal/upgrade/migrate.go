package upgrade

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/open-control-plane/spgen/internal/migration"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// shapeChange carries what users keep in a project (their ProviderConfig
// manifests) over to an API whose shape the upgrade changes; nil when it
// changes none.
type shapeChange func(content []byte) ([]byte, bool, error)

// migrations is what moving from generation old to next changes in the
// shape of the project's own API.
func migrations(w *workspace.Workspace, old, next render.Generation) shapeChange {
	if !w.Project.Options.Helm() || old.ListsHelmVersions() || !next.ListsHelmVersions() {
		return nil
	}
	group := w.Project.APIGroup()
	return func(content []byte) ([]byte, bool, error) { return migration.HelmVersions(content, group) }
}

// apply returns content migrated when path is a YAML file the shape change
// changes; nil when it changes nothing.
func (m shapeChange) apply(path string, content []byte) ([]byte, error) {
	if m == nil || content == nil || !isYAML(path) {
		return nil, nil
	}
	out, changed, err := m(content)
	var shape *migration.Error
	if errors.As(err, &shape) {
		return nil, &spec.InputError{File: path, Line: shape.Line, Msg: "cannot carry this over to the ProviderConfig's new shape: " + shape.Msg}
	}
	if err != nil || !changed {
		return nil, err
	}
	return out, nil
}

func isYAML(path string) bool {
	return strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")
}

// migrateUsersFiles migrates the YAML files of the project the plan does
// not change (the user's own, and spgen's the user rewrote or the
// templates kept), and says that the objects on clusters need the same
// change.
func migrateUsersFiles(w *workspace.Workspace, res *Result, m shapeChange) error {
	if m == nil {
		return nil
	}
	res.Warnings = append(res.Warnings, "the ProviderConfig of a Helm project now lists spec.versions (version, chartVersion, chartUrl, "+
		"chartPullSecret, chartCertSecret, values) instead of spec.availableCharts, spec.chartPullSecret and spec.imagePullSecrets; "+
		"the project's manifests were carried over (each version of each chart one entry, the pull secrets in its values), "+
		"convert the ProviderConfigs on your platform clusters the same way when you deploy this version")
	planned := map[string]bool{}
	for _, c := range res.Changes {
		planned[c.Path] = true
	}
	var paths []string
	err := filepath.WalkDir(w.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(w.Dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !planned[rel] && d.Type().IsRegular() && isYAML(rel) {
			paths = append(paths, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, path := range paths {
		content, err := w.Read(path)
		if err != nil {
			return err
		}
		out, err := m.apply(path, content)
		if err != nil {
			return err
		}
		if out != nil {
			res.Files = append(res.Files, File{Path: path, Action: Migrated, Note: "ProviderConfig availableCharts became versions"})
			res.Changes = append(res.Changes, workspace.Change{Path: path, Old: content, New: out})
		}
	}
	return nil
}
