// Package taskfile tests the tasks generated projects run through Task,
// with the Task release users install: `task dev` runs the provider from
// source against a local openMCP and, whichever way it is stopped, leaves
// nothing running; the release tasks make the commits the release
// workflow publishes; the spgen tasks say what to do when no spgen runs.
package taskfile
