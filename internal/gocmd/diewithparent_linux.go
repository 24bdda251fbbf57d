package gocmd

import "syscall"

// dieWithParent asks the kernel to kill the child when the thread that
// started it ends; Go's threads end only with the process here, as spgen
// locks no goroutine to a thread.
func dieWithParent(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
