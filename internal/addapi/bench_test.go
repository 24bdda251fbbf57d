package addapi_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-control-plane/spgen/internal/addapi"
	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/spec"
	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/workspace"
)

// Target on a 2-core machine, warm caches: add-api ≤ 2 s.
func BenchmarkAddAPI(b *testing.B) {
	base := filepath.Join(b.TempDir(), "base")
	if _, err := initialize.Run(context.Background(), testutil.Kinds(1), initialize.Options{Dir: base, SpgenVersion: "devel"}); err != nil {
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
		defer w.Close()
		if _, err := addapi.Run(context.Background(), w, spec.Kind{Kind: "Schedule", Version: spec.DefaultVersion}, addapi.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
