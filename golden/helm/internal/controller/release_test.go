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
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"example.com/acme/sp-velero/internal/controller"
	"example.com/acme/sp-velero/internal/managed"
)

// TestReleases: one object installs two releases, each with its
// OCIRepository and HelmRelease, both waiting for Flux; the first has the
// default options, the second its own, and names the first in dependsOn,
// in its namespace.
func TestReleases(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, sourcev1.AddToScheme, helmv2.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	platform := fake.NewClientBuilder().WithScheme(scheme).Build()
	owner := managed.Owner{Provider: "test", GroupKind: schema.GroupKind{Group: "example.com", Kind: "Service"}, Namespace: "tenant", Name: "service"}
	set := managed.NewSet(owner, map[managed.Cluster]client.Client{managed.Platform: platform})
	access := client.ObjectKey{Namespace: "tenant", Name: "access"}
	chart := controller.Chart{Repository: "oci://registry.example.com/charts/service", Version: "1.0.0", Interval: time.Minute}
	opts := controller.DefaultReleaseOptions()
	opts.UpgradeCRDs = helmv2.Skip
	opts.UpgradeRemediation = helmv2.UninstallRemediationStrategy
	opts.UninstallTimeout = 10 * time.Minute
	opts.DriftDetection = helmv2.DriftDetectionWarn
	controller.AddRelease(set, "service-crds", controller.Release{Chart: chart, Access: access, Namespace: "service", Name: "crds", Options: controller.DefaultReleaseOptions()})
	controller.AddRelease(set, "service", controller.Release{Chart: chart, Access: access, Namespace: "service", Name: "service", Options: opts, DependsOn: []string{"service-crds"}})
	results, err := set.Apply(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if waiting, ok := managed.Waiting(results); len(results) != 4 || !ok {
		t.Errorf("results %v, want two sources and two releases waiting for Flux (%v)", results, waiting)
	}

	first := helmRelease(t, platform, "service-crds")
	if first.Spec.DependsOn != nil || first.Spec.Install.CRDs != helmv2.CreateReplace || first.Spec.Upgrade.CRDs != helmv2.CreateReplace ||
		first.Spec.DriftDetection.Mode != helmv2.DriftDetectionEnabled || first.Spec.Timeout.Duration != 5*time.Minute {
		t.Errorf("the first release does not have the default options: %+v", first.Spec)
	}
	second := helmRelease(t, platform, "service")
	want := helmv2.HelmReleaseSpec{
		Timeout:        &metav1.Duration{Duration: 5 * time.Minute},
		Install:        &helmv2.Install{CRDs: helmv2.CreateReplace, Remediation: &helmv2.InstallRemediation{Retries: 3}},
		Upgrade:        &helmv2.Upgrade{CRDs: helmv2.Skip, Remediation: second.Spec.Upgrade.Remediation},
		Uninstall:      &helmv2.Uninstall{Timeout: &metav1.Duration{Duration: 10 * time.Minute}},
		DriftDetection: &helmv2.DriftDetection{Mode: helmv2.DriftDetectionWarn},
		DependsOn:      []helmv2.DependencyReference{{Name: "service-crds", Namespace: "tenant"}},
	}
	got := helmv2.HelmReleaseSpec{
		Timeout: second.Spec.Timeout, Install: second.Spec.Install, Upgrade: second.Spec.Upgrade, Uninstall: second.Spec.Uninstall,
		DriftDetection: second.Spec.DriftDetection, DependsOn: second.Spec.DependsOn,
	}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("release settings\n%+v\nwant\n%+v", got, want)
	}
	if r := second.Spec.Upgrade.Remediation; r.Retries != 3 || r.GetStrategy() != helmv2.UninstallRemediationStrategy || !r.MustRemediateLastFailure() {
		t.Errorf("upgrade remediation %+v, want 3 retries, then uninstall", r)
	}
	if second.Spec.ChartRef == nil || second.Spec.ChartRef.Name != "service" || second.Spec.TargetNamespace != "service" {
		t.Errorf("the second release installs %+v into %q, want its own chart into service", second.Spec.ChartRef, second.Spec.TargetNamespace)
	}
}

func helmRelease(t *testing.T, c client.Client, name string) *helmv2.HelmRelease {
	t.Helper()
	hr := &helmv2.HelmRelease{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "tenant", Name: name}, hr); err != nil {
		t.Fatalf("HelmRelease %s: %v", name, err)
	}
	return hr
}
