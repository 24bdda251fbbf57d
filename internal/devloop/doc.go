// Package devloop tests the dev loop generated projects get: `task dev`
// runs the provider from source against a local openMCP until it is
// stopped, and whichever way it is stopped leaves nothing running.
package devloop
