package testutil

import "flag"

// Update is the -update flag: tests with golden files rewrite them. Every
// test package imports testutil, so `go test ./... -update` is accepted by
// all of them.
var Update = flag.Bool("update", false, "rewrite golden files from the current templates")
