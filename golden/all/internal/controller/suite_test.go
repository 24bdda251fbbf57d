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

package controller_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"example.com/acme/sp-velero/test/apiserver"
)

// apiServer is a real kube-apiserver and etcd with the provider's CRDs. The
// first test that needs it starts it; plain unit tests in this package run
// without it.
var apiServer = &apiserver.Server{
	CRDDirectories: []string{filepath.Join("..", "..", "api", "crds", "manifests")},
}

// mcpServer is the managed control plane: another API server, as in openMCP.
var mcpServer = &apiserver.Server{}

// workloadServer is the workload cluster, a third API server.
var workloadServer = &apiserver.Server{}

func TestMain(m *testing.M) {
	code := m.Run()
	apiServer.Stop()
	mcpServer.Stop()
	workloadServer.Stop()
	os.Exit(code)
}

// run gives tests a context that ends with them.
func run(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}
