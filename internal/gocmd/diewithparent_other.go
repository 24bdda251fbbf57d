//go:build !linux

package gocmd

import "syscall"

// dieWithParent has no kernel support outside Linux; an interrupt still
// stops the child through its context.
func dieWithParent(*syscall.SysProcAttr) {}
