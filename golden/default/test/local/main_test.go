/*
Copyright The sp-velero Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package local_test runs the provider's own binary against a local
// openMCP (package local): the path production takes, with the permissions
// the provider asks openMCP for and nothing more.
package local_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"example.com/acme/sp-velero/internal/wiring"
	"example.com/acme/sp-velero/test/apiserver"
	"example.com/acme/sp-velero/test/local"
)

// providerName names the ServiceProvider, and the ProviderConfig the
// provider reads.
const providerName = "velero"

var env *local.Environment

// TestMain starts a local openMCP for the tests, and stops the provider
// afterwards as Kubernetes stops a pod: a provider that does not exit
// cleanly on SIGTERM fails the run.
func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	// On a machine's first run the API server binaries are built, which
	// takes longer than starting the local openMCP may.
	if _, err := apiserver.Binaries(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiserver.Timeout(5*time.Minute))
	defer cancel()
	var err error
	env, err = local.Start(ctx, local.Options{ProviderName: providerName, Workload: wiring.WorkloadCluster})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local openMCP:", err)
		return 1
	}
	defer env.Stop()
	code := m.Run()
	if running.process != nil {
		if err := running.process.Stop(apiserver.Timeout(30 * time.Second)); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the provider with SIGTERM:", err)
			return 1
		}
	}
	return code
}

var running struct {
	once    sync.Once
	process *local.Process
	init    string
	err     error
}

// provider returns the provider's binary running as openMCP runs it,
// after its init finished: built from ./cmd/sp-velero, run once for all
// tests.
func provider(t *testing.T) *local.Process {
	t.Helper()
	running.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), apiserver.Timeout(5*time.Minute))
		defer cancel()
		bin, err := env.Build(ctx, "./cmd/sp-velero")
		if err != nil {
			running.err = err
			return
		}
		initJob, err := local.StartProcess(env.Command(bin, "init"), nil)
		if err != nil {
			running.err = err
			return
		}
		if running.err = initJob.Wait(apiserver.Timeout(3 * time.Minute)); running.err != nil {
			return
		}
		running.init = initJob.Log()
		running.process, running.err = local.StartProcess(env.Command(bin, "run", "--leader-elect=true", "--health-probe-bind-address=127.0.0.1:0"), nil)
	})
	if running.err != nil {
		t.Fatal(running.err)
	}
	return running.process
}
