package initialize_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/open-control-plane/spgen/internal/codegen"
	"github.com/open-control-plane/spgen/internal/initialize"
	"github.com/open-control-plane/spgen/internal/render"
	"github.com/open-control-plane/spgen/internal/scaffold"
	"github.com/open-control-plane/spgen/internal/testutil"
	"github.com/open-control-plane/spgen/internal/typecheck"
)

// Targets on a 2-core machine with warm caches: render ≤ 50 ms, code
// generation ≤ 1.5 s, verify ≤ 1 s, whole init ≤ 4 s.

func BenchmarkRender(b *testing.B) {
	p := goldenProject(threeKinds)
	for b.Loop() {
		if _, err := render.Render(p); err != nil {
			b.Fatal(err)
		}
	}
}

func stagedProject(b *testing.B) string {
	b.Helper()
	p := goldenProject(threeKinds)
	tree, err := render.Render(p)
	if err != nil {
		b.Fatal(err)
	}
	stage, err := scaffold.NewDraft(filepath.Join(b.TempDir(), "sp"), false)
	if err != nil {
		b.Fatal(err)
	}
	if err := stage.Write(tree); err != nil {
		b.Fatal(err)
	}
	return stage.Dir
}

func BenchmarkGenerate(b *testing.B) {
	dir := stagedProject(b)
	p := goldenProject(threeKinds)
	for b.Loop() {
		if _, err := codegen.Generate(context.Background(), dir, p, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	dir := filepath.Join(testutil.GoldenRoot, "all")
	if err := typecheck.Module(context.Background(), dir); err != nil { // warm the build cache
		b.Fatal(err)
	}
	for b.Loop() {
		if err := typecheck.Module(context.Background(), dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInit(b *testing.B) {
	p := goldenProject(threeKinds)
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "sp")
		if _, err := initialize.Run(context.Background(), p, initialize.Options{Dir: dir, SpgenVersion: "devel"}); err != nil {
			b.Fatal(err)
		}
	}
}
