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

package local_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	clustersv1alpha1 "github.com/openmcp-project/openmcp-operator/api/clusters/v1alpha1"
	apiconst "github.com/openmcp-project/openmcp-operator/api/constants"
	providerv1alpha1 "github.com/openmcp-project/openmcp-operator/api/provider/v1alpha1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"example.com/acme/sp-velero/internal/wiring"
	"example.com/acme/sp-velero/test/local"
)

// TestInitAndRun: init installs each CRD on the cluster its label names and
// registers the API at the ServiceProvider; run takes its lease on the
// platform cluster.
func TestInitAndRun(t *testing.T) {
	p := provider(t)
	ctx := t.Context()
	var crds apiextensionsv1.CustomResourceDefinitionList
	for cluster, want := range map[string]string{local.Platform: "providerconfigs." + wiring.APIGroup, local.Onboarding: "veleroes." + wiring.APIGroup} {
		if err := env.Client(cluster).List(ctx, &crds); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(crds.Items, func(c apiextensionsv1.CustomResourceDefinition) bool { return c.Name == want }) {
			t.Errorf("CRD %s is not on the %s cluster", want, cluster)
		}
		for _, c := range crds.Items {
			if label := c.Labels[apiconst.ClusterLabel]; label != "" && label != cluster {
				t.Errorf("CRD %s (for the %s cluster) is on the %s cluster", c.Name, label, cluster)
			}
		}
	}
	var sp providerv1alpha1.ServiceProvider
	if err := env.Client(local.Platform).Get(ctx, client.ObjectKey{Name: providerName}, &sp); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sp.Status.Resources, wiring.Kinds) {
		t.Errorf("ServiceProvider lists %v, want %v", sp.Status.Resources, wiring.Kinds)
	}
	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: env.ProviderNamespace(), Name: providerName + "." + wiring.APIGroup}
	err := env.WaitFor(ctx, p, "the provider's lease", 3*time.Minute, func(ctx context.Context) (bool, string, error) {
		err := env.Client(local.Platform).Get(ctx, key, lease)
		if apierrors.IsNotFound(err) {
			return false, "no lease " + key.String(), nil
		}
		return err == nil && lease.Spec.HolderIdentity != nil, "lease has no holder", err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// noAccessLeft waits until the provider has dropped the ClusterRequests and
// AccessRequests it made for the object name in namespace.
func noAccessLeft(t *testing.T, p *local.Process, name, namespace string) {
	t.Helper()
	labels := client.MatchingLabels{apiconst.OnboardingNameLabel: name, apiconst.OnboardingNamespaceLabel: namespace}
	err := env.WaitFor(t.Context(), p, "the provider's requests to be gone", 3*time.Minute, func(ctx context.Context) (bool, string, error) {
		var ars clustersv1alpha1.AccessRequestList
		var crs clustersv1alpha1.ClusterRequestList
		if err := env.Client(local.Platform).List(ctx, &ars, labels); err != nil {
			return false, "", err
		}
		if err := env.Client(local.Platform).List(ctx, &crs, labels); err != nil {
			return false, "", err
		}
		return len(ars.Items)+len(crs.Items) == 0, fmt.Sprintf("%d AccessRequests and %d ClusterRequests left", len(ars.Items), len(crs.Items)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ignoreSkipped is what the provider logs when it skips an object with the
// ignore operation annotation.
const ignoreSkipped = "Skipping resource due to ignore operation annotation"

// ready is the Ready condition among conditions, or a zero one.
func ready(conditions []metav1.Condition) metav1.Condition {
	for _, c := range conditions {
		if c.Type == "Ready" {
			return c
		}
	}
	return metav1.Condition{}
}
