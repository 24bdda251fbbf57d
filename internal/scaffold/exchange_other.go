//go:build !linux

package scaffold

import "os"

// exchange swaps two directories with two renames. Without an atomic
// exchange an interruption between them leaves the old tree at a, which
// the error message names.
func exchange(a, b string) error {
	old := b + ".spgen-old"
	if err := os.Rename(b, old); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		_ = os.Rename(old, b)
		return err
	}
	return os.Rename(old, a)
}
