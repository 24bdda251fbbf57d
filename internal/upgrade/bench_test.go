package upgrade_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/upgrade"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// BenchmarkUpgrade3Kinds upgrades a generation-6 project with three kinds,
// with an edit in a reconciler to merge: the whole command, type-check
// included.
func BenchmarkUpgrade3Kinds(b *testing.B) {
	gen6, err := render.LookupGeneration("6")
	if err != nil {
		b.Fatal(err)
	}
	p := veleroProject()
	p.Options = spec.Options{WorkloadCluster: true, SecretWatcher: true, Sample: true}
	p.Kinds = append(p.Kinds, spec.Kind{Kind: "Schedule", Version: "v1alpha1"}, spec.Kind{Kind: "Backup", Version: "v1alpha1"})
	base := filepath.Join(b.TempDir(), "base")
	if _, err := initialize.Run(context.Background(), p, initialize.Options{Dir: base, SpgenVersion: "devel", Generation: gen6, SkipVerify: true}); err != nil {
		b.Fatal(err)
	}
	ctrl := filepath.Join(base, "internal", "controller", "schedule_controller.go")
	data, err := os.ReadFile(ctrl)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(ctrl, append(data, []byte("\n// userNote is the user's.\nconst userNote = \"mine\"\n")...), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "sp")
		if err := os.CopyFS(dir, os.DirFS(base)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		w, err := workspace.Open(dir, workspace.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		res, err := upgrade.Run(context.Background(), w, upgrade.Options{SpgenVersion: "devel"})
		w.Close()
		if err != nil || res.Count(upgrade.Merged) != 1 {
			b.Fatalf("merged %d, err %v", res.Count(upgrade.Merged), err)
		}
	}
}
