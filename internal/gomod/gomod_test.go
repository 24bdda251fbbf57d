package gomod

import (
	"strings"
	"testing"
)

const base = `module example.com/acme/sp

go 1.26.0

require (
	k8s.io/api v0.36.2
	sigs.k8s.io/old v1.0.0
)

require k8s.io/klog/v2 v2.130.0 // indirect
`

const next = `module example.com/spgen/stack

go 1.26.5

require (
	k8s.io/api v0.36.3
	k8s.io/utils v0.0.1
)

require k8s.io/klog/v2 v2.140.0 // indirect
`

func TestMergeStackWinsUserKept(t *testing.T) {
	user := strings.Replace(base, "sigs.k8s.io/old v1.0.0\n", "sigs.k8s.io/old v1.0.0\n\tgithub.com/acme/mine v1.2.3\n", 1) +
		"\nreplace github.com/acme/mine => ../mine\n"
	got, err := Merge([]byte(base), []byte(user), []byte(next))
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, want := range []string{"module example.com/acme/sp\n", "go 1.26.5", "k8s.io/api v0.36.3", "k8s.io/utils v0.0.1", "k8s.io/klog/v2 v2.140.0 // indirect", "github.com/acme/mine v1.2.3", "replace github.com/acme/mine => ../mine"} {
		if !strings.Contains(s, want) {
			t.Errorf("merged go.mod lacks %q:\n%s", want, s)
		}
	}
	for _, gone := range []string{"v0.36.2", "sigs.k8s.io/old", "v2.130.0"} {
		if strings.Contains(s, gone) {
			t.Errorf("merged go.mod still has %q:\n%s", gone, s)
		}
	}
}

func TestMergeKeepsUserVersionOfDroppedModule(t *testing.T) {
	user := strings.Replace(base, "sigs.k8s.io/old v1.0.0", "sigs.k8s.io/old v1.1.0", 1)
	got, err := Merge([]byte(base), []byte(user), []byte(next))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "sigs.k8s.io/old v1.1.0") {
		t.Errorf("the user's own version of a module the stack dropped was removed:\n%s", got)
	}
}

func TestMergeSum(t *testing.T) {
	baseSum := "k8s.io/api v0.36.2 h1:old=\nk8s.io/api v0.36.2/go.mod h1:oldmod=\n"
	user := baseSum + "github.com/acme/mine v1.2.3 h1:mine=\n"
	nextSum := "k8s.io/api v0.36.3 h1:new=\n"
	got := string(MergeSum([]byte(baseSum), []byte(user), []byte(nextSum)))
	want := "github.com/acme/mine v1.2.3 h1:mine=\nk8s.io/api v0.36.3 h1:new=\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
