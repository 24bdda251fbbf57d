package generate_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-control-plane/spgen/internal/generate"
	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// Targets on a 2-core machine, warm caches: generate ≤ 0.6 s when nothing
// changed, ≤ 1 s after a types edit, flat in the number of kinds.

func project(b *testing.B, kinds int) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "sp")
	if _, err := initialize.Run(context.Background(), testutil.Kinds(kinds), initialize.Options{Dir: dir, SpgenVersion: "devel"}); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkGenerateCurrent is `spgen generate` on an up-to-date project:
// after the first run the artifacts come from the cache, nothing is
// written (also the cost of --check).
func BenchmarkGenerateCurrent(b *testing.B) {
	for _, n := range []int{1, 5, 10} {
		b.Run(fmt.Sprintf("kinds=%d", n), func(b *testing.B) {
			dir := project(b, n)
			for b.Loop() {
				w, err := workspace.Open(dir, workspace.OpenOptions{})
				if err != nil {
					b.Fatal(err)
				}
				changes, err := generate.Run(context.Background(), w, generate.Options{})
				w.Close()
				if err != nil || len(changes) != 0 {
					b.Fatalf("changes %d, err %v", len(changes), err)
				}
			}
		})
	}
}

// BenchmarkGenerateAfterEdit is `spgen generate` after a types edit: generate,
// type-check, write. A string field changes the CRD only; a list field
// changes the deepcopy code too.
func BenchmarkGenerateAfterEdit(b *testing.B) {
	for _, c := range []struct {
		kinds int
		field string
	}{{1, "string"}, {10, "string"}, {1, "[]string"}, {10, "[]string"}} {
		n := c.kinds
		b.Run(fmt.Sprintf("kinds=%d/field=%s", n, c.field), func(b *testing.B) {
			dir := project(b, n)
			types := filepath.Join(dir, "api", "v1alpha1", "velero_types.go")
			orig, err := os.ReadFile(types)
			if err != nil {
				b.Fatal(err)
			}
			run := time.Now().UnixNano()
			for i := 0; b.Loop(); i++ {
				// Every edit is new, so no run is answered from the cache.
				field := fmt.Sprintf("\t// Extra is edit %d of run %d.\n\t// +optional\n\tExtra %s `json:\"extra,omitempty\"`\n", i, run, c.field)
				content := bytes.Replace(orig, []byte("type VeleroSpec struct {\n"), []byte("type VeleroSpec struct {\n"+field), 1)
				if err := os.WriteFile(types, content, 0o644); err != nil {
					b.Fatal(err)
				}
				w, err := workspace.Open(dir, workspace.OpenOptions{})
				if err != nil {
					b.Fatal(err)
				}
				changes, err := generate.Run(context.Background(), w, generate.Options{})
				w.Close()
				if err != nil || len(changes) == 0 {
					b.Fatalf("changes %d, err %v", len(changes), err)
				}
			}
		})
	}
}
