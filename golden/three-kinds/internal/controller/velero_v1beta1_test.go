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
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "example.com/acme/sp-velero/api/v1alpha1"
	v1beta1 "example.com/acme/sp-velero/api/v1beta1"
	"example.com/acme/sp-velero/internal/wiring"
)

// TestVeleroV1beta1Served checks that Velero is served as v1beta1
// and stored as v1alpha1: an object written in one version reads back in
// the other. The v1alpha1 reconciler handles objects of both versions.
// Once the schemas differ, the versions need a conversion webhook and this
// test needs the fields that differ.
func TestVeleroV1beta1Served(t *testing.T) {
	c := newClient(t, apiServer, wiring.OnboardingScheme())
	ns := createNamespace(t, c, "velero-v1beta1")
	obj := &v1beta1.Velero{
		ObjectMeta: metav1.ObjectMeta{Name: "mcp", Namespace: ns},
		Spec:       v1beta1.VeleroSpec{Version: "1.0.0"},
	}
	if err := c.Create(run(t), obj); err != nil {
		t.Fatalf("creating a v1beta1 Velero: %v", err)
	}
	stored := &v1alpha1.Velero{}
	if err := c.Get(run(t), client.ObjectKeyFromObject(obj), stored); err != nil {
		t.Fatalf("reading it as v1alpha1: %v", err)
	}
	if stored.Spec.Version != obj.Spec.Version {
		t.Fatalf("spec.version %q as v1alpha1, want %q", stored.Spec.Version, obj.Spec.Version)
	}
	stored.Spec.Version = "2.0.0"
	if err := c.Update(run(t), stored); err != nil {
		t.Fatalf("updating it as v1alpha1: %v", err)
	}
	if err := c.Get(run(t), client.ObjectKeyFromObject(obj), obj); err != nil || obj.Spec.Version != "2.0.0" {
		t.Fatalf("reading the update as v1beta1: %v, spec.version %q", err, obj.Spec.Version)
	}
}
