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
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "example.com/acme/sp-velero/api/v1alpha1"
	"example.com/acme/sp-velero/internal/wiring"
)

// TestVersionsValidated: the API server refuses a ProviderConfig that
// lists a version twice for one component or a chart URL that is not an
// OCI repository, and accepts one version for two components.
func TestVersionsValidated(t *testing.T) {
	c := newClient(t, apiServer, wiring.PlatformScheme())
	const chart = "oci://registry.example.com/charts/service"
	for _, tc := range []struct {
		name     string
		versions []v1alpha1.ChartVersion
		refused  string
	}{
		{"unique", []v1alpha1.ChartVersion{{Version: "1.0", ChartURL: chart}, {Version: "1.1", ChartURL: chart}}, ""},
		{"per component", []v1alpha1.ChartVersion{{Version: "1.0", ChartURL: chart}, {Version: "1.0", Component: "other", ChartURL: chart}}, ""},
		{"twice", []v1alpha1.ChartVersion{{Version: "1.0", ChartURL: chart}, {Version: "1.0", ChartURL: chart + "-next"}}, "each version may be listed once per component"},
		{"not OCI", []v1alpha1.ChartVersion{{Version: "1.0", ChartURL: "https://charts.example.com/service"}}, "chartUrl"},
		{"with a tag", []v1alpha1.ChartVersion{{Version: "1.0", ChartURL: chart + ":1.0"}}, "chartUrl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pc := &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "validated"}, Spec: v1alpha1.ProviderConfigSpec{Versions: tc.versions}}
			err := c.Create(run(t), pc, client.DryRunAll)
			switch {
			case tc.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Errorf("want a refusal naming %q, got %v", tc.refused, err)
			}
		})
	}
}

// TestVersionLookup: a version listed for a component wins over the same
// version for every component; a version not listed is not allowed.
func TestVersionLookup(t *testing.T) {
	pc := &v1alpha1.ProviderConfig{Spec: v1alpha1.ProviderConfigSpec{Versions: []v1alpha1.ChartVersion{
		{Version: "1.0", ChartURL: "oci://r/shared"},
		{Version: "1.0", Component: "special", ChartURL: "oci://r/special", ChartVersion: "1.0.3"},
		{Version: "2.0", Component: "special", ChartURL: "oci://r/special"},
	}}}
	for _, tc := range []struct {
		component, version, chart, tag string
	}{
		{"any", "1.0", "oci://r/shared", "1.0"},
		{"special", "1.0", "oci://r/special", "1.0.3"},
		{"special", "2.0", "oci://r/special", "2.0"},
		{"any", "2.0", "", ""},
	} {
		v, ok := pc.Version(tc.component, tc.version)
		if ok != (tc.chart != "") || v.ChartURL != tc.chart || (ok && v.ChartTag() != tc.tag) {
			t.Errorf("Version(%q, %q) = %+v, %v; want %s at %s", tc.component, tc.version, v, ok, tc.chart, tc.tag)
		}
	}
	if got := strings.Join(pc.AllowedVersions("special"), ","); got != "1.0,2.0" {
		t.Errorf("AllowedVersions(special) = %s", got)
	}
}
