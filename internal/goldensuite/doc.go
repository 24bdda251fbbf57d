// Package goldensuite has no code of its own: its tests run each golden
// project's own test suite (API servers, the local openMCP), the longest
// tests of spgen, in a package of their own so that go test ./... runs them
// beside the other packages' tests. The projects run one after the other:
// beside spgen's other tests, two at a time only slowed those down.
package goldensuite
