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

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/openmcp-project/openmcp-testing/pkg/clusterutils"
	"github.com/openmcp-project/openmcp-testing/pkg/conditions"
	"github.com/openmcp-project/openmcp-testing/pkg/providers"
	"github.com/openmcp-project/openmcp-testing/pkg/resources"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/e2e-framework/klient/wait"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
)

func TestScheduleLifecycle(t *testing.T) {
	f := features.New("schedule lifecycle").
		Setup(providers.CreateMCP(mcpName, wait.WithTimeout(10*time.Minute))).
		Setup(func(ctx context.Context, t *testing.T, c *envconf.Config) context.Context {
			if _, err := clusterutils.ImportToPlatformCluster(ctx, c, "platform"); err != nil {
				t.Fatalf("importing the ProviderConfig: %v", err)
			}
			return ctx
		}).
		Assess("schedule becomes ready", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			onboarding, err := clusterutils.OnboardingConfig()
			if err != nil {
				t.Fatal(err)
			}
			objs, err := resources.CreateObjectsFromDir(ctx, onboarding, "onboarding")
			if err != nil {
				t.Fatalf("creating the Schedule: %v", err)
			}
			for i := range objs.Items {
				if err := wait.For(conditions.Match(&objs.Items[i], onboarding, "Ready", corev1.ConditionTrue), wait.WithTimeout(5*time.Minute)); err != nil {
					t.Error(err)
				}
			}
			return ctx
		}).
		Teardown(providers.DeleteMCP(mcpName, wait.WithTimeout(10*time.Minute)))
	testenv.Test(t, f.Feature())
}
