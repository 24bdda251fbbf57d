//go:build e2e

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

// Package e2e runs the provider in a complete local openMCP installation on
// kind clusters. It needs Docker and the provider image (IMAGE), so it only
// builds with the e2e tag: `task e2e`, or go test -tags e2e ./test/e2e/...
package e2e

import (
	"flag"
	"os"
	"testing"

	"github.com/openmcp-project/openmcp-testing/pkg/providers"
	"github.com/openmcp-project/openmcp-testing/pkg/setup"
	"github.com/openmcp-project/openmcp-testing/pkg/setup/extensions"
	"github.com/openmcp-project/openmcp-testing/pkg/setup/extensions/fluxcd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/e2e-framework/pkg/env"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
)

// providerName names the ServiceProvider; the ProviderConfig in platform/ has
// the same name, because the provider reads only that one.
const providerName = "velero"

// mcpName names the managed control plane the tests create.
const mcpName = "test"

var testenv env.Environment

func TestMain(m *testing.M) {
	klog.InitFlags(nil)
	flag.Parse()
	image := os.Getenv("IMAGE")
	if image == "" {
		image = "ghcr.io/your-org/sp-velero:dev"
	}
	openmcp := setup.OpenMCPSetup{
		Namespace: "openmcp-system",
		Operator: setup.OpenMCPOperatorSetup{
			Name:         "openmcp-operator",
			Image:        "ghcr.io/openmcp-project/images/openmcp-operator:v1.3.0",
			Environment:  "debug",
			PlatformName: "platform",
		},
		ClusterProviders: []providers.ClusterProviderSetup{{
			Name:  "kind",
			Image: "ghcr.io/openmcp-project/images/cluster-provider-kind:v0.6.0",
		}},
		ServiceProviders: []providers.ServiceProviderSetup{{
			Name:               providerName,
			Image:              image,
			LoadImageToCluster: true,
		}},
		// Flux on the platform cluster installs the domain service's chart.
		Extensions: []extensions.Extension{&fluxcd.FluxCD{}},
	}
	testenv = env.NewWithConfig(envconf.New().WithNamespace(openmcp.Namespace))
	openmcp.Bootstrap(testenv)
	os.Exit(testenv.Run(m))
}
